"""`newsclean demo`: the quickstart's main job against a running local broker. It starts a worker,
publishes the sample articles from examples/ (and one broken message), prints each cleaned
article as it arrives, then stops the worker cleanly."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from .process import WorkerProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BROKEN = b'{"uri": "urn:newsclean:demo:broken", "bodies": [{"value": "cut off mid-'


def sample_messages() -> list[bytes]:
    seed = orjson.dumps(orjson.loads((EXAMPLES / "seed-article.json").read_bytes()))
    feed = [line for line in (EXAMPLES / "articles.jsonl").read_bytes().splitlines() if line.strip()]
    return [seed, *feed[:4], BROKEN, *feed[4:]]


async def run(bootstrap: str, ner: bool, timeout: float) -> int:
    run_id = uuid.uuid4().hex[:8]
    topics = {name: f"newsclean-demo-{run_id}-{name}" for name in ("raw", "clean", "dlq")}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topics["raw"], 1, 1)])
    await admin.close()

    workdir = Path(tempfile.mkdtemp(prefix="newsclean-demo-"))
    worker = WorkerProcess(
        {
            "NEWSCLEAN_BROKER_URL": f"kafka://{bootstrap}",
            "NEWSCLEAN_INPUT_TOPICS": topics["raw"],
            "NEWSCLEAN_OUTPUT_TOPIC": topics["clean"],
            "NEWSCLEAN_DLQ_TOPIC": topics["dlq"],
            "NEWSCLEAN_APP_ID": f"newsclean-demo-{run_id}",
            "NEWSCLEAN_DATA_DIR": str(workdir / "state"),
            "NEWSCLEAN_NER_ENABLED": "true" if ner else "false",
        },
        workdir / "worker.log",
    )
    print(f"== starting a worker (log: {worker.log_path})", flush=True)
    worker.start()
    try:
        await asyncio.to_thread(worker.wait_ready, timeout)
        messages = sample_messages()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        for raw in messages:
            await producer.send_and_wait(topics["raw"], raw)
        await producer.stop()
        print(f"== published {len(messages)} messages to {topics['raw']}; cleaned articles from {topics['clean']}:\n", flush=True)
        arrived = await _print_arrivals(bootstrap, topics, expected=len(messages), timeout=timeout)
    finally:
        code = worker.terminate()
        print(f"== worker stopped (exit {code})")
    if arrived < len(sample_messages()):
        print(f"demo: only {arrived} of {len(sample_messages())} messages came out within {timeout}s", file=sys.stderr)
        return 1
    return 0


async def _print_arrivals(bootstrap: str, topics: dict[str, str], expected: int, timeout: float) -> int:
    consumer = AIOKafkaConsumer(
        topics["clean"], topics["dlq"], bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", metadata_max_age_ms=1000,
    )
    await consumer.start()
    arrived = 0
    try:
        async with asyncio.timeout(timeout):
            while arrived < expected:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        arrived += 1
                        body = orjson.loads(record.value)
                        print(_describe_dead_letter(body) if record.topic == topics["dlq"] else _describe(body), flush=True)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return arrived


def _describe(envelope: dict) -> str:
    article = envelope["article"]
    headline = next((h["value"] for h in article.get("headlines", [])), article["uri"])
    counts = envelope["counts"]
    lines = [f"■ {headline}  [{envelope['source']}]",
             f"  kept {counts['kept']} of {counts['input_paragraphs']} paragraphs"]
    for removal in envelope["removed"]:
        why = removal["reason"] if removal["of"] is None else f"{removal['reason']} of #{removal['of']}"
        lines.append(f"  - removed #{removal['index']} ({why}): {_short(removal['text'])}")
    if envelope["entities"]:
        names = ", ".join(f"{e['name']} ({e['type']})" for e in envelope["entities"][:8])
        lines.append(f"  entities: {names}")
    return "\n".join(lines) + "\n"


def _describe_dead_letter(record: dict) -> str:
    where = record["input"]
    return f"✗ dead letter from {where['topic']}@{where['offset']}: {record['reason']}: {_short(record['detail'])}\n"


def _short(text: str, width: int = 90) -> str:
    return textwrap.shorten(text, width, placeholder=" …")


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="newsclean demo", description=__doc__)
    parser.add_argument("--broker", default=os.environ.get("NEWSCLEAN_DEMO_BROKER", "127.0.0.1:9092"))
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.broker, not args.no_ner, args.timeout))
