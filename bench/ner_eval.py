"""Entity quality on dev-ner by document halves, with model spans cached on disk so that rule
variants are scored without re-running spaCy.

    .venv/bin/python bench/ner_eval.py [--model NAME_OR_DIR] [--cache FILE] [--ablate]

Halves (fixed): a document is in half `odd` or `even` by the number at the end of its uri
(`urn:conll2003:eng-testa:NNN`). A mechanism designed while reading one half's errors is judged
by its gain on the other half. `--ablate` switches each mechanism of `streams.core.rules` off in
turn and prints the F1 change on both halves (bench/README.md has the table).

The cache holds model spans keyed by a hash of the text the model read, in /tmp only: the eval
texts are never copied into the repository. Scoring is the logic of shared/eval/score.py `ner`
(imported from there).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
from pathlib import Path

import orjson
import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.core import rules  # noqa: E402
from streams.core.settings import PipelineSettings  # noqa: E402
from streams.nlp.extractor import load_extractor  # noqa: E402
from streams.nlp.settings import NerSettings  # noqa: E402
from streams.offline import clean_file  # noqa: E402

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
if not EVAL.exists():
    EVAL = Path("/work/shared/eval")
RAW, GOLD = EVAL / "dev-ner" / "raw.jsonl", EVAL / "dev-ner" / "gold.jsonl"


def half_of(uri: str) -> str:
    return "odd" if int(uri.rsplit(":", 1)[1]) % 2 else "even"


class CachedModel:
    """Wraps an extractor's `_run_model`: texts seen before come from the disk cache."""

    def __init__(self, extractor, path: Path) -> None:
        self.run = extractor._run_model
        self.path = path
        self.spans: dict[str, list] = json.loads(path.read_text()) if path.exists() else {}
        self.dirty = False
        extractor._run_model = self

    def __call__(self, texts):
        keys = [xxhash.xxh3_128_hexdigest(t.encode("utf-8", "surrogatepass")) for t in texts]
        todo = [(k, t) for k, t in zip(keys, texts) if k not in self.spans]
        if todo:
            for (key, _), spans in zip(todo, self.run([t for _, t in todo])):
                self.spans[key] = [list(s) for s in spans]
            self.dirty = True
        return [tuple(tuple(s) for s in self.spans[k]) for k in keys]

    def save(self) -> None:
        if self.dirty:
            self.path.write_text(json.dumps(self.spans))


def _scorer():
    spec = importlib.util.spec_from_file_location("conll_score", EVAL / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(extractor) -> list[dict]:
    out = io.BytesIO()
    extractor.cache.entries.clear()
    clean_file(str(RAW), out, None, PipelineSettings(), extractor)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def score(records: list[dict], scorer, tmp: Path) -> dict[str, dict]:
    """F1 per half and overall (score.py's numbers, computed on filtered files)."""
    gold = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    result = {}
    for half in ("odd", "even", "all"):
        keep = (lambda uri: True) if half == "all" else (lambda uri, h=half: half_of(uri) == h)
        g, o = tmp / f"gold-{half}.jsonl", tmp / f"out-{half}.jsonl"
        g.write_text("".join(json.dumps(r) + "\n" for r in gold if keep(r["uri"])))
        o.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records if keep(r["article"]["uri"])))
        res = scorer.score_ner(str(g), str(o))
        result[half] = res
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=NerSettings().model, help="spaCy package or model directory")
    parser.add_argument("--cache", type=Path, help="default: /tmp/newsclean-ner-spans-<model>.json")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp/newsclean-ner-eval"))
    parser.add_argument("--ablate", action="store_true")
    parser.add_argument("--dump", type=Path, help="write the envelopes of the full run here")
    args = parser.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    if args.cache is None:  # spans depend on the model: one cache per model
        tag = xxhash.xxh3_64_hexdigest(args.model.encode())
        args.cache = Path(f"/tmp/newsclean-ner-spans-{tag}.json")
    scorer = _scorer()
    extractor = load_extractor(NerSettings(model=args.model, processes=0))
    model = CachedModel(extractor, args.cache)

    def f1s() -> dict[str, float]:
        records = run(extractor)
        model.save()
        res = score(records, scorer, args.tmp)
        return {h: res[h]["micro"]["f1"] for h in res}, records, res

    full, records, res = f1s()
    for designed, held_out in (("odd", "even"), ("even", "odd")):
        # The system as designed on one half alone: the other half's mechanisms off.
        rules.disabled.update(n for n, half in rules.DESIGNED_ON.items() if half == held_out)
        try:
            alone, _, _ = f1s()
        finally:
            rules.disabled.clear()
        print(f"designed on {designed}, measured on {held_out} (held out): F1 {alone[held_out]:.4f}"
              f" (on {designed}: {alone[designed]:.4f})")
    if args.dump:
        args.dump.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    print("all mechanisms:", {h: round(v, 4) for h, v in full.items()},
          "offset_errors:", res["all"]["offsets"]["errors"])
    if not args.ablate:
        return
    rules.disabled.update(rules.MECHANISMS)
    try:
        raw, _, _ = f1s()
    finally:
        rules.disabled.clear()
    print("model alone (every mechanism off):", {h: round(v, 4) for h, v in raw.items()})
    print(f"{'gain of (full - without)':32} {'designed on':>11} {'odd':>8} {'even':>8} {'all':>8}")
    for name in rules.MECHANISMS:
        rules.disabled.add(name)
        try:
            off, _, _ = f1s()
        finally:
            rules.disabled.discard(name)
        print(f"{name:32} {rules.DESIGNED_ON[name]:>11} " + " ".join(f"{full[h] - off[h]:+8.4f}" for h in ("odd", "even", "all")))


if __name__ == "__main__":
    main()
