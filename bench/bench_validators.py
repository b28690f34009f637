"""jsonschema vs jsonschema-rs: µs per article to validate the dev set against ninjs 3.1 with the
format checks on (date-time, uri), both measured in the same run. The choice in README "Input
formats" rests on this ratio.

    .venv/bin/python bench/bench_validators.py [../shared/eval/dev/raw.jsonl] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jsonschema_rs
import orjson
from jsonschema import FormatChecker, validators

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_cpu_us  # noqa: E402
from streams import schemas  # noqa: E402

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "dev" / "raw.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=str(DEV))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    docs = [orjson.loads(line) for line in Path(args.path).read_bytes().splitlines() if line.strip()]
    schema = schemas.load(schemas.ninjs_name("3.1"))
    py = validators.validator_for(schema)(schema, registry=schemas.registry(), format_checker=FormatChecker())
    geo = schemas.load(schemas.GEOJSON)
    rs = jsonschema_rs.validator_for(schema, validate_formats=True,
                                     registry=jsonschema_rs.Registry([(schemas.schema_id(geo), geo)]))
    # the two must agree before their speed means anything
    probes = [{"uri": "not a uri at all"}, {"uri": "urn:x", "embargoedUntil": "soon"}, {"uri": "urn:x", "versionCreated": "2020-01-01T00:00:00Z"}]
    assert [py.is_valid(d) for d in docs + probes] == [rs.is_valid(d) for d in docs + probes]
    results = {"articles": len(docs), "jsonschema_us": best_cpu_us(lambda d: next(py.iter_errors(d), None), docs, args.rounds),
               "jsonschema_rs_us": best_cpu_us(lambda d: next(rs.iter_errors(d), None), docs, args.rounds)}
    results["ratio"] = results["jsonschema_us"] / results["jsonschema_rs_us"]
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
