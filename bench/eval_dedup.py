"""Dedup quality on an evaluation set, whole and split by source into held-out halves.

    .venv/bin/python bench/eval_dedup.py [--eval ../shared/eval/dev]

The set's texts are read where they are (never copied into the repository); scores come from the
set's own `score.py`. Runs, each cold (one live pass) and warm (primed with the same file):
- `all`: the whole set (the same numbers as `newsclean clean` + `score.py`);
- `half A` / `half B`: the sources sorted by name and dealt alternately into two halves. The
  mechanisms have no parameter fitted to data; each half is scored on its own, so a rule that
  fits one half's strings shows up as a gap between the halves;
- `feed-wide oracle`: as `all`, but every exact or template fingerprint that at least two other
  sources carried earlier (within the horizon) counts as one more earlier article
  (`find_boilerplate(feedwide=...)`). It estimates what the feed-wide stage (another module)
  can recover of the cold gap; it is not how the product runs.
Prints one line per run and the recall by fault, and writes bench/out/eval_dedup.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.core.boilerplate import find_boilerplate  # noqa: E402
from streams.core.dedup import DedupSettings, deduplicate  # noqa: E402
from streams.core.fingerprint import key_paragraph  # noqa: E402
from streams.core.models import MemoryStore  # noqa: E402
from streams.core.ninjs import decode, parse_article  # noqa: E402
from streams.core.repeats import find_repeats  # noqa: E402
from streams.core.templates import template_keys  # noqa: E402


def articles(raw: Path):
    return [parse_article(decode(line)) for line in raw.read_bytes().splitlines() if line.strip()]


def record(article, kept) -> bytes:
    body = "\n\n".join(paragraph.text for paragraph in kept)
    value = {"uri": article.uri, "version": article.version,
             "bodies": [{"role": "main", "contentType": "text/plain", "value": body}]}
    return orjson.dumps({"article": value})


def run_plain(items, primed: bool) -> list[bytes]:
    settings, store = DedupSettings(), MemoryStore()
    if primed:
        for article in items:
            deduplicate(article, store, settings, priming=True)
    return [record(article, deduplicate(article, store, settings).kept) for article in items]


def run_feedwide(items, primed: bool) -> list[bytes]:
    """`deduplicate` with a feed-wide oracle: fingerprints that >= 2 other sources carried earlier."""
    settings, store = DedupSettings(), MemoryStore()
    carriers: dict[int, dict[str, int]] = defaultdict(dict)  # fingerprint -> source -> last seconds
    history = [*items] if primed else []

    def fingerprints(article) -> set[int]:
        found = set()
        for paragraph in article.paragraphs:
            key = key_paragraph(paragraph.text)
            if key.normalised:
                found.add(key.fingerprint)
                found.update(fingerprint for fingerprint, _ in template_keys(paragraph.text))
        return found

    def learn(article) -> None:
        when = int(article.event_time.timestamp())
        for fingerprint in fingerprints(article):
            carriers[fingerprint][article.source] = when

    def one(article, priming: bool):
        when = int(article.event_time.timestamp())
        feedwide = {
            fingerprint for fingerprint in fingerprints(article)
            if sum(1 for source, seen in carriers.get(fingerprint, {}).items()
                   if source != article.source and when - settings.horizon_seconds <= seen
                   and (seen <= when or priming or primed)) >= 2
        }
        paragraphs = article.paragraphs
        keys = [key_paragraph(paragraph.text) for paragraph in paragraphs]
        removed = find_repeats(paragraphs, keys, settings)
        firsts = [p for p, key in enumerate(keys) if key.normalised and p not in removed]
        removed.update(find_boilerplate(article, paragraphs, keys, firsts, store, settings,
                                        priming=priming, feedwide=feedwide))
        return [paragraph for position, paragraph in enumerate(paragraphs) if position not in removed]

    for article in history:
        learn(article)
        one(article, priming=True)
    out = []
    for article in items:
        kept = one(article, priming=False)
        if not primed:
            learn(article)
        out.append(record(article, kept))
    return out


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
    items = articles(args.eval / "raw.jsonl")
    sources = sorted({article.source for article in items})
    halves = {"half A": set(sources[0::2]), "half B": set(sources[1::2])}
    report: dict[str, dict] = {}
    runs = [("all", set(sources), run_plain), *((name, chosen, run_plain) for name, chosen in halves.items()),
            ("feed-wide oracle", set(sources), run_feedwide)]
    for name, chosen, runner in runs:
        picked = [i for i, article in enumerate(items) if article.source in chosen]
        subset, gold = [items[i] for i in picked], [gold_lines[i] for i in picked]
        assert len(raw_lines) == len(gold_lines)
        for mode, primed in (("cold", False), ("warm", True)):
            result = summary(score(args.eval, gold, runner(subset, primed)))
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
