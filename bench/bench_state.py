"""Changelog traffic of the feed state per article: the per-key changelog (one record per written
key and batch, what the worker sent before `streams.core.state_log`) against the state log (one
record per slice and batch, the index rebuilt in memory), on the same synthetic articles run
through the real core (`feedwide.observe`, then `deduplicate`), in the worker's batches.

Also the state sizes issue #12 asks for: bytes per kept fingerprint (index in memory, and what
the log holds for it) and link-index bytes per article, over a stream longer than the horizons.

And what the worker's index costs per article (`stores`): the core's CPU on the worker's path
(`IndexWrites` per article, applied per batch) over a `DictIndex` (`NEWSCLEAN_STATE_INDEX=dict`,
the default) and over a `CompactIndex` (`compact`), alternated, best of `--rounds`, for both stages
(`observe` + `deduplicate`) and for `bench_dedup`'s exact path (`deduplicate` alone, its
articles), with the store calls per article.

    .venv/bin/python bench/bench_state.py [--articles 4000] [--batch 50] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_dedup import START, articles  # noqa: E402
from streams.core.compact_index import CompactIndex  # noqa: E402
from streams.core.dedup import DedupSettings, deduplicate  # noqa: E402
from streams.core.feedwide import FeedSettings, observe  # noqa: E402
from streams.core.models import Article, DictIndex, MemoryStore  # noqa: E402
from streams.core.state_log import IndexWrites, StateLog, rebuild  # noqa: E402
from script import print_and_write  # noqa: E402


INDEXES = {"dict": DictIndex, "compact": CompactIndex}


def spread(items: list[Article], days: float) -> list[Article]:
    """The stream stretched over `days` of event time: long enough for both horizons to expire."""
    step = days * 86400 / max(len(items), 1)
    return [Article(a.uri, a.version, START + timedelta(seconds=step * n), a.source, a.headline, a.paragraphs, a.ninjs)
            for n, a in enumerate(items)]


def traffic(stream: list[Article], batch: int, dedup: DedupSettings, feed: FeedSettings) -> dict[str, object]:
    indexes = {"clean": DictIndex(), "feed": DictIndex()}
    logs = {"clean": StateLog(), "feed": StateLog()}
    tables: dict[str, dict[str, bytes]] = {"clean": {}, "feed": {}}
    per_key = {"clean": [0, 0], "feed": [0, 0]}  # records, bytes
    logged = {"clean": [0, 0], "feed": [0, 0]}
    started = time.process_time()
    for at in range(0, len(stream), batch):
        writes = {"clean": {}, "feed": {}}
        for item in stream[at : at + batch]:
            feed_store = IndexWrites(indexes["feed"])
            findings = observe(item, feed_store, feed)
            feed_store.apply(0, writes["feed"])
            store = IndexWrites(indexes["clean"])
            deduplicate(item, store, dedup, context=findings.context)
            store.apply(0, writes["clean"])
        for stage, stage_writes in writes.items():
            per_key[stage][0] += len(stage_writes)
            per_key[stage][1] += sum(len(k) + len(v or b"") for (_, k), v in stage_writes.items())
            for _, name, value in logs[stage].log((partition, key, value) for (partition, key), value in stage_writes.items()):
                logged[stage][0] += 1
                logged[stage][1] += len(name) + len(value or b"")
                tables[stage].pop(name, None) if value is None else tables[stage].__setitem__(name, value)
    cpu = time.process_time() - started
    count = len(stream)
    out: dict[str, object] = {"articles": count, "batch": batch, "core_cpu_ms_per_article": 1000 * cpu / count}
    for stage in ("clean", "feed"):
        out[stage] = {
            "per_key": {"records_per_article": per_key[stage][0] / count, "bytes_per_article": per_key[stage][1] / count},
            "state_log": {"records_per_article": logged[stage][0] / count, "bytes_per_article": logged[stage][1] / count},
            "log_records_live": len(tables[stage]),
            "log_bytes_live": sum(len(k) + len(v) for k, v in tables[stage].items()),
        }
    out["total"] = {
        kind: {"records_per_article": sum(out[s][kind]["records_per_article"] for s in ("clean", "feed")),
               "bytes_per_article": sum(out[s][kind]["bytes_per_article"] for s in ("clean", "feed"))}
        for kind in ("per_key", "state_log")
    }
    # the index recovered from the log against the live one (source_table.rebuild says where they may differ)
    for stage in ("clean", "feed"):
        recovered = rebuild(StateLog().restore((0, k, v) for k, v in tables[stage].items()), dedup, feed)
        live = indexes[stage]
        out[stage]["recovered_keys_equal"] = set(recovered) == set(live)
        out[stage]["recovered_values_differing"] = sum(recovered[k] != v for k, v in live.items() if k in recovered)
        out[stage]["recovery_s"] = _timed(lambda: rebuild(StateLog().restore((0, k, v) for k, v in tables[stage].items()),
                                                          dedup, feed))
    out["sizes"] = sizes(indexes, tables)
    return out


class Counting(MemoryStore):
    """Counts the store calls of the core."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get(self, key: str) -> bytes | None:
        self.calls += 1
        return self.data.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.calls += 1
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.calls += 1
        self.data.pop(key, None)


def worker_pass(stream: list[Article], batch: int, dedup: DedupSettings, feed: FeedSettings, make, feed_stage: bool) -> float:
    """CPU seconds of the core over `stream` on the worker's path, each stage on its own index."""
    clean_index, feed_index = make(), make()
    started = time.process_time()
    for at in range(0, len(stream), batch):
        writes: dict = {}
        feed_writes: dict = {}
        for item in stream[at : at + batch]:
            context = None
            if feed_stage:
                feed_store = IndexWrites(feed_index)
                context = observe(item, feed_store, feed).context
                feed_store.apply(0, feed_writes)
            store = IndexWrites(clean_index)
            deduplicate(item, store, dedup, context=context)
            store.apply(0, writes)
    return time.process_time() - started


def stores(stream: list[Article], exact: list[Article], batch: int, dedup: DedupSettings, feed: FeedSettings,
           rounds: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for path, items, feed_stage in (("both_stages", stream, True), ("exact_path", exact, False)):
        best = {kind: float("inf") for kind in INDEXES}
        for _ in range(rounds):  # alternated: both see the same load on the machine
            for kind, make in INDEXES.items():
                best[kind] = min(best[kind], worker_pass(items, batch, dedup, feed, make, feed_stage))
        counting = [Counting(), Counting()]
        made = iter(counting)
        worker_pass(items, batch, dedup, feed, lambda: next(made), feed_stage)
        us = {kind: 1e6 * seconds / len(items) for kind, seconds in best.items()}
        out[path] = {**{f"{kind}_cpu_us_per_article": round(value, 1) for kind, value in us.items()},
                     "compact_over_dict": round(us["compact"] / us["dict"], 3),
                     "extra_cpu_us_per_article": round(us["compact"] - us["dict"], 1),
                     "store_calls_per_article": round(sum(c.calls for c in counting) / len(items), 1)}
    return out


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def sizes(indexes: dict[str, dict[str, bytes]], tables: dict[str, dict[str, bytes]]) -> dict[str, float]:
    clean, feed = indexes["clean"], indexes["feed"]
    fingerprints = [k for k in clean if len(k.partition(":")[2]) == 16]
    entries = sum(len(clean[k]) // 7 for k in fingerprints)
    records = [k for k in feed if k.startswith("feed:r") and "." in k]
    return {
        "kept_fingerprints": len(fingerprints),
        "index_bytes_per_fingerprint": sum(len(k) + len(clean[k]) for k in fingerprints) / max(len(fingerprints), 1),
        "index_bytes_per_fingerprint_all_keys": sum(len(k) + len(v) for k, v in clean.items()) / max(len(fingerprints), 1),
        "log_bytes_per_fingerprint_entry": sum(len(k) + len(v) for k, v in tables["clean"].items()) / max(entries, 1),
        "live_link_articles": len(records),
        "link_index_bytes_per_article": sum(len(k) + len(v) for k, v in feed.items()) / max(len(records), 1),
        "link_log_bytes_per_article": sum(len(k) + len(v) for k, v in tables["feed"].items()) / max(len(records), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=50, help="articles per worker batch")
    parser.add_argument("--days", type=float, default=10.0, help="event-time span of the stream")
    parser.add_argument("--rounds", type=int, default=5, help="passes per index for the CPU comparison")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    items = spread(articles(args.articles, near=True, seed=random.Random(15).randint(0, 999)), args.days)
    result = traffic(items, args.batch, DedupSettings(), FeedSettings())
    exact = articles(args.articles, near=False, seed=7)  # bench_dedup's exact path, its default seed
    result["stores"] = stores(items, exact, args.batch, DedupSettings(), FeedSettings(), args.rounds)
    return print_and_write(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
