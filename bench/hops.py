"""When each hop of one worker step writes its first and last record, in seconds after the first
produce: where a step's time goes between `/ready` and the last output record.

    .venv/bin/python bench/hops.py [--ner] [--articles 300] [--idle-seconds S] [--baseline /path/to/checkout]

One worker (`kafka_steps.throughput`'s setup: started on an empty input topic, the stream
produced at once after `/ready`), then the record timestamps of the input, feed, enrich (NER on)
and output topics. The by-source topic is left out: its records carry the article's event time.
With `--idle-seconds`, first the worker's CPU (cores, its NER processes included) while it sits
idle that long after `/ready`. With `--baseline`, the same step on another checkout's worker
right after.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aiokafka import AIOKafkaConsumer  # noqa: E402

from streams.core.dedup import DedupSettings  # noqa: E402
from streams.dev.process import WorkerProcess  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
from observe import CpuMeter  # noqa: E402
from latency_curve import checkout_worker  # noqa: E402
from script import run_against_broker  # noqa: E402


async def appended(bootstrap: str, topic: str, expected: int) -> list[int]:
    """The timestamps (ms) of a topic's records, read until `expected` came or 5 s passed."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    stamps: list[int] = []
    try:
        deadline = time.monotonic() + 5
        while len(stamps) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                stamps += [r.timestamp for r in records]
    finally:
        await consumer.stop()
    return stamps


async def step(broker: ks.Broker, messages: list, ner: bool, launcher, name: str, idle_s: float) -> dict:
    input_topic = broker.name(name, "in")
    await broker.create([(input_topic, 2, {})])
    run = await ks.start_workers(broker, name, input_topic, 1, 2, ner, Path(tempfile.mkdtemp()), launcher=launcher)
    try:
        await ks.all_ready(run.workers)
        idle = None
        if idle_s:
            meter = CpuMeter(run.workers)
            meter.start()
            await asyncio.sleep(idle_s)  # the worker idles for the measurement; nothing to wait for
            used = meter.stop()
            idle = round(used["worker_cpu_s"] / used["wall_s"], 4)
        since = time.time()
        await broker.produce(input_topic, messages)
        await ks.drain(broker, run, input_topic, len(messages), 300)
    finally:
        await asyncio.to_thread(ks.stop, run)
    hops = {"input": input_topic, "feed": f"{run.app_id}-feed", "output": run.output}
    if ner:
        hops["enrich"] = f"{run.app_id}-enrich"
    out: dict = {"idle_worker_cores": idle} if idle_s else {}
    for hop, topic in hops.items():
        stamps = await appended(broker.bootstrap, topic, len(messages) - 1)
        if stamps:
            out[hop] = {"first_s": round(min(stamps) / 1000 - since, 3), "last_s": round(max(stamps) / 1000 - since, 3),
                        "records": len(stamps)}
    return out


async def run(args: argparse.Namespace) -> dict:
    _, clean = feed.build_streams(3000, DedupSettings().horizon_days)
    messages = clean.first_copy(args.articles).messages
    result: dict = {"ner": args.ner, "articles": len(messages)}
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        result["this"] = await step(broker, messages, args.ner, WorkerProcess, "hops", args.idle_seconds)
        print("this checkout", result["this"], flush=True)
        if args.baseline:
            result["baseline"] = await step(broker, messages, args.ner, checkout_worker(args.baseline), "hops-base", args.idle_seconds)
            print("baseline", result["baseline"], flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ner", action="store_true")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=0.0, help="measure the idle worker's CPU this long first")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its .venv)")
    return run_against_broker(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
