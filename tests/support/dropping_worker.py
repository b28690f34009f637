"""A worker that loses one message on its way to the `clean` agent, as Faust sometimes does (see
streams.kafka.consumer): the first time offset DROP_OFFSET (default 3) of a by-source partition comes, it is neither
processed nor reported delivered. For the test that such a hole is never committed over and
that the partition is read again from it. The fault lives here, in the test tree.

    python -m tests.support.dropping_worker   (configured by NEWSCLEAN_* like `newsclean worker`)
"""

from __future__ import annotations

import os
import sys

from streams.worker.batches import take_arrived
from streams.worker import app
from streams.cli import main

DROPPED = int(os.environ.get("DROP_OFFSET", "3"))
_dropped: set = set()


async def _clean(self, stream) -> None:
    # `Newsclean.clean`, minus the first sighting of offset DROPPED in each partition
    consumer = self.app.consumer
    async for taken in take_arrived(consumer, stream, self.settings.batch_size):
        try:
            kept = [m for m in taken if m.offset != DROPPED or m.tp in _dropped]
            _dropped.update(m.tp for m in taken if m.offset == DROPPED)
            messages = await consumer.admit(kept)
            await self._clean_batch(messages)
            await consumer.delivered(messages)
        finally:
            consumer.release(taken)  # the dropped one too: Faust's drop is before the agents


if __name__ == "__main__":
    app.Newsclean.clean = _clean
    sys.exit(main(["worker"]))
