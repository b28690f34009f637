"""The consumer's own thread (Faust runs the aiokafka consumer in a thread of its own), with a
shorter fetch wait than Faust's."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver

# How long the broker may hold a fetch with nothing new (Faust hard-codes 1,500 ms). The broker
# answers one request per connection at a time, so the offset lookups of `_learn_starts` waited
# behind a fetch of partitions with nothing more to read: a fresh worker's first batch sat 1.5 s
# on them. An idle worker's extra fetches are cheap; the replay uses the same figure.
FETCH_MAX_WAIT_MS = 100


class FetchingThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread with `FETCH_MAX_WAIT_MS` on the aiokafka consumer it creates."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts its fetcher
        return consumer
