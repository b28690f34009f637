"""Stopping and health: SIGTERM finishes in-flight work and commits; /ready is not ready while
the feed-state table recovers; a crashed agent stops the worker with a non-zero status instead
of idling, and leaves its failed batch uncommitted."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
import urllib.error
import urllib.request
from collections import Counter
from typing import Callable

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from streams.dev.process import WorkerProcess

from tests.support.chaos import Tail, read_topic
from tests.support.synthetic import feed
from tests.support.workers import make_pipeline


@pytest.fixture
async def pipeline(bootstrap_servers, new_topic, tmp_path):
    run = uuid.uuid4().hex[:12]  # output and dead-letter topics are left to the worker to create
    made = make_pipeline(bootstrap_servers, tmp_path, await new_topic(1, "in"), f"out-{run}", f"dlq-{run}")
    yield made
    await made.stop_all()


def _start(pipeline, name: str, command: list[str] | None = None) -> WorkerProcess:
    """A worker not waited for: the tests watch it start (or fail)."""
    env = {"NEWSCLEAN_DATA_DIR": str(pipeline.tmp / name), **pipeline.env()}
    worker = WorkerProcess(env, pipeline.tmp / f"{name}.log", command=command).start()
    pipeline.workers.append(worker)
    return worker


async def _until(tail: Tail, enough: Callable[[list], bool], timeout: float = 90.0) -> list:
    """What `tail` brings until `enough(records)` (or `timeout`)."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while not enough(seen) and time.monotonic() < deadline:
        seen.extend(await tail.read())
    return seen


def _key_of(envelope: dict) -> tuple[str, str]:
    return envelope["article"]["uri"], envelope["article"]["version"]


def _keys(records) -> Counter:
    return Counter(_key_of(orjson.loads(r.value)) for r in records)


async def test_shutdown_sigterm_finishes_in_flight_work_and_commits(pipeline, producer):
    items = feed(400, seed=11)
    first = await pipeline.start_worker()
    async with Tail(pipeline.bootstrap, pipeline.output_topic) as output:
        for item in items:
            await producer.send(pipeline.input_topic, item.raw)
        await producer.flush()
        before = await _until(output, lambda seen: len(seen) >= 100)  # mid-stream
        assert await asyncio.to_thread(first.terminate) == 0
        before.extend(await output.read(wait_s=2.0))  # all the first worker delivered
        await pipeline.start_worker()
        sent = {(i.uri, i.version) for i in items}
        after = await _until(output, lambda seen: set(_keys(before + seen)) >= sent)
    got = _keys(before + after)
    assert (sorted(sent - set(got)), sorted(set(got) - sent)) == ([], [])  # nothing lost, nothing made up
    # What the first worker delivered was committed on SIGTERM: the second one does not deliver
    # it again. (It may repeat its own work: a re-read after Faust dropped a message.)
    again = set(_keys(before)) & set(_keys(after))
    assert len(again) <= 2, f"{len(again)} of {len(_keys(before))} articles delivered before SIGTERM came out again"
    envelopes: dict = {}
    for record in before + after:  # repeats are exact: the same envelope but for processed_at
        envelope = orjson.loads(record.value)
        envelope["pipeline"].pop("processed_at")
        assert envelopes.setdefault(_key_of(envelope), envelope) == envelope


async def test_shutdown_ready_reports_not_ready_while_the_table_recovers(pipeline, bootstrap_servers):
    """A changelog of 200,000 records takes the new worker a while to read back; /ready must say
    503 with recovering=true meanwhile, and 200 only once the table holds it all."""
    changelog = f"{pipeline.app_id}-seen-changelog"
    writer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=50, max_batch_size=1 << 20)
    await writer.start()
    try:
        for n in range(200_000):
            await writer.send(changelog, value=b"x" * 16, key=b"%08d" % n, partition=0)
        await writer.flush()
    finally:
        await writer.stop()

    answers: list[tuple[int, dict]] = []
    pipeline_worker = _start(pipeline, "recovering")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = await asyncio.to_thread(_get, pipeline_worker.port, "/ready")
        if answer is not None:
            answers.append(answer)
            if answer[0] == 200:
                break
        assert pipeline_worker.running, pipeline_worker.log_tail()
        await asyncio.sleep(0.05)  # polling the endpoint under test, bounded by the deadline
    assert answers and answers[-1][0] == 200, answers[-3:]
    recovering = [body for status, body in answers if status == 503 and body["recovering"]]
    assert recovering, f"never saw recovering=true among {len(answers)} answers: {answers[:3]}"
    assert all(not body["ready"] for status, body in answers if status == 503)
    metrics = await asyncio.to_thread(_get_text, pipeline_worker.port, "/metrics")
    assert metrics is not None


async def test_shutdown_crashed_agent_stops_the_worker_and_keeps_its_batch_uncommitted(pipeline, producer):
    items = feed(20, seed=12)
    for item in items:
        await producer.send(pipeline.input_topic, item.raw)
    await producer.flush()
    crashing = _start(pipeline, "faulty", [sys.executable, "-m", "tests.support.faulty_worker"])
    status = await asyncio.to_thread(crashing.wait, 120)
    log = crashing.log_path.read_text(errors="replace")
    assert status == 70, log[-3000:]
    assert "injected fault" in log and "stopping the worker" in log
    assert "did not stop within" not in log  # the graceful stop ended it, not the hard exit after the grace
    assert await read_topic(pipeline.bootstrap, pipeline.output_topic) == []
    # a healthy worker then finds the failed batch uncommitted and delivers every article
    await pipeline.start_worker()
    async with Tail(pipeline.bootstrap, pipeline.output_topic) as output:
        seen = await _until(output, lambda seen: len(_keys(seen)) >= len(items))
    assert set(_keys(seen)) == {(i.uri, i.version) for i in items}


@pytest.mark.parametrize("partitions,dropped", [(4, 3), (1, 59)], ids=["mid-partition", "last-in-partition"])
async def test_shutdown_a_message_lost_on_the_way_is_read_again_not_committed_over(pipeline, producer, admin,
                                                                                  partitions, dropped):
    """Faust sometimes drops a fetched message before any agent sees it; the worker must neither
    commit past it nor leave it behind — also when no later message of its partition comes."""
    items = feed(60, seed=13)
    for item in items:
        await producer.send(pipeline.input_topic, item.raw)
    await producer.flush()
    pipeline.extra.update(NEWSCLEAN_PARTITIONS=str(partitions), DROP_OFFSET=str(dropped))
    worker = _start(pipeline, "dropping", [sys.executable, "-m", "tests.support.dropping_worker"])
    async with Tail(pipeline.bootstrap, pipeline.output_topic) as output:
        seen = await _until(output, lambda seen: len(_keys(seen)) >= len(items))
    log = worker.log_path.read_text(errors="replace")
    assert set(_keys(seen)) == {(i.uri, i.version) for i in items}, log[-3000:]
    assert f"offset {dropped} of" in log and "reading the partition again" in log
    assert await asyncio.to_thread(worker.terminate) == 0
    by_source = f"{pipeline.app_id}-by-source"
    committed = {tp.partition: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(pipeline.app_id)).items()
                 if tp.topic == by_source}
    ends = {r.partition: r.offset + 1 for r in await read_topic(pipeline.bootstrap, by_source)}
    assert committed == {p: end for p, end in ends.items()}  # everything delivered, everything committed


def _get(port: int, path: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())
    except (urllib.error.URLError, OSError):
        return None  # not listening yet


def _get_text(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
