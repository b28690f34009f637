"""Dedup quality on an evaluation set, whole and split by source into held-out halves.

    .venv/bin/python bench/eval_dedup.py [--eval ../shared/eval/dev]

The set's texts are read where they are (never copied into the repository); scores come from the
set's own `score.py`. Runs, each cold (one live pass) and warm (primed with the same file):
- `all`: the whole set (the same numbers as `newsclean clean` + `score.py`);
- `half A` / `half B`: the sources sorted by name and dealt alternately into two halves. The
  mechanisms have no parameter fitted to data; each half is scored on its own, so a rule that
  fits one half's strings shows up as a gap between the halves (feed-wide evidence then sees
  only the half's own sources).
Prints one line per run and the recall by fault, and writes bench/out/eval_dedup.json.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.core.models import MemoryStore  # noqa: E402
from streams.core.settings import PipelineSettings  # noqa: E402
from streams.offline import clean_file, prime  # noqa: E402


def run_product(raw_lines: list[bytes], primed: bool) -> list[bytes]:
    """The offline mode's own path (feed stage, dedup, envelope), NER off; warm = primed with the same lines."""
    settings, store, out = PipelineSettings(), MemoryStore(), io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.jsonl"
        path.write_bytes(b"\n".join(raw_lines) + b"\n")
        if primed:
            prime([str(path)], store, settings)
        clean_file(str(path), out, None, settings, None, store)
    return out.getvalue().splitlines()


def score(eval_dir: Path, gold_lines: list[bytes], output: list[bytes]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        gold, out = Path(tmp) / "gold.jsonl", Path(tmp) / "out.jsonl"
        gold.write_bytes(b"\n".join(gold_lines) + b"\n")
        out.write_bytes(b"\n".join(output) + b"\n")
        done = subprocess.run(
            [sys.executable, str(eval_dir.parent / "score.py"), "dedup", "--gold", str(gold), "--output", str(out), "--json"],
            capture_output=True, check=True,
        )
    return json.loads(done.stdout)


def summary(result: dict) -> dict:
    controls = result["false_removals"]["by_group"]
    return {
        "P": round(result["removal"]["precision"], 3),
        "R": round(result["removal"]["recall"], 3),
        "exact": round(result["exact"]["rate"], 3),
        "false_in_controls": {g: controls[g]["false_removals"] for g in ("syndicated", "update", "background_reuse") if g in controls},
        "recall_by_fault": {k: round(v["recall"], 3) for k, v in result["recall_by_fault"].items()},
        "missed_by_fault": {k: v["gold"] - v["removed"] for k, v in result["recall_by_fault"].items() if v["gold"] - v["removed"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval" / "dev")
    args = parser.parse_args()
    raw_lines = [line for line in (args.eval / "raw.jsonl").read_bytes().splitlines() if line.strip()]
    gold_lines = [line for line in (args.eval / "gold.jsonl").read_bytes().splitlines() if line.strip()]
    sources_of = [orjson.loads(line)["source"] for line in gold_lines]
    assert len(raw_lines) == len(gold_lines)
    sources = sorted(set(sources_of))
    halves = {"half A": set(sources[0::2]), "half B": set(sources[1::2])}
    report: dict[str, dict] = {}
    for name, chosen in (("all", set(sources)), *halves.items()):
        picked = [i for i, source in enumerate(sources_of) if source in chosen]
        subset, gold = [raw_lines[i] for i in picked], [gold_lines[i] for i in picked]
        for mode, primed in (("cold", False), ("warm", True)):
            result = summary(score(args.eval, gold, run_product(subset, primed)))
            report[f"{name} {mode}"] = {"sources": sorted(chosen), **result}
            print(f"{name + ' ' + mode:<24} P={result['P']:.3f} R={result['R']:.3f} exact={result['exact']:.3f} "
                  f"controls={result['false_in_controls']} missed={result['missed_by_fault']}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_dedup.json").write_text(json.dumps(report, indent=2) + "\n")
    print("halves:", {name: sorted(chosen) for name, chosen in halves.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
