"""The feed state of a large feed, by simulation (issue #15 item 6): a newsroom aggregator's rate
(100,000 articles a day) over the whole dedup horizon (7 days), and the feed stage's state over
its own horizon.

Synthetic articles with synthetic fingerprints at that rate become the records the core persists
— `source_table.pack_index_record` per article and source (about 20 exact fingerprints, a share of
template keys, the source's furniture lines in half its articles), `links.Record` per article for
the feed stage (32 bands, a 128-shingle sample, its short lines) — written in worker batches
through `state_log.StateLog`, exactly what the changelog topics would hold after compaction. A
fresh process then recovers the state from those serialized records (read from a file, not from
the broker: see bench/README.md) with the worker's code (`StateLog.restore` + `rebuild`), and
reports the time it took and its RSS.

    .venv/bin/python bench/simulate_feed_state.py [--per-day 100000] [--days 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streams.core.source_table import article_id, pack_index_record, source_prefix  # noqa: E402
from streams.core.dedup import DedupSettings  # noqa: E402
from streams.core.feedwide import FeedSettings  # noqa: E402
from streams.core.links import Record, source_hash, uri_hash  # noqa: E402
from streams.core.compact_index import CompactIndex  # noqa: E402
from streams.core.models import DictIndex  # noqa: E402
from streams.core.state_log import StateLog, rebuild_into  # noqa: E402
from script import print_and_write  # noqa: E402

INDEXES = {"compact": CompactIndex, "dict": DictIndex}  # streams.worker.state.INDEXES

START = 1_900_000_000  # event seconds of the first article
_LEN = struct.Struct("<II")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build(per_day: int, days: float, feed_hours: float, sources: int, batch: int, seed: int):
    """The log records of both stages' state at the end of `days` of the feed (live ones only)."""
    rng = random.Random(seed)
    dedup, feed = DedupSettings(), FeedSettings()
    names = [f"Outlet {n}" for n in range(sources)]
    weights = [1 / (rank + 1) for rank in range(sources)]  # a few big outlets, a long tail
    furniture = {name: [rng.getrandbits(64) for _ in range(6)] for name in names}
    lines = {name: [rng.getrandbits(64) for _ in range(3)] for name in names}
    count = int(per_day * days)
    step = 86400 / per_day
    feed_from = count - int(per_day * feed_hours / 24)
    logs = {"clean": StateLog(), "feed": StateLog()}
    tables: dict[str, dict[str, bytes]] = {"clean": {}, "feed": {}}
    numbers: dict[str, int] = {}
    watermark: dict[str, int] = {}
    sent = {"clean": [0, 0], "feed": [0, 0]}
    entries = 0
    chosen = rng.choices(names, weights=weights, k=count)
    for at in range(0, count, batch):
        writes: dict[str, dict[str, bytes]] = {"clean": {}, "feed": {}}
        for n in range(at, min(at + batch, count)):
            seconds = START + int(n * step)
            name = chosen[n]
            prefix = source_prefix(name)
            uri = f"urn:sim:{n}"
            fingerprints = [rng.getrandbits(64) for _ in range(rng.randint(12, 28))]
            fingerprints += [rng.getrandbits(64) for _ in range(len(fingerprints) // 5)]  # template keys
            if rng.random() < 0.5:
                fingerprints += furniture[name]
            edges = set(fingerprints[:2] + fingerprints[-2:])
            bucket = seconds // dedup.bucket_seconds
            slot = f"{prefix}:t{bucket}"
            number = numbers.get(slot, 0)
            numbers[slot] = number + 1
            writes["clean"][f"{slot}.{number}"] = pack_index_record((seconds, article_id(uri), 0), fingerprints, edges)
            watermark[prefix] = seconds
            writes["clean"][f"{prefix}:meta"] = struct.pack("<III", seconds, bucket, bucket)
            entries += len(fingerprints)
            if n >= feed_from:
                feed_bucket = seconds // feed.bucket_seconds
                slot = f"feed:r{feed_bucket}"
                number = numbers.get(slot, 0)
                numbers[slot] = number + 1
                bands = tuple((band, rng.getrandbits(32)) for band in range(32))
                sample = tuple(sorted(rng.getrandbits(32) for _ in range(feed.link_sketch_size)))
                record = Record(seconds, uri_hash(uri), source_hash(name), uri, bands, sample, False,
                                tuple(lines[name][: rng.randint(0, 3)]))
                writes["feed"][f"{slot}.{number}"] = record.pack()
                writes["feed"]["feed:meta"] = struct.pack("<III", seconds, feed_bucket, feed_bucket)
        for stage, stage_writes in writes.items():
            for _, record_name, value in logs[stage].log((0, k, v) for k, v in stage_writes.items()):
                sent[stage][0] += 1
                sent[stage][1] += len(record_name) + len(value or b"")
                if value is None:
                    tables[stage].pop(record_name, None)
                else:
                    tables[stage][record_name] = value
    return tables, sent, count, count - feed_from, entries


def write_records(path: Path, table: dict[str, bytes]) -> None:
    with path.open("wb") as out:
        for name, value in table.items():
            raw = name.encode()
            out.write(_LEN.pack(len(raw), len(value)))
            out.write(raw)
            out.write(value)


def index_sizes(state: CompactIndex | DictIndex) -> dict[str, int]:
    """Where a compact index's bytes are: its packed tables, and the keys it keeps in a dict."""
    if not isinstance(state, CompactIndex):
        return {}
    tables = [*state.fingerprint_tables.values(), *state.band_tables.values()]
    return {"table_keys": sum(map(len, tables)), "table_bytes": sum(8 * len(t.slots) + len(t.seen) for t in tables),
            "table_long_values": sum(len(t.long) for t in tables), "dict_keys": len(state.other)}


def read_records(path: Path) -> list[tuple[int, str, bytes]]:
    data = path.read_bytes()
    records, at = [], 0
    while at < len(data):
        size, value_size = _LEN.unpack_from(data, at)
        at += _LEN.size
        name = data[at : at + size].decode()
        at += size
        records.append((0, name, data[at : at + value_size]))
        at += value_size
    return records


def recover(paths: list[Path], feed_hours: float, index: str) -> dict[str, object]:
    """In a fresh process, one stage after the other as one worker would: read a stage's log
    records (kept, as the worker's `memory://` table keeps them), restore, rebuild into a new
    index of kind `index`; time, and RSS after all and at its peak (recovery included)."""
    before = rss_bytes()
    out: dict[str, object] = {}
    kept = []
    for path in paths:
        started, cpu = time.perf_counter(), time.process_time()
        records = read_records(path)
        read = time.perf_counter() - started
        state = INDEXES[index]()
        rebuild_into(state, StateLog().restore(records), DedupSettings(), FeedSettings(feed_horizon_hours=feed_hours))
        # CPU time is what a core would take; wall time adds whatever else held the cores
        out[path.stem.rpartition("-")[2]] = {
            "recovery_s": round(time.perf_counter() - started, 2), "recovery_cpu_s": round(time.process_time() - cpu, 2),
            "read_s": round(read, 2), "load_average": os.getloadavg()[0], "index_keys": len(state), **index_sizes(state)}
        kept.append((records, state))
    out["rss_after_recovery_bytes"] = rss_bytes()
    out["rss_growth_bytes"] = rss_bytes() - before  # the index and the log records a table holds
    out["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=7.0, help="event time covered: the dedup horizon")
    parser.add_argument("--feed-hours", type=float, default=FeedSettings().feed_horizon_hours,
                        help="event time the feed stage's link index covers (its horizon)")
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--indexes", default="compact,dict", help="index kinds to recover into (NEWSCLEAN_STATE_INDEX)")
    parser.add_argument("--recover", help=argparse.SUPPRESS)  # the child's side: comma-separated record files
    parser.add_argument("--index", default="compact", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.recover:
        print(json.dumps(recover([Path(p) for p in args.recover.split(",")], args.feed_hours, args.index)))
        return 0
    started = time.perf_counter()
    tables, sent, count, feed_count, entries = build(args.per_day, args.days, args.feed_hours, args.sources,
                                                     args.batch, 15)
    built = time.perf_counter() - started
    result: dict[str, object] = {"per_day": args.per_day, "days": args.days, "feed_hours": args.feed_hours,
                                 "sources": args.sources, "batch": args.batch, "articles": count,
                                 "feed_articles": feed_count, "fingerprint_entries": entries,
                                 "build_s": round(built, 1)}
    paths = {}
    for stage, table in tables.items():
        paths[stage] = Path(f"/tmp/newsclean-sim-{os.getpid()}-{stage}.bin")
        write_records(paths[stage], table)
        result[stage] = {"log_records": len(table), "log_bytes": sum(len(k) + len(v) for k, v in table.items()),
                         "records_sent_per_article": sent[stage][0] / max(count if stage == "clean" else feed_count, 1),
                         "bytes_sent_per_article": sent[stage][1] / max(count if stage == "clean" else feed_count, 1)}
    del tables
    try:
        for index in args.indexes.split(","):
            runs = {}
            for name, stages in (("clean", ["clean"]), ("feed", ["feed"]), ("both", ["clean", "feed"])):
                child = subprocess.run([sys.executable, __file__, "--recover", ",".join(str(paths[s]) for s in stages),
                                        "--feed-hours", str(args.feed_hours), "--index", index],
                                       capture_output=True, text=True, check=True)
                runs[name] = json.loads(child.stdout)
            result[index] = runs
            print(json.dumps({index: runs}), file=sys.stderr)  # progress: a full-size run takes minutes
    finally:
        for path in paths.values():
            path.unlink()
    return print_and_write(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
