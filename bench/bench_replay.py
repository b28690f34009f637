"""Replay throughput through the local broker: articles/s with NER off and on, one replay process
and two, beside a same-run baseline (the offline mode on the same feed, no Kafka).

    .venv/bin/python bench/bench_replay.py [--articles 4000] [--ner-articles 800]

Writes bench/out/replay.json and prints a table. The feed is generated here (invented outlets,
names and places; every article unique, each outlet with its own boilerplate lines).

One process reads a 1-partition topic. Two processes read a 2-partition topic whose records are
keyed by outlet, each replay taking one partition (`--partitions 0` / `--partitions 1`, its own
--name, so its own group, state and transactional id, both writing the same output topic). That
split is exact, not an approximation: the feed state is per source, and keyed by source every
outlet's articles sit in one partition, so each process holds all the evidence its articles need
and the two give what one gives (the bench checks it). On a topic not keyed by source, split
replays would each see part of an outlet's history and could keep boilerplate one process removes.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streams.dev import broker  # noqa: E402
from streams.config import Settings  # noqa: E402
from streams.core.models import MemoryStore  # noqa: E402
from streams.offline import clean_file  # noqa: E402

OUT = ROOT / "bench" / "out" / "replay.json"
START = datetime(2026, 11, 1, tzinfo=timezone.utc)
OUTLETS = {
    "Fenwick Observer": ("{n} min read", "Subscribe to the Fenwick Observer for the evening briefing."),
    "Lowmarsh Times": ("Updated {n} hours ago", "(c) Lowmarsh Times. All rights reserved."),
    "Crag Valley Post": ("Listen to this article ({n} min)", "Crag Valley Post reporting; edited by the night desk."),
    "Saltgate Daily": ("Advertisement", "Read more: Saltgate Daily local coverage, story {n}"),
}
NAMES = ["Aldous Brecken", "Mirela Sand", "Oskar Thorne", "Yusra Penhale", "Corwin Ide", "Dalia Frost", "Emeric Voss"]
PLACES = ["Kestrel Bay", "Harrowgate", "Pellmoor", "Ashcombe", "Whitlow", "Dunraven", "Calder Heights"]
ORGS = ["the Harbour Board", "the Valley Trust", "the County Council", "the Rail Authority", "Pellmoor University"]
NOUNS = ["bridge", "clinic", "ferry", "school", "market", "reservoir", "tram line", "library", "stadium", "orchard"]
VERBS = ["reopen", "expand", "close", "rebuild", "review", "fund", "delay", "approve"]
ADJ = ["new", "old", "northern", "coastal", "historic", "busy", "small", "modern"]


def feed(n: int, seed: int = 11) -> list[tuple[str, bytes, int]]:
    """(outlet, ninjs bytes, event time ms), one article a minute, outlets at random."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        outlet = rng.choice(list(OUTLETS))
        top, bottom = OUTLETS[outlet]
        when = START + timedelta(minutes=i)
        body = [top.format(n=rng.randint(2, 9))]
        for _ in range(rng.randint(4, 7)):
            body.append(" ".join(_sentence(rng, i) for _ in range(rng.randint(2, 3))))
        body.append(bottom.format(n=i))
        doc = {
            "uri": f"urn:newsclean:bench:{seed}:{i}", "version": "1", "type": "text", "language": "en",
            "versionCreated": when.isoformat().replace("+00:00", "Z"),
            "headlines": [{"role": "main", "value": f"{rng.choice(NAMES)} to {rng.choice(VERBS)} {rng.choice(PLACES)} {rng.choice(NOUNS)}"}],
            "altIds": [{"role": "source", "value": outlet}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": "\n\n".join(body)}],
        }
        items.append((outlet, orjson.dumps(doc), int(when.timestamp() * 1000)))
    return items


def _sentence(rng: random.Random, i: int) -> str:
    return (f"{rng.choice(NAMES)} of {rng.choice(ORGS)} said the {rng.choice(ADJ)} {rng.choice(NOUNS)} in "
            f"{rng.choice(PLACES)} would {rng.choice(VERBS)} within {rng.randint(2, 40)} weeks at a cost of "
            f"{rng.randint(1, 900)}.{i % 10} million.")


async def make_topics(servers: str, prefix: str, items: list) -> dict[int, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    topics = {1: f"{prefix}-in1", 2: f"{prefix}-in2"}
    # retention.ms=-1: Kafka deletes by record timestamp, and these carry event times
    await admin.create_topics([NewTopic(t, p, 1, topic_configs={"retention.ms": "-1"}) for p, t in topics.items()])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=20)
    await producer.start()
    try:
        for topic in topics.values():
            pending = [await producer.send(topic, raw, key=outlet.encode(), timestamp_ms=ms) for outlet, raw, ms in items]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return topics


async def drop_topics(servers: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
    if doomed:
        await admin.delete_topics(doomed)
    await admin.close()


def run_replays(servers: str, prefix: str, topic: str, label: str, processes: int, ner: bool) -> dict:
    env = {**os.environ, "NEWSCLEAN_BROKER_URL": f"kafka://{servers}", "NEWSCLEAN_INPUT_TOPICS": topic,
           "NEWSCLEAN_OUTPUT_TOPIC": f"{prefix}-out", "NEWSCLEAN_DLQ_TOPIC": f"{prefix}-dlq",
           "NEWSCLEAN_APP_ID": prefix, "NEWSCLEAN_PARTITIONS": "2", "NEWSCLEAN_NER_ENABLED": "true" if ner else "false"}
    commands = []
    for index in range(processes):
        args = [sys.executable, "-m", "streams.cli", "replay", topic, "--name", f"{label}-{index}",
                "--output", f"{prefix}-{label}", "--progress", "none"]
        if processes > 1:
            args += ["--partitions", str(index)]
        commands.append(args)
    began, cpu = time.monotonic(), _children_cpu()
    procs = [subprocess.Popen(c, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    outputs = [p.communicate(timeout=1800) for p in procs]
    wall, cpu = time.monotonic() - began, _children_cpu() - cpu
    summaries = []
    for proc, (stdout, stderr) in zip(procs, outputs):
        if proc.returncode != 0:
            raise RuntimeError(f"replay failed ({proc.returncode}):\n{stderr.decode()[-2000:]}")
        summaries.append(json.loads(stdout.decode().splitlines()[-1]))
    read = sum(s["read"] for s in summaries)
    busy = max(s["duration_s"] for s in summaries)
    return {
        "label": label, "ner": ner, "processes": processes, "input_partitions": 2 if processes > 1 else 1,
        "articles": read, "replay_s": round(busy, 3), "wall_s": round(wall, 3),
        "articles_per_s": round(read / busy, 1), "articles_per_s_wall": round(read / wall, 1),
        "cpu_s": round(cpu, 2), "articles_per_cpu_s": round(read / cpu, 1),
        "output_topic": f"{prefix}-{label}", "command": " ".join(commands[0][2:]),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def offline_baseline(items: list, ner: bool, label: str) -> dict:
    from streams.nlp.extractor import load_extractor

    extractor = load_extractor(Settings().ner) if ner else None
    source = Path(f"/tmp/{label}.jsonl")
    source.write_bytes(b"\n".join(raw for _, raw, _ in items))
    began, cpu = time.monotonic(), time.process_time()
    tally = clean_file(str(source), io.BytesIO(), None, Settings().pipeline, extractor, MemoryStore())
    took, cpu = time.monotonic() - began, time.process_time() - cpu
    source.unlink()
    return {"label": label, "ner": ner, "processes": 1, "input_partitions": None, "articles": tally.written,
            "replay_s": round(took, 3), "wall_s": round(took, 3), "articles_per_s": round(tally.written / took, 1),
            "articles_per_s_wall": round(tally.written / took, 1), "cpu_s": round(cpu, 2),
            "articles_per_cpu_s": round(tally.written / cpu, 1), "output_topic": None,
            "command": "offline clean_file (in-process, no Kafka)"}


async def envelopes_by_uri(servers: str, topic: str) -> dict[str, dict]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in (0, 1)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        found = {}
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                for record in batch:
                    envelope = orjson.loads(record.value)
                    envelope.pop("pipeline")
                    found[envelope["article"]["uri"]] = envelope
        return found
    finally:
        await consumer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=4000, help="feed size for the NER-off runs")
    parser.add_argument("--ner-articles", type=int, default=800, help="feed size for the NER-on runs")
    parser.add_argument("--servers", default=os.environ.get("NEWSCLEAN_TEST_BROKER", "127.0.0.1:9092"))
    args = parser.parse_args()
    if not asyncio.run(broker.probe(args.servers, timeout=10.0)):
        print(f"no broker at {args.servers}: start one with `newsclean broker start`", file=sys.stderr)
        return 2
    load = os.getloadavg()
    rows = []
    for ner, n in ((False, args.articles), (True, args.ner_articles)):
        prefix = f"bench-replay-{uuid.uuid4().hex[:8]}"
        items = feed(n)
        topics = asyncio.run(make_topics(args.servers, prefix, items))
        tag = "ner" if ner else "noner"
        try:
            rows.append(offline_baseline(items, ner, f"offline-{tag}"))
            one = run_replays(args.servers, prefix, topics[1], f"one-{tag}", 1, ner)
            two = run_replays(args.servers, prefix, topics[2], f"two-{tag}", 2, ner)
            first = asyncio.run(envelopes_by_uri(args.servers, one["output_topic"]))
            second = asyncio.run(envelopes_by_uri(args.servers, two["output_topic"]))
            two["same_output_as_one_process"] = first == second and len(first) == n
            rows += [one, two]
        finally:
            asyncio.run(drop_topics(args.servers, prefix))
    report = {
        "bench": "replay", "at": datetime.now(timezone.utc).isoformat(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "load_average_before": load[0], "rows": rows,
        "note": "articles_per_s = articles / the replay's own duration_s (from the Kafka clients' start to its "
                "summary; model load and interpreter start excluded); _wall includes them. Two processes: "
                "articles of both / the slower one's duration. articles_per_cpu_s: over the user+system CPU time "
                "of the replay processes (interpreter start and model load included), less sensitive to other "
                "load on a shared machine.",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'run':14} {'ner':>5} {'procs':>5} {'articles':>8} {'art/s':>8} {'art/s wall':>10} {'art/cpu-s':>9}  same")
    for row in rows:
        same = row.get("same_output_as_one_process", "")
        print(f"{row['label']:14} {str(row['ner']):>5} {row['processes']:>5} {row['articles']:>8} "
              f"{row['articles_per_s']:>8} {row['articles_per_s_wall']:>10} {row['articles_per_cpu_s']:>9}  {same}")
    print(f"load average before: {load[0]:.2f} (cpus: {os.cpu_count()})")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
