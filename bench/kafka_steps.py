"""The steps that run through the broker: B0 (raw aiokafka passthrough), the worker steps (B1, B3,
B4) and the latency run.

One clock for every throughput step (B0, B1, B3, B4): the consumers start on an empty input
topic and the harness waits until every one holds its partitions (a worker answers /ready:
assigned, recovered, not rebalancing; B0: its consumer has an assignment). Then the whole stream
is produced at once (acks=all; the producer outruns every step, so each step works through a
backlog, flat out) and the clock runs from the first produce to the broker's append time of the
last record on the output and dead-letter topics. Those topics use
message.timestamp.type=LogAppendTime, so the end of the clock and the record count come from the
broker, not from a consumer racing the worker for the two cores. Rate = records / clock.

Why not pre-produce the input: with a backlog waiting, two workers starting together rebalance
while processing, and faust-streaming 0.15.3 then sometimes never commits one input partition
again (and reprocesses it): B4 could not finish. Nothing is processed before the clock starts.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.dev.process import WorkerProcess

from feed import Message, Stream
from observe import CpuMeter, Sampler, scrape

APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}
# The worker stamps by-source records with the article's event time; the stream reaches years
# back, and with the broker's default 7-day retention a rolled segment of old event times could
# be deleted before the worker reads it (see the report: the same holds for real backfills).
KEEP = {"retention.ms": "-1"}
COMMIT_EVERY_S = 2.8  # Faust's default commit interval, used by B0 too


@dataclass
class Window:
    count: int
    seconds: float
    first_ms: int | None
    last_ms: int | None

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Broker:
    """The run's topics (all named nc-bench-<run id>-...) and two long-lived clients for the
    offset queries the harness polls with."""

    bootstrap: str
    run_id: str
    admin: AIOKafkaAdminClient | None = None
    probe: AIOKafkaConsumer | None = None
    _layout: dict[str, list[int]] = field(default_factory=dict)

    async def __aenter__(self) -> Broker:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()
        self.probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                      metadata_max_age_ms=1000)
        await self.probe.start()
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            await self.delete_all()
        finally:
            await self.probe.stop()
            await self.admin.close()

    def name(self, *parts: str) -> str:
        return "-".join(("nc-bench", self.run_id, *parts))

    async def create(self, topics: Sequence[tuple[str, int, dict]]) -> None:
        response = await self.admin.create_topics([NewTopic(n, p, 1, topic_configs=c) for n, p, c in topics])
        failed = [(name, code) for name, code, *_ in response.topic_errors if code]
        if failed:
            raise RuntimeError(f"could not create topics (name, Kafka error code): {failed}")

    async def delete_all(self) -> None:
        """Every topic of this run (the workers' internal topics included)."""
        mine = [t for t in await self.admin.list_topics() if t.startswith(self.name())]
        if mine:
            await self.admin.delete_topics(mine)

    async def produce(self, topic: str, messages: Sequence[Message]) -> float:
        """All messages, acks=all; returns seconds taken."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                                    max_batch_size=1 << 20, max_request_size=16 << 20)
        await producer.start()
        started = time.monotonic()
        try:
            pending = []
            for message in messages:
                pending.append(await producer.send(topic, message.value, key=message.key))
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
        finally:
            await producer.stop()
        return time.monotonic() - started

    async def _partitions(self, consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
        missing = [t for t in topics if t not in self._layout]
        if missing:
            for described in await self.admin.describe_topics(missing):
                if not described["error_code"]:
                    self._layout[described["topic"]] = sorted(p["partition"] for p in described["partitions"])
        return [TopicPartition(t, p) for t in topics for p in self._layout.get(t, ())]

    async def count(self, topics: Sequence[str]) -> int:
        ends = await self.probe.end_offsets(await self._partitions(self.probe, topics))
        return sum(ends.values())

    async def window(self, topics: Sequence[str], since: float) -> Window:
        """Records appended to `topics` at or after `since` (wall clock), and the window from
        `since` to the last append."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = await self._partitions(consumer, topics)
            ends = await consumer.end_offsets(tps)
            starts = await consumer.offsets_for_times({tp: int(since * 1000) for tp in tps})
            count, first, last = 0, None, None
            for tp in tps:
                found = starts.get(tp)
                if found is None or ends[tp] == 0:
                    continue
                count += ends[tp] - found.offset
                first_ts = await _timestamp_at(consumer, tp, found.offset)
                last_ts = await _timestamp_at(consumer, tp, ends[tp] - 1)
                first = first_ts if first is None else min(first, first_ts)
                last = last_ts if last is None else max(last, last_ts)
            seconds = (last / 1000 - since) if last else 0.0
            return Window(count, seconds, first, last)
        finally:
            await consumer.stop()

    async def read_all(self, topic: str, expected: int, timeout: float = 60) -> list:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=self.bootstrap, group_id=None,
                                    auto_offset_reset="earliest", max_partition_fetch_bytes=16 << 20)
        await consumer.start()
        out = []
        try:
            async with asyncio.timeout(timeout):
                while len(out) < expected:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        out.extend(records)
        except TimeoutError:
            pass
        finally:
            await consumer.stop()
        return out

    async def caught_up(self, group: str, topics: Sequence[str]) -> bool:
        """The group has committed the end of every partition of `topics`."""
        committed = await self.admin.list_consumer_group_offsets(group)
        ends = await self.probe.end_offsets(await self._partitions(self.probe, topics))
        return all(committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items() if end)


async def _timestamp_at(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> int:
    consumer.assign([tp])
    consumer.seek(tp, offset)
    record = await asyncio.wait_for(consumer.getone(tp), 30)
    return record.timestamp


# --- B0: the ceiling ---------------------------------------------------------------------------

async def passthrough(broker: Broker, name: str, messages: Sequence[Message], hops: int, partitions: int,
                      timeout: float) -> dict:
    """Consume -> produce with plain aiokafka, `hops` times in a row (1: B0; 2: the worker's route +
    clean shape), acks=all, offsets committed every 2.8 s after the records they cover are
    acknowledged, as Faust does. All hops run in this process, as the worker's two agents do."""
    topics = [broker.name(name, str(i)) for i in range(hops + 1)]
    await broker.create([(topics[0], partitions, {}), *((t, partitions, APPEND_TIME) for t in topics[1:])])
    wall = time.monotonic()
    assigned = [asyncio.Event() for _ in range(hops)]
    group = broker.name(name, "group")
    tasks = [asyncio.create_task(_forward(broker, topics[i], topics[i + 1], f"{group}-{i}", len(messages), assigned[i]))
             for i in range(hops)]
    try:
        await asyncio.wait_for(asyncio.gather(*(a.wait() for a in assigned)), 60)
        started = time.time()
        await broker.produce(topics[0], messages)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    window = await broker.window([topics[-1]], started)
    return {"rate": window.rate, "count": window.count, "seconds": round(window.seconds, 2),
            "wall_seconds": round(time.monotonic() - wall, 1)}


async def _forward(broker: Broker, src: str, dst: str, group: str, expected: int, assigned: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(src, bootstrap_servers=broker.bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, max_partition_fetch_bytes=16 << 20)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", max_request_size=16 << 20)
    await consumer.start()
    await producer.start()
    forwarded, committed_at = 0, time.monotonic()
    try:
        while forwarded < expected:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            if consumer.assignment():
                assigned.set()
            if not batches:
                continue
            sends = [await producer.send(dst, r.value, key=r.key) for records in batches.values() for r in records]
            await asyncio.gather(*sends)
            forwarded += len(sends)
            if time.monotonic() - committed_at >= COMMIT_EVERY_S:
                await consumer.commit()
                committed_at = time.monotonic()
        await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


# --- the worker ---------------------------------------------------------------------------------

@dataclass
class WorkerRun:
    name: str
    app_id: str
    output: str
    dlq: str
    workers: list[WorkerProcess]


def worker_env(broker: Broker, app_id: str, input_topic: str, output: str, dlq: str, partitions: int, ner: bool,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    """The worker's settings for one step; its defaults otherwise (NER paragraph cache included)."""
    return {
        "NEWSCLEAN_BROKER_URL": f"kafka://{broker.bootstrap}",
        "NEWSCLEAN_INPUT_TOPICS": input_topic,
        "NEWSCLEAN_OUTPUT_TOPIC": output,
        "NEWSCLEAN_DLQ_TOPIC": dlq,
        "NEWSCLEAN_APP_ID": app_id,
        "NEWSCLEAN_PARTITIONS": str(partitions),
        "NEWSCLEAN_NER_ENABLED": "true" if ner else "false",
        **(extra or {}),
    }


async def start_workers(broker: Broker, name: str, input_topic: str, workers: int, partitions: int, ner: bool,
                        tmp: Path, extra: dict[str, str] | None = None, launcher=WorkerProcess) -> WorkerRun:
    app_id = broker.name(name)
    output, dlq = f"{app_id}-out", f"{app_id}-dlq"
    await broker.create([
        (output, partitions, {**APPEND_TIME, "cleanup.policy": "compact,delete"}),
        (dlq, 1, APPEND_TIME),
        (f"{app_id}-by-source", partitions, KEEP),
    ])
    env = worker_env(broker, app_id, input_topic, output, dlq, partitions, ner, extra)
    procs = [launcher({**env, "NEWSCLEAN_DATA_DIR": str(tmp / f"{name}-{i}")}, tmp / f"{name}-{i}.log") for i in range(workers)]
    for proc in procs:
        proc.start()
    return WorkerRun(name, app_id, output, dlq, procs)


async def all_ready(procs: Sequence[WorkerProcess], timeout: float = 180) -> float:
    """Wait until every worker answers /ready in the same round (no rebalance pending); returns
    the wall-clock time of that round."""
    deadline = time.monotonic() + timeout
    while True:
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready, max(1.0, deadline - time.monotonic())) for p in procs))
        now = time.time()
        if all(await asyncio.gather(*(asyncio.to_thread(p.ready) for p in procs))):
            return now
        if time.monotonic() > deadline:
            raise TimeoutError("workers never ready together")


def stop(run: WorkerRun) -> list[int]:
    return [p.terminate() for p in run.workers]


async def drain(broker: Broker, run: WorkerRun, input_topic: str, expected: int, timeout: float) -> None:
    """Until output + dead letters hold `expected` records and the group has committed the end of
    the input, by-source and (NER on) enrich topics (so nothing is still in flight); bounded by
    `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in run.workers:
            if proc.proc.poll() is not None:
                raise RuntimeError(f"{run.name}: a worker exited with {proc.proc.returncode}:\n{proc.log_tail()}")
        if await broker.count([run.output, run.dlq]) >= expected and await broker.caught_up(
            run.app_id, [input_topic, f"{run.app_id}-by-source", f"{run.app_id}-enrich"]
        ):
            return
        await asyncio.sleep(1.0)  # polling offsets; the wait is bounded by `timeout`
    got = await broker.count([run.output, run.dlq])
    raise TimeoutError(f"{run.name}: {got} of {expected} records after {timeout:.0f}s")


async def throughput(broker: Broker, name: str, messages: Sequence[Message], *, workers: int, partitions: int,
                     ner: bool, tmp: Path, timeout: float, extra: dict[str, str] | None = None, launcher=WorkerProcess) -> dict:
    """One worker step: start the workers on an empty input topic, wait until all are ready,
    produce `messages`, wait until all are out: rate, CPU, RSS and metrics."""
    wall = time.monotonic()
    input_topic = broker.name(name, "in")
    expected = len(messages)
    await broker.create([(input_topic, partitions, {})])
    run = await start_workers(broker, name, input_topic, workers, partitions, ner, tmp, extra, launcher)
    try:
        with Sampler(run.workers) as sampler:
            await all_ready(run.workers)
            meter = CpuMeter(run.workers)
            meter.start()
            since = time.time()
            await broker.produce(input_topic, messages)
            await drain(broker, run, input_topic, expected, timeout)
            cpu = meter.stop()
        metrics = [scrape(p.port) for p in run.workers]
    finally:
        codes = await asyncio.to_thread(stop, run)
    window = await broker.window([run.output, run.dlq], since)
    produced = await broker.count([run.output, run.dlq])
    changelog = await changelog_traffic(broker, run.app_id, expected)
    return {
        "rate": window.rate,
        "count": window.count,
        "seconds": round(window.seconds, 2),
        "records_out": produced,
        "duplicates": produced - expected,
        "workers": workers,
        "partitions": partitions,
        "ner": ner,
        "exit_codes": codes,
        "wall_seconds": round(time.monotonic() - wall, 1),
        # CPU from the first produce to the end of the drain (up to ~3 s after the last record,
        # waiting for the commit): cost per article is robust to other processes' load.
        "cpu": {**cpu, "worker_cpu_ms_per_article": round(1000 * cpu["worker_cpu_s"] / window.count, 3) if window.count else None},
        "memory": sampler.summary(),
        "memory_series": sampler.series(),
        "metrics": _merge(metrics),
        "metrics_per_worker": metrics,
        "changelog": changelog,
    }


async def changelog_traffic(broker: Broker, app_id: str, articles: int) -> dict[str, object]:
    """Records and bytes (key + value) the worker wrote to its tables' changelogs, per article."""
    out: dict[str, object] = {}
    records = size = 0
    for table in ("seen", "feed"):
        topic = f"{app_id}-{table}-changelog"
        count = await broker.count([topic])
        read = await broker.read_all(topic, count) if count else []
        written = sum(len(r.key or b"") + len(r.value or b"") for r in read)
        out[table] = {"records": count, "bytes": written}
        records, size = records + count, size + written
    out["records_per_article"] = round(records / articles, 3) if articles else None
    out["bytes_per_article"] = round(size / articles, 1) if articles else None
    return out


def _merge(per_worker: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for samples in per_worker:
        for key, value in samples.items():
            out[key] = out.get(key, 0.0) + value
    return out


# --- latency --------------------------------------------------------------------------------------

async def latency(broker: Broker, stream: Stream, *, rate: float, seconds: float, warmup: float, partitions: int,
                  tmp: Path, launcher=WorkerProcess, ner: bool = True) -> dict:
    """Produce at a steady `rate` into an idle worker (NER on unless `ner` is false); latency =
    the output record's broker append time - the wall time just before the send. Matched on
    (uri, version)."""
    name = f"lat{rate:g}-{uuid.uuid4().hex[:4]}"
    input_topic = broker.name(name, "in")
    await broker.create([(input_topic, partitions, {})])
    # The replicated stream repeats each text once a copy: the paragraph cache would answer every
    # copy after the first, which no real feed allows. Off, so every article pays for its NER.
    run = await start_workers(broker, name, input_topic, 1, partitions, ner, tmp, {"NEWSCLEAN_NER_CACHE_SIZE": "0"}, launcher)
    try:
        await all_ready(run.workers)
    except BaseException:
        stop(run)
        raise
    total = int(rate * (seconds + warmup))
    messages = [m for m in stream.messages if m.valid][:total]
    sent: dict[tuple[str, str], float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        with Sampler(run.workers) as sampler:
            meter = CpuMeter(run.workers)  # the machine's other load, reported beside the latency
            meter.start()
            load_before = os.getloadavg()[0]
            started = time.monotonic()
            pending = []
            for i, message in enumerate(messages):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                doc = orjson.loads(message.value)
                sent[(doc["uri"], doc["version"])] = time.time()
                pending.append(await producer.send(input_topic, message.value, key=message.key))
            await asyncio.gather(*pending)
            produced_for = time.monotonic() - started
            await drain(broker, run, input_topic, len(messages), timeout=120)
            cpu = meter.stop()
        metrics = scrape(run.workers[0].port)
    finally:
        await producer.stop()
        await asyncio.to_thread(stop, run)
    records = await broker.read_all(run.output, len(messages))
    order = {key: i for i, key in enumerate(sent)}
    skip = int(rate * warmup)
    samples = []
    for record in records:
        article = orjson.loads(record.value)["article"]
        key = (article["uri"], article["version"])
        if key in sent and order[key] >= skip:
            samples.append(record.timestamp - sent[key] * 1000)
    return {
        "rate_target": rate,
        "rate_achieved": round(len(messages) / produced_for, 2),
        "messages": len(messages),
        "warmup_excluded": skip,
        "samples": len(samples),
        "ms": percentiles(samples),
        # other processes' CPU (cores) while this step ran, and the 1-min load average around it
        "other_processes_cores": cpu["other_processes_cores"],
        "worker_cores_used": cpu["worker_cores_used"],
        # what an article costs the worker at this rate (its model processes included)
        "worker_cpu_ms_per_article": round(1000 * cpu["worker_cpu_s"] / len(messages), 2),
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "memory": sampler.summary(),
        "metrics": metrics,
    }


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1),
            "mean": round(sum(ordered) / len(ordered), 1)}
