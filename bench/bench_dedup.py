"""Dedup core throughput and state size, on synthetic articles (no evaluation text).

    .venv/bin/python bench/bench_dedup.py [--articles N] [--seed S]

Measures articles/s on one core for three runs over the same generated stream, in one process:
- baseline: per article, keep the first copy of each exactly equal paragraph string (a set);
- exact path: `deduplicate` on articles whose faults are exact repeats and boilerplate lines;
- near path: `deduplicate` on articles that also carry near repeats (typo, OCR slip, appended
  tag) and a repeated body split differently, so every rule of `repeats` fires.
Then bytes per kept fingerprint in the store (key + value, with and without the expiry index),
and the cost of long bodies: articles of 5,000 paragraphs (a results table, a numbered list,
distinct codes, prose; each with its body partly printed twice and a line pasted again), CPU
seconds per article for `deduplicate` and for the baseline on the same articles.
Prints a table and writes bench/out/dedup.json.

    .venv/bin/python bench/bench_dedup.py --compare /work/main

also measures another checkout's core (its `streams` package, same articles, same bench code)
in a child process right after, and reports its figures as ratios too: a before/after in one
run. `--core PATH` is that child's mode: measure PATH's core, print the JSON report only.
"""

from __future__ import annotations

import argparse
from itertools import accumulate
import json
import platform
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --core: the checkout whose core is measured (read before the imports, which it decides)
CORE = Path(sys.argv[sys.argv.index("--core") + 1]).resolve() if "--core" in sys.argv else ROOT
sys.path.insert(0, str(CORE))

from streams.core.dedup import deduplicate  # noqa: E402
from streams.core.models import Article, MemoryStore, Paragraph  # noqa: E402

try:
    from streams.core.settings import DedupSettings  # noqa: E402
except ImportError:  # a checkout from before core/settings.py
    from streams.core.dedup import DedupSettings  # type: ignore[no-redef]  # noqa: E402

# English letter frequencies (per cent), so the made-up words are about as varied as real ones
LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
FREQUENCIES = [
    12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8,
    2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1,
]
START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    return ["".join(rng.choices(LETTERS, weights=FREQUENCIES, k=rng.randint(1, 10))) for _ in range(size)]


def sentence(rng: random.Random, words: list[str], weights: list[float], count: int) -> str:
    picked = rng.choices(words, cum_weights=weights, k=count)
    picked[0] = picked[0].capitalize()
    return " ".join(picked) + "."


def paragraph(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(sentence(rng, words, weights, rng.randint(8, 25)) for _ in range(rng.randint(1, 3)))


def boilerplate_lines(rng: random.Random, source: int) -> list[str]:
    return [
        f"{rng.randint(1, 9)} min read",
        f"Subscribe to Outlet {source} for more stories every day",
        f"Copyright 2030 Outlet {source} Media. All rights reserved.",
    ]


def near_copy(rng: random.Random, text: str) -> str:
    edit = rng.choice(("typo", "ocr", "tag", "quotes"))
    if edit == "typo":
        at = rng.randrange(len(text))
        return text[:at] + "x" + text[at + 1 :]
    if edit == "ocr":
        return text.replace("I", "l", 1) if "I" in text else text[:-1] + "l."
    if edit == "tag":
        return text + " (Wire)"
    return text.replace(".", "\u201d.", 1)


def articles(count: int, near: bool, seed: int) -> list[Article]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    # Zipf's law, as in English: the r-th most common word has weight 1/r
    weights = list(accumulate(1 / rank for rank in range(1, len(words) + 1)))
    out: list[Article] = []
    for number in range(count):
        source = number % 8
        body = [paragraph(rng, words, weights) for _ in range(rng.randint(5, 9))]
        fault = rng.random()
        if fault < 0.15:
            body += body[1:]  # the body printed twice
        elif fault < 0.3:
            body.append(rng.choice(body))
        if near:
            body.insert(rng.randint(1, len(body)), near_copy(rng, rng.choice(body)))
            if rng.random() < 0.3:
                merged = body[0] + " " + body[1]
                body.append(merged)  # a repeated body with two paragraphs merged
        if rng.random() < 0.5:
            lines = boilerplate_lines(random.Random(source), source)
            body = [lines[0], *body, *lines[1:]]
        paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(body))
        when = START + timedelta(seconds=30 * number)
        out.append(
            Article(f"urn:bench:{seed}:{number}", "1", when, f"Outlet {source}", "Headline", paragraphs, {})
        )
    return out


def long_bodies(paragraphs: int, seed: int) -> dict[str, Article]:
    """One article per kind of long body, each with its real faults."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(accumulate(1 / rank for rank in range(1, len(words) + 1)))
    places = [w.capitalize() for w in words[:300]]
    kinds = {
        "results table": lambda n: f"{rng.choice(places)} {rng.choice(places)}: {rng.choice(places)} {rng.randint(1000, 40000):,}",
        "numbered list": lambda n: f"Item {n}: {words[n % 50]} delivered to the depot",
        "distinct codes": lambda n: f"{n:05d}-{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ', k=4))}",
        "prose": lambda n: paragraph(rng, words, weights),
    }
    out = {}
    for number, (kind, make) in enumerate(kinds.items()):
        body = [make(n) for n in range(paragraphs - paragraphs // 10)]
        body += body[: paragraphs // 10 - 1] + [body[len(body) // 2]]  # a stretch printed twice, a line pasted again
        texts = tuple(Paragraph(index, text) for index, text in enumerate(body))
        out[kind] = Article(f"urn:bench:long:{number}", "1", START, "Long Outlet", "Headline", texts, {})
    return out


def long_body_costs(settings: DedupSettings, paragraphs: int, seed: int) -> dict[str, dict[str, float]]:
    costs = {}
    for kind, article in long_bodies(paragraphs, seed).items():
        started = time.process_time()
        result = deduplicate(article, MemoryStore(), settings)
        spent = time.process_time() - started
        started = time.process_time()
        baseline(article)
        base = time.process_time() - started
        costs[kind] = {"cpu_seconds": round(spent, 4), "baseline_cpu_seconds": round(base, 5),
                       "ratio_to_baseline": round(spent / max(base, 1e-9), 1), "removed": len(result.removed)}
    return costs


def baseline(article: Article) -> tuple[Paragraph, ...]:
    seen: set[str] = set()
    kept = []
    for paragraph in article.paragraphs:
        if paragraph.text not in seen:
            seen.add(paragraph.text)
            kept.append(paragraph)
    return tuple(kept)


def rate(run, items: list[Article]) -> float:
    # CPU time of this process: one core's throughput, whatever else shares the machine
    started = time.process_time()
    for article in items:
        run(article)
    return len(items) / (time.process_time() - started)


def best_of(repeats: int, make_run, items: list[Article]) -> float:
    return max(rate(make_run(), items) for _ in range(repeats))


def state_size(store: MemoryStore) -> dict[str, float]:
    fingerprint_keys = [k for k in store.data if len(k.partition(":")[2]) == 16]  # {src}:{fp:016x}
    fingerprint_bytes = [len(k) + len(store.data[k]) for k in fingerprint_keys]
    total = sum(len(k) + len(v) for k, v in store.data.items())
    return {
        "fingerprints": len(fingerprint_keys),
        "bytes_per_fingerprint": sum(fingerprint_bytes) / len(fingerprint_keys),
        "max_bytes_per_fingerprint": max(fingerprint_bytes),
        "bytes_per_fingerprint_with_index": total / len(fingerprint_keys),
        "store_keys": len(store.data),
        "store_bytes": total,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="runs per path; the best is reported")
    parser.add_argument("--long-paragraphs", type=int, default=5000, help="paragraphs of each long body")
    parser.add_argument("--compare", type=Path, help="another checkout whose core is measured after this one")
    parser.add_argument("--core", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = DedupSettings()
    exact_items = articles(args.articles, near=False, seed=args.seed)
    near_items = articles(args.articles, near=True, seed=args.seed + 1)

    def deduper():
        store = MemoryStore()
        return lambda article: deduplicate(article, store, settings)

    results = {
        "baseline_exact_set": best_of(args.repeats, lambda: baseline, exact_items),
        "exact_path": best_of(args.repeats, deduper, exact_items),
        "near_path": best_of(args.repeats, deduper, near_items),
    }
    store = MemoryStore()
    removed = sum(len(deduplicate(article, store, settings).removed) for article in exact_items)
    size = state_size(store)
    paragraphs = sum(len(a.paragraphs) for a in exact_items) / len(exact_items)
    long_costs = long_body_costs(settings, args.long_paragraphs, args.seed)
    report = {
        "articles": args.articles,
        "paragraphs_per_article": round(paragraphs, 2),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "articles_per_second": {k: round(v) for k, v in results.items()},
        "ratio_to_baseline": {k: round(v / results["baseline_exact_set"], 4) for k, v in results.items()},
        "removed_on_exact_path": removed,
        "state": {k: round(v, 2) for k, v in size.items()},
        "long_bodies": {"paragraphs": args.long_paragraphs, **long_costs},
        "targets": {"exact_path_articles_per_second": 10_000, "bytes_per_fingerprint": 64,
                    "long_body_cpu_seconds": 1.0},
    }
    if args.core:
        print(json.dumps(report))
        return 0
    if args.compare:
        report["compared"] = compare(args, report)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "dedup.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{args.articles} articles, {paragraphs:.1f} paragraphs each, Python {report['python']}")
    print(f"{'path':<22}{'articles/s':>12}{'x baseline':>12}")
    for name, value in results.items():
        print(f"{name:<22}{value:>12,.0f}{value / results['baseline_exact_set']:>12.3f}")
    print(
        f"state: {size['fingerprints']} fingerprints, {size['bytes_per_fingerprint']:.1f} B each "
        f"(max {size['max_bytes_per_fingerprint']}), {size['bytes_per_fingerprint_with_index']:.1f} B "
        f"with the expiry index; targets >= 10,000 articles/s exact, <= 64 B"
    )
    print(f"long bodies of {args.long_paragraphs} paragraphs (target < 1 s CPU each):")
    for kind, cost in long_costs.items():
        print(f"  {kind:<16}{cost['cpu_seconds']:>8.3f} s CPU ({cost['ratio_to_baseline']:.0f} x baseline), {cost['removed']} removed")
    if args.compare:
        other = report["compared"]
        print(f"against {args.compare} (its core, measured right after; x: this core's articles/s over its own,")
        print("as measured and with each normalised by the baseline of its own run):")
        for name in ("exact_path", "near_path"):
            print(f"  {name:<20}{other['articles_per_second'][name]:>10,} articles/s there, "
                  f"x {other['speedup_raw'][name]:.2f} here (x {other['speedup'][name]:.2f} normalised)")
        for kind, cost in other["long_bodies"].items():
            if isinstance(cost, dict):
                print(f"  {kind:<20}{cost['cpu_seconds']:>10.3f} s CPU there, {cost['removed']} removed")
    return 0


def compare(args: argparse.Namespace, mine: dict) -> dict:
    """Run this bench on another checkout's core in a child process; add this run's speedup."""
    command = [sys.executable, __file__, "--core", str(args.compare.resolve()), "--articles", str(args.articles),
               "--seed", str(args.seed), "--repeats", str(args.repeats), "--long-paragraphs", str(args.long_paragraphs)]
    other = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    paths = ("exact_path", "near_path")
    other["speedup"] = {name: round(mine["ratio_to_baseline"][name] / other["ratio_to_baseline"][name], 3) for name in paths}
    other["speedup_raw"] = {
        name: round(mine["articles_per_second"][name] / other["articles_per_second"][name], 3) for name in paths
    }
    return other


if __name__ == "__main__":
    sys.exit(main())
