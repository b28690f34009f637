"""What each Kafka codec costs and saves on the records newsclean writes (no broker needed).

    .venv/bin/python bench/bench_compression.py [--repeat N]

The records are the envelopes of the dev articles (`../shared/eval/dev/raw.jsonl`, or
$NEWSCLEAN_BENCH_EVAL/dev; read at run time, never copied; falls back to examples/articles.jsonl)
cleaned offline without NER, and the raw articles themselves (what the by-source topic carries).
They are packed into record batches exactly as the producer does (aiokafka's batch builder,
batches filled up to the producer's default 16 KiB `max_batch_size`) once per codec, then read
back. Reported per codec, as ratios against `none` measured in the same run: bytes on the wire
and CPU time (process time) to build and to read the batches.
Prints a table and writes bench/out/compression.json.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder  # noqa: E402

from bench.feed import eval_dir  # noqa: E402
from streams.config import COMPRESSION_CODECS  # noqa: E402
from streams.core.models import MemoryStore  # noqa: E402
from streams.core.settings import PipelineSettings  # noqa: E402
from streams.offline import clean_file  # noqa: E402

BATCH_BYTES = 16384  # aiokafka's (and Faust's) default producer max_batch_size
KEY = b"https://www.example.com/news/2026/04/10/an-article-uri"
TIMESTAMP = 1_700_000_000_000
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def records() -> tuple[dict[str, list[bytes]], str]:
    raw_path = eval_dir() / "dev" / "raw.jsonl"
    if not raw_path.is_file():
        raw_path = ROOT / "examples" / "articles.jsonl"
    raws = [line for line in raw_path.read_bytes().splitlines() if line.strip()]
    out = io.BytesIO()
    clean_file(str(raw_path), out, None, PipelineSettings(), extractor=None, store=MemoryStore())
    envelopes = out.getvalue().splitlines()
    return {"envelopes": envelopes, "articles": raws}, f"{raw_path} ({len(raws)} articles)"


def batches(values: list[bytes], codec: str, batch_bytes: int) -> list[bytearray]:
    """As the producer: append to the open batch until it is full (a record alone may exceed it)."""
    built: list[bytearray] = []
    builder = None
    for offset, value in enumerate(values):
        appended = None if builder is None else builder.append(offset, timestamp=TIMESTAMP, key=KEY, value=value, headers=[])
        if appended is None:
            if builder is not None:
                built.append(builder.build())
            builder = DefaultRecordBatchBuilder(2, CODEC_IDS[codec], 0, -1, -1, -1, max(batch_bytes, len(value) + 1024))
            builder.append(0, timestamp=TIMESTAMP, key=KEY, value=value, headers=[])
    if builder is not None:
        built.append(builder.build())
    return built


def measure(values: list[bytes], codec: str, repeat: int, batch_bytes: int) -> dict[str, float]:
    start = time.process_time()
    for _ in range(repeat):
        built = batches(values, codec, batch_bytes)
    build_s = (time.process_time() - start) / repeat
    start = time.process_time()
    for _ in range(repeat):
        read = [r.value for b in built for r in DefaultRecordBatch(bytes(b))]
    read_s = (time.process_time() - start) / repeat
    assert read == values, codec
    return {"bytes": sum(len(b) for b in built), "build_us": build_s / len(values) * 1e6,
            "read_us": read_s / len(values) * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    streams, origin = records()
    results: dict = {"origin": origin, "batch_bytes": BATCH_BYTES, "topics": {}}
    results["note"] = "build/read: CPU µs per record; ratios against none in the same run"
    print(f"records from {origin}; batches up to {BATCH_BYTES} bytes; ratios against none in this run")
    runs = [(name, values, BATCH_BYTES) for name, values in streams.items()]
    # A lightly loaded producer (linger 0) sends a batch per record: the codec's fixed cost per
    # call (zstd sets up a context each time) then counts once per record.
    runs.append(("envelopes, one record per batch", streams["envelopes"], 0))
    for name, values, batch_bytes in runs:
        measured = {codec: measure(values, codec, args.repeat, batch_bytes) for codec in ("none", *COMPRESSION_CODECS[1:])}
        base = measured["none"]
        table = {}
        print(f"\n{name} ({len(values)} records, {sum(map(len, values)) / len(values):.0f} bytes on average)")
        print(f"{'codec':8} {'bytes':>9} {'vs none':>8} {'build µs/rec':>13} {'vs none':>8} {'read µs/rec':>12} {'vs none':>8}")
        for codec, m in measured.items():
            row = {**m, "bytes_ratio": m["bytes"] / base["bytes"], "build_ratio": m["build_us"] / base["build_us"],
                   "read_ratio": m["read_us"] / base["read_us"]}
            table[codec] = row
            print(f"{codec:8} {m['bytes']:>9} {row['bytes_ratio']:>8.3f} {m['build_us']:>13.1f} {row['build_ratio']:>8.1f}"
                  f" {m['read_us']:>12.1f} {row['read_ratio']:>8.1f}")
        results["topics"][name] = table
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "compression.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
