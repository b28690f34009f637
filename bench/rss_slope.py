"""Memory over a long run: the worker's RSS (with its NER processes) while it works through a
stream, NER off and on, and the slope of RSS over the run's second half — per 1,000 articles and
per minute — beside the slope of the feed-state table's keys, which legitimately grow until the
dedup horizon expires them.

    .venv/bin/python bench/rss_slope.py [--messages 20000] [--ner-messages 3000] [--output FILE]

A flat RSS is a slope near 0 MiB per 1,000 articles once the caches and the table have filled.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from streams.core.dedup import DedupSettings  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
from script import run_against_broker  # noqa: E402


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs."""
    if len(xs) < 3:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else None


def second_half(series: list[dict]) -> dict:
    rows = [r for r in series if r["rss_mib"]]
    half = rows[len(rows) // 2:]
    articles = [r["articles_out"] for r in half]
    per_article = slope(articles, [r["rss_mib"] for r in half])
    per_second = slope([r["t"] for r in half], [r["rss_mib"] for r in half])
    keys = slope(articles, [r["table_keys"] for r in half])
    return {
        "rss_mib_start_of_half": half[0]["rss_mib"] if half else None,
        "rss_mib_last": half[-1]["rss_mib"] if half else None,
        "articles_in_half": (articles[-1] - articles[0]) if half else 0,
        "rss_mib_per_1000_articles": round(1000 * per_article, 3) if per_article is not None else None,
        "rss_mib_per_minute": round(60 * per_second, 3) if per_second is not None else None,
        "table_keys_per_1000_articles": round(1000 * keys, 1) if keys is not None else None,
    }


async def run(args) -> dict:
    faulty, _ = feed.build_streams(args.messages, DedupSettings().horizon_days)
    tmp = Path(tempfile.mkdtemp(prefix="nc-rss-"))
    out = {}
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        for name, stream, ner in (("ner_off", faulty, False), ("ner_on", faulty.head(args.ner_messages), True)):
            step = await ks.throughput(broker, f"rss{name.replace('_', '')}", stream.messages, workers=1, ner=ner,
                                       partitions=2, tmp=tmp, timeout=300 + len(stream.messages) / 3)
            out[name] = {"articles": step["count"], "rate": round(step["rate"], 1), **step["memory"],
                         "second_half": second_half(step["memory_series"]), "series": step["memory_series"]}
            print(name, json.dumps({k: v for k, v in out[name].items() if k != "series"}), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--ner-messages", type=int, default=3_000, help="NER on: the first N (later copies repeat texts: the paragraph cache answers them)")
    return run_against_broker(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
