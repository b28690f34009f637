"""`streams.kafka.consumer` overrides Faust's private consumer internals. These tests fail loudly
when a faust-streaming upgrade changes or drops one of them, before a worker could silently
fall back to Faust's own (message-losing) commits."""

from __future__ import annotations

import inspect

import faust.transport.consumer as faust_consumer
import pytest
from faust.agents.actor import Actor
from faust.transport.drivers import aiokafka as aiokafka_driver

from streams.config import Settings
from streams.kafka import consumer as releasing, consumer_thread
from streams.worker.app import Newsclean


@pytest.fixture
def consumer() -> releasing.ReleasingConsumer:
    return Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=lambda exc: None).app.consumer


def test_consumer_installed_faust_is_a_supported_release():
    assert releasing.faust_version() in releasing.SUPPORTED_FAUST, (
        f"faust-streaming {releasing.faust_version()} is installed; streams/kafka/consumer.py was read against "
        f"{releasing.SUPPORTED_FAUST}: read Faust's consumer.py again before adding it")


def test_consumer_faust_has_every_internal_the_override_uses(consumer):
    assert isinstance(consumer, releasing.ReleasingConsumer)
    assert releasing.missing_internals(consumer) == []


def test_consumer_faust_internals_keep_their_shapes(consumer):
    # The containers the override mutates, and the signatures it overrides or calls.
    assert isinstance(consumer._committed_offset, dict) and isinstance(consumer._read_offset, dict)
    assert hasattr(consumer._unacked_messages, "discard")
    assert list(inspect.signature(faust_consumer.Consumer._new_offset).parameters) == ["self", "tp"]
    assert list(inspect.signature(aiokafka_driver.Consumer._commit).parameters) == ["self", "offsets"]
    assert inspect.iscoroutinefunction(aiokafka_driver.Consumer._commit)
    assert inspect.iscoroutinefunction(faust_consumer.Consumer.perform_seek)
    assert list(inspect.signature(faust_consumer.Consumer.ack).parameters) == ["self", "message"]
    # the fetch loop the inboxes replace, and what it reads
    assert list(inspect.signature(faust_consumer.Consumer._drain_messages).parameters) == ["self", "fetcher"]
    assert "wait_first(" in inspect.getsource(faust_consumer.Consumer._drain_messages)
    assert consumer._read_offset.default_factory() is None  # unread partitions read as None


async def test_consumer_fetches_wait_at_most_fetch_max_wait_ms_on_the_broker(consumer):
    # Faust hard-codes 1,500 ms; the thread newsclean gives the consumer sets its own, on the
    # aiokafka consumer it builds (private: read when that consumer starts its fetcher)
    thread = consumer._thread
    assert isinstance(thread, consumer_thread.FetchingThread)
    built = thread._create_worker_consumer(consumer.transport)
    assert built._fetch_max_wait_ms == consumer_thread.FETCH_MAX_WAIT_MS < 1500
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(type(built).start)
    await built.stop()  # never started: closes its client


def test_consumer_faust_stops_an_agent_by_throwing_into_its_channel_and_empties_queues_it_manages(consumer):
    # `streams.worker.batches.take_arrived` ends on the first; `streams.kafka.inbox` relies on the second
    assert "_throw(" in inspect.getsource(Actor.cancel)
    flow = consumer.app.flow_control
    cleared = []

    class Queue:
        def clear(self):
            cleared.append(self)

    queue = Queue()
    flow.manage_queue(queue)
    flow.clear()
    assert cleared == [queue]


def test_consumer_refuses_to_start_on_a_faust_without_the_internals(monkeypatch):
    monkeypatch.setattr(releasing, "FAUST_STATE", (*releasing.FAUST_STATE, "_an_internal_faust_dropped"))
    with pytest.raises(RuntimeError, match="_an_internal_faust_dropped"):
        Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=lambda exc: None).app.consumer

