"""The chaos run: stream a synthetic feed into a worker that is SIGKILLed and restarted at random
moments, restart the broker once mid-stream, then check what a downstream consumer got.

Used by tests/integration/test_chaos.py (a small variant in CI, the full one with --slow) and by
bench/chaos.py (the full run by hand, with a summary). The broker is a private instance on free
ports with its own home, so the shared broker on 9092 is never restarted.

Checks, against an offline run (`streams.core.pipeline.process`, one MemoryStore) over exactly
the records of the input topic, in offset order:
- every valid input (uri, version) has an envelope, every invalid one a dead letter: none lost;
- envelopes of one (uri, version) are identical but for `pipeline.processed_at` (duplicates are
  exact repeats), and equal the offline run's envelope (same removal decisions);
- per uri, the last envelope in the output partition is the newest version (a compacted topic
  converges to it);
- the feed-state table, read back from its compacted changelog, holds what the offline store
  holds (the expiry index compared as a set per bucket, see `table_view`).
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition

from streams.core.source_table import unpack_index_record
from streams.dev import broker
from streams.core.feedwide import state_view
from streams.core.state_log import StateLog, rebuild
from streams.core.models import MemoryStore
from streams.core.pipeline import Processed, process
from streams.core.settings import PipelineSettings
from streams.dev.process import WorkerProcess

from tests.support.synthetic import feed

INVALID = (b"\xff\xfe not utf-8", b"{not json", b"[1, 2, 3]", b'{"uri": "urn:x", "bodies": "no list"}')


@dataclass(frozen=True, slots=True)
class ChaosPlan:
    articles: int = 600
    kills: int = 3
    broker_restarts: int = 1
    seed: int = 20260301
    rate: float = 30.0  # messages per second into the input topic
    kill_after: tuple[float, float] = (0.1, 2.5)  # seconds after the worker is ready (uniform): often mid catch-up
    kill_starting: float = 0.25  # share of kills made while the worker is still starting (joining, recovering)
    invalid_every: int = 97  # every n-th message is invalid (dead-letter path under chaos)
    partitions: int = 4
    final_timeout: float = 240.0
    ner: bool = False  # on: the enrich stage too (its model one batch ahead) is killed mid-batch


@dataclass
class ChaosResult:
    plan: dict
    messages_sent: int = 0
    articles_sent: int = 0  # valid inputs, distinct (uri, version)
    invalid_sent: int = 0
    envelopes_read: int = 0
    dead_letters_read: int = 0
    lost: int = 0
    lost_dead_letters: int = 0
    duplicates: int = 0  # envelopes beyond the first per (uri, version)
    duplicate_dead_letters: int = 0
    inexact_duplicates: int = 0  # (uri, version) groups whose envelopes differ beyond processed_at
    offline_mismatches: int = 0  # (uri, version) whose envelope differs from the offline run's
    stale_last_versions: int = 0  # uris whose last envelope is not the newest version
    table_keys: int = 0
    table_matches_offline: bool = False
    table_differences: list = field(default_factory=list)
    kill_cycles: int = 0
    broker_restarts: int = 0
    worker_exits: list = field(default_factory=list)  # (exit status, when) of workers that stopped on their own
    producer_retries: int = 0
    seconds: float = 0.0
    examples: dict = field(default_factory=dict)  # a few offending keys per check, for the failure message

    @property
    def ok(self) -> bool:
        return not (self.lost or self.lost_dead_letters or self.inexact_duplicates or self.offline_mismatches
                    or self.stale_last_versions) and self.table_matches_offline

    def summary(self) -> str:
        lines = [f"{name}: {value}" for name, value in asdict(self).items() if name not in ("plan", "examples")]
        return "\n".join(lines)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class PrivateBroker:
    """A broker of our own (free ports, own home, the shared jars) that may be restarted."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port, self.controller_port = free_ports(2)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        await asyncio.to_thread(broker.fetch_jars)
        lib = self.home / "lib"
        if not lib.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            lib.symlink_to(broker.default_home() / "lib")
        await asyncio.to_thread(broker.start, self.port, home=self.home, controller_port=self.controller_port)

    async def stop(self) -> None:
        await asyncio.to_thread(broker.stop, self.port, home=self.home)


class Chaos:
    def __init__(self, plan: ChaosPlan, kafka: PrivateBroker, tmp: Path, say: Callable[[str], None] = lambda _: None):
        self.plan = plan
        self.kafka = kafka
        self.tmp = tmp
        self.say = say
        self.rng = random.Random(plan.seed)
        run = uuid.uuid4().hex[:10]
        self.app_id = f"chaos-{run}"
        self.input_topic, self.output_topic, self.dlq_topic = (f"chaos-{name}-{run}" for name in ("in", "out", "dlq"))
        self.workers: list[WorkerProcess] = []
        self.result = ChaosResult(plan=asdict(plan))

    # ------------------------------------------------------------ the run

    async def run(self) -> ChaosResult:
        began = time.monotonic()
        messages = self._messages()
        await self._create_input_topic()
        producing = asyncio.create_task(self._produce(messages))
        try:
            await self._kill_and_restart(producing)
            await producing
            await self._finish(messages)
        finally:
            producing.cancel()
            for worker in self.workers:
                await asyncio.to_thread(worker.kill)
        await self._check(messages)
        self.result.seconds = round(time.monotonic() - began, 1)
        return self.result

    def _messages(self) -> list[tuple[bytes, tuple[str, str] | None]]:
        """(value, (uri, version) or None for an invalid message), in send order."""
        out: list[tuple[bytes, tuple[str, str] | None]] = []
        for n, item in enumerate(feed(self.plan.articles, seed=self.plan.seed)):
            if self.plan.invalid_every and n % self.plan.invalid_every == self.plan.invalid_every - 1:
                out.append((INVALID[n % len(INVALID)] + str(n).encode(), None))
            out.append((item.raw, (item.uri, item.version)))
        return out

    async def _create_input_topic(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka.bootstrap)
        await admin.start()
        try:
            # one partition: the feed order, and so every dedup decision, is defined
            await admin.create_topics([NewTopic(self.input_topic, 1, 1)])
        finally:
            await admin.close()

    async def _produce(self, messages: list[tuple[bytes, tuple[str, str] | None]]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.kafka.bootstrap, acks="all", enable_idempotence=True,
                                    request_timeout_ms=60_000, linger_ms=5)
        await producer.start()
        try:
            burst = 25  # messages at a time, so that a worker often has a backlog when it is killed
            for n, (value, _) in enumerate(messages):
                while True:
                    try:
                        await (await producer.send(self.input_topic, value))
                        break
                    except Exception as exc:  # the broker restart: send again (the input may then hold a repeat)
                        self.result.producer_retries += 1
                        self.say(f"producer: {exc!r}; retrying")
                        await asyncio.sleep(1.0)  # pacing a retry against a broker that is restarting
                self.result.messages_sent += 1
                if n % burst == burst - 1:
                    await asyncio.sleep(burst / self.plan.rate)  # pacing the feed, not synchronisation
        finally:
            await producer.stop()

    def _worker_env(self) -> dict[str, str]:
        return {
            "NEWSCLEAN_BROKER_URL": f"kafka://{self.kafka.bootstrap}",
            "NEWSCLEAN_INPUT_TOPICS": self.input_topic,
            "NEWSCLEAN_OUTPUT_TOPIC": self.output_topic,
            "NEWSCLEAN_DLQ_TOPIC": self.dlq_topic,
            "NEWSCLEAN_APP_ID": self.app_id,
            "NEWSCLEAN_NER_ENABLED": "true" if self.plan.ner else "false",
            "NEWSCLEAN_PARTITIONS": str(self.plan.partitions),
            "NEWSCLEAN_SESSION_TIMEOUT_S": "6",  # a SIGKILLed worker's partitions are free again after 6 s
        }

    def _start_worker(self) -> WorkerProcess:
        n = len(self.workers)
        env = {"NEWSCLEAN_DATA_DIR": str(self.tmp / f"worker-{n}"), **self._worker_env()}
        worker = WorkerProcess(env, self.tmp / f"worker-{n}.log").start()
        self.workers.append(worker)
        return worker

    async def _kill_and_restart(self, producing: asyncio.Task) -> None:
        plan = self.plan
        worker = self._start_worker()
        for cycle in range(plan.kills):
            await self._run_for(worker, await self._kill_delay(worker))
            if worker.running:
                await asyncio.to_thread(worker.kill)
                self.result.kill_cycles += 1
                self.say(f"kill {self.result.kill_cycles}: worker {len(self.workers) - 1} SIGKILLed")
            worker = self._start_worker()
            if plan.broker_restarts and cycle == plan.kills // 2:
                await self._run_for(worker, await self._kill_delay(worker))
                await self._restart_broker()  # while the new worker runs
                if not worker.running:
                    worker = self._start_worker()

    async def _kill_delay(self, worker: WorkerProcess) -> float:
        """Seconds from now to the next kill: soon after the worker is ready (it then catches up
        on what arrived while it was down), or at a random moment while it starts."""
        if self.rng.random() < self.plan.kill_starting:
            return self.rng.uniform(0.5, 4.0)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and worker.running and not await asyncio.to_thread(worker.ready):
            await asyncio.sleep(0.1)  # polling /ready, bounded by the deadline
        return self.rng.uniform(*self.plan.kill_after)

    async def _run_for(self, worker: WorkerProcess, seconds: float) -> None:
        """Let `worker` run `seconds`; a worker that exits on its own is noted (and restarted by the caller)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and worker.running:
            await asyncio.sleep(0.1)  # the chaos schedule is wall-clock time by design
        if worker.proc is not None and worker.proc.poll() is not None and worker.proc.returncode != -9:
            self.result.worker_exits.append((worker.proc.returncode, round(time.monotonic(), 1)))
            self.say(f"worker {self.workers.index(worker)} exited on its own with {worker.proc.returncode}")

    async def _restart_broker(self) -> None:
        self.say("broker: stopping")
        await self.kafka.stop()
        await asyncio.sleep(self.rng.uniform(1.0, 3.0))  # the outage
        await self.kafka.start()
        self.result.broker_restarts += 1
        self.say("broker: back")

    async def _finish(self, messages: list) -> None:
        """A last worker runs until every input is accounted for, then stops with SIGTERM."""
        worker = self.workers[-1] if self.workers and self.workers[-1].running else self._start_worker()
        wanted = {key for _, key in messages if key}
        invalid = sum(1 for _, key in messages if key is None)
        seen: set[tuple[str, str]] = set()
        dead = 0
        deadline = time.monotonic() + self.plan.final_timeout
        async with Tail(self.kafka.bootstrap, self.output_topic) as output, Tail(self.kafka.bootstrap, self.dlq_topic) as dlq:
            while time.monotonic() < deadline and not (wanted <= seen and dead >= invalid):
                if not worker.running:
                    self.result.worker_exits.append((worker.proc.returncode, round(time.monotonic(), 1)))
                    worker = self._start_worker()
                seen.update(_key_of(orjson.loads(r.value)) for r in await output.read())
                dead += len(await dlq.read())
        status = await asyncio.to_thread(worker.terminate)
        if status != 0:
            self.result.worker_exits.append((status, round(time.monotonic(), 1)))

    # ------------------------------------------------------------ checks

    async def _check(self, messages: list) -> None:
        bootstrap, result = self.kafka.bootstrap, self.result
        inputs = await read_topic(bootstrap, self.input_topic)
        envelopes = await read_topic(bootstrap, self.output_topic)
        dead = await read_topic(bootstrap, self.dlq_topic)
        changelog = await read_topic(bootstrap, f"{self.app_id}-seen-changelog")
        feed_changelog = await read_topic(bootstrap, f"{self.app_id}-feed-changelog")

        valid = {key for _, key in messages if key}
        result.articles_sent = len(valid)
        result.invalid_sent = sum(1 for _, key in messages if key is None)
        result.envelopes_read, result.dead_letters_read = len(envelopes), len(dead)

        by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for record in envelopes:
            envelope = orjson.loads(record.value)
            by_key[_key_of(envelope)].append(envelope)
        lost = sorted(valid - by_key.keys())
        result.lost = len(lost)
        result.duplicates = sum(len(group) - 1 for group in by_key.values())
        inexact = [key for key, group in by_key.items() if len({orjson.dumps(_unstamped(e)) for e in group}) > 1]
        result.inexact_duplicates = len(inexact)

        invalid_offsets = {r.offset for r in inputs if r.value in {v for v, key in messages if key is None}}
        dead_offsets = Counter(orjson.loads(r.value)["input"]["offset"] for r in dead)
        result.lost_dead_letters = len(invalid_offsets - dead_offsets.keys())
        result.duplicate_dead_letters = sum(n - 1 for n in dead_offsets.values())

        offline, store = offline_run([r.value for r in inputs], self.plan.ner)
        mismatched = [key for key, group in by_key.items() if key in offline and _decisions(group[0]) != offline[key]]
        result.offline_mismatches = len(mismatched)

        newest = {}
        for _, key in messages:
            if key:
                newest[key[0]] = max(newest.get(key[0], ""), key[1])
        last: dict[str, str] = {}
        for record in sorted(envelopes, key=lambda r: (r.partition, r.offset)):
            envelope = orjson.loads(record.value)
            last[envelope["article"]["uri"]] = envelope["article"]["version"]
        stale = [uri for uri, version in last.items() if newest.get(uri) != version]
        result.stale_last_versions = len(stale)

        # the offline store holds both states; the worker keeps them in two tables (feed: keys apart)
        worker_table = {**table_view(compact(changelog)), **state_view(compact(feed_changelog))}
        offline_table = {**table_view({k: v for k, v in store.data.items() if not k.startswith("feed:")}),
                         **state_view(store.data)}
        result.table_keys = len(compact(changelog)) + len(compact(feed_changelog))
        result.table_matches_offline = worker_table == offline_table
        if not result.table_matches_offline:
            keys = worker_table.keys() | offline_table.keys()
            result.table_differences = sorted(k for k in keys if worker_table.get(k) != offline_table.get(k))[:10]
        result.examples = {"lost": lost[:5], "inexact": inexact[:5], "mismatched": mismatched[:5], "stale": stale[:5],
                           "inexact_fields": {str(key): _differences(by_key[key]) for key in inexact[:3]}}


# ---------------------------------------------------------------- reading and comparing


@dataclass(frozen=True, slots=True)
class Read:
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int


async def read_topic(bootstrap: str, topic: str, idle_s: float = 2.0) -> list[Read]:
    """Every record of `topic` up to its end offsets at the time of the call."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # a group-less consumer knows no topics yet
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Read] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for batch in (await consumer.getmany(timeout_ms=int(idle_s * 1000))).values():
                records.extend(Read(m.key, m.value, m.partition, m.offset) for m in batch)
        return records
    finally:
        await consumer.stop()


class Tail:
    """Reads a topic as it grows: each `read()` returns the records that arrived since the last."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                         auto_offset_reset="earliest", metadata_max_age_ms=1000,
                                         max_partition_fetch_bytes=64 * 1024 * 1024)

    async def __aenter__(self) -> "Tail":
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def read(self, wait_s: float = 1.0) -> list[Read]:
        batches = await self.consumer.getmany(timeout_ms=int(wait_s * 1000))
        return [Read(m.key, m.value, m.partition, m.offset) for batch in batches.values() for m in batch]


def _key_of(envelope: dict) -> tuple[str, str]:
    return envelope["article"]["uri"], str(envelope["article"].get("version", ""))


def _unstamped(envelope: dict) -> dict:
    """The envelope without the one field that legitimately differs between repeats."""
    return {**envelope, "pipeline": {k: v for k, v in envelope["pipeline"].items() if k != "processed_at"}}


def _differences(group: list[dict]) -> dict:
    """Top-level fields (and pipeline fields) whose values differ within a group of envelopes."""
    first, out = _unstamped(group[0]), {}
    for other in map(_unstamped, group[1:]):
        for name in first.keys() | other.keys():
            if first.get(name) != other.get(name):
                out[name] = [str(first.get(name))[:300], str(other.get(name))[:300]]
    return out


def _decisions(envelope: dict) -> dict:
    """What the offline run must agree on: everything but the processing metadata."""
    return {k: v for k, v in envelope.items() if k != "pipeline"}


def offline_run(values: list[bytes | None], ner: bool = False) -> tuple[dict[tuple[str, str], dict], MemoryStore]:
    """The offline envelopes (with entities when `ner`, the model in this process) and store."""
    extractor = None
    if ner:
        from streams.nlp.extractor import load_extractor
        from streams.nlp.settings import NerSettings

        extractor = load_extractor(NerSettings(processes=0))
    store = MemoryStore()
    try:
        outcomes = process([(v or b"", {"file": "input", "line": n}) for n, v in enumerate(values)], store,
                           PipelineSettings(), extractor=extractor)
    finally:
        if extractor is not None:
            extractor.close()
    first: dict[tuple[str, str], dict] = {}
    for outcome in outcomes:
        if isinstance(outcome, Processed):
            first.setdefault(_key_of(outcome.envelope), _decisions(outcome.envelope))
    return first, store


def compact(records: list[Read]) -> dict[str, bytes]:
    """A changelog as the feed state it holds: the compacted log (the last value per key,
    tombstones removing it) replayed and its index rebuilt, as a worker recovers it
    (`streams.worker.state`)."""
    log: dict[str, tuple[int, bytes]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        key = (record.key or b"").decode()
        if record.value is None:
            log.pop(key, None)
        else:
            log[key] = (record.partition, record.value)
    persisted = StateLog().restore((partition, key.partition("/")[2], value) for key, (partition, value) in log.items())
    settings = PipelineSettings()
    return rebuild(persisted, settings.dedup, settings.feed)


_INDEX_RECORD = re.compile(r"^(t\d+)\.\d+$")  # {src}:t{bucket}.{n} -> fingerprints listed
_INDEX_COUNT = re.compile(r"^t\d+$")  # {src}:t{bucket} -> how many records


def table_view(data: dict[str, bytes]) -> dict[str, object]:
    """The feed state for comparison (layout: streams/core/boilerplate.py). Fingerprint entries
    and the per-source watermark compare exactly; the expiry index compares as the set of
    fingerprints per bucket, because an article reprocessed after a crash that cut its changelog
    writes short lists the rest of its fingerprints in a record of its own (same union, another
    split, another record count)."""
    view: dict[str, object] = {}
    buckets: dict[str, set[int]] = defaultdict(set)
    for key, value in data.items():
        prefix, _, rest = key.partition(":")
        if record := _INDEX_RECORD.match(rest):
            buckets[f"{prefix}:{record.group(1)}"].update(f for f, _ in unpack_index_record(value)[1])
        elif not _INDEX_COUNT.match(rest):
            view[key] = value
    view.update({bucket: frozenset(fps) for bucket, fps in buckets.items()})
    return view
