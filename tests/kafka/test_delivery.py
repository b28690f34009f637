"""`streams.kafka.delivery`: records refused as too large, other failures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError

from streams.batch import Outgoing
from streams.kafka.delivery import deliver, too_large


# ---------------------------------------------------------------- delivery


@dataclass
class _Topic:
    name: str
    limit: int = 1 << 30
    records: list = field(default_factory=list)

    def get_topic_name(self) -> str:
        return self.name

    @property
    def app(self):  # the worker's topics send through their app's producer
        return SimpleNamespace(producer=self)

    async def send(self, topic, key, value, partition, timestamp, headers):
        assert topic == self.name
        if len(value) > self.limit:
            raise ProducerSendError("Error while sending") from MessageSizeTooLargeError("too big")
        self.records.append(value)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_delivery_replaces_a_record_refused_as_too_large():
    small, dlq = _Topic("out", limit=10), _Topic("dlq")
    await deliver([Outgoing(small, None, b"fits", "envelope"),
                   Outgoing(small, None, b"far too large", "envelope",
                            instead=lambda exc: Outgoing(dlq, None, b"dead letter", "dead_letter"))])
    assert (small.records, dlq.records) == ([b"fits"], [b"dead letter"])


async def test_delivery_raises_other_failures():
    class Broken(_Topic):
        async def send(self, *args):
            raise ProducerSendError("Error while sending") from KafkaConnectionError("down")

    with pytest.raises(ProducerSendError):
        await deliver([Outgoing(Broken("out"), None, b"x", "envelope",
                                instead=lambda exc: Outgoing(_Topic("dlq"), None, b"y", "dead_letter"))])
    assert too_large(ProducerSendError("x")) is False
