"""CPU per article of the worker's input path — decode, validate, convert, in `route` and again in
`clean` — before and after issue 11, both measured in the same run on the same messages.

Before: the code of commit BASELINE (streams/core/ninjs.py read from git): `route` decodes with
`json.loads` and a duplicate-key hook and validates with `jsonschema`; `clean` decodes the same way
again (`checked` only skipped the depth scan and validation). After: `route` decodes once with the
checks and validates with jsonschema-rs against the item's own version; `clean` parses the
checked bytes with orjson and converts without validating.

    .venv/bin/python bench/bench_decode.py [../shared/eval/dev/raw.jsonl] [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import best_cpu_us  # noqa: E402
from streams.core import ninjs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev" / "raw.jsonl"
BASELINE = "3f83c0c"  # main before issue 11


def baseline_module() -> types.ModuleType:
    source = subprocess.check_output(["git", "show", f"{BASELINE}:streams/core/ninjs.py"], cwd=ROOT, text=True)
    module = types.ModuleType("streams.core.baseline_ninjs")
    module.__package__ = "streams.core"
    module.__file__ = str(ROOT / "streams" / "core" / "ninjs.py")  # its SCHEMAS: <root>/schemas (links to the package data)
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, "baseline_ninjs.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=str(DEV))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    messages = [line for line in Path(args.path).read_bytes().splitlines() if line.strip()]
    old = baseline_module()

    def before_route(raw: bytes) -> None:
        old.parse_article(old.decode(raw))

    def before_clean(raw: bytes) -> None:
        old.parse_article(old.decode(raw, checked=True), checked=True)

    def after_route(raw: bytes) -> None:
        ninjs.read_item(ninjs.decode(raw))

    def after_clean(raw: bytes) -> None:
        ninjs.to_article(ninjs.read_item(ninjs.decode(raw, checked=True), checked=True))

    for step in (before_route, before_clean, after_route, after_clean):
        step(messages[0])  # schemas loaded and validators built outside the measurement
    result: dict[str, float | int] = {"articles": len(messages)}
    for name, step in (("before_route", before_route), ("before_clean", before_clean),
                       ("after_route", after_route), ("after_clean", after_clean)):
        result[f"{name}_us"] = round(best_cpu_us(step, messages, args.rounds), 2)
    result["before_us"] = round(result["before_route_us"] + result["before_clean_us"], 2)
    result["after_us"] = round(result["after_route_us"] + result["after_clean_us"], 2)
    result["ratio_before_over_after"] = round(result["before_us"] / result["after_us"], 2)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
