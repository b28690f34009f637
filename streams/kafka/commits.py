"""How the worker commits what its agents delivered (`ReleasingConsumer.delivered`): in the
background, one commit at a time, each taking every offset delivered meanwhile, by any agent.

An agent used to wait for its own commit — a hop to the consumer's thread and a round trip to
the broker — before it took its next batch, and each of the three agents sent its own. The
guarantee is unchanged: only offsets whose output Kafka has are ever handed here, and offsets
only move forward. The stop and rebalances wait for the commit under way (`flush`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("newsclean")


class Commits:
    def __init__(self, commit: Callable[[dict[Any, int]], Awaitable[Any]]) -> None:
        self._commit = commit
        self.pending: dict[Any, int] = {}  # tp -> next offset, delivered, not yet committed
        self._running: asyncio.Future | None = None
        self.failed: BaseException | None = None

    def add(self, tp: Any, offset: int) -> None:
        if offset > self.pending.get(tp, -1):
            self.pending[tp] = offset

    def start(self) -> None:
        """Commit what is pending, unless a commit is under way (it takes the rest when done)."""
        if self.failed is not None:
            raise self.failed
        if self.pending and (self._running is None or self._running.done()):
            self._running = asyncio.ensure_future(self._run())

    def drop(self) -> None:
        """Forget what is pending (a new assignment: the partitions start over from the broker's offsets)."""
        self.pending.clear()

    async def _run(self) -> None:
        try:
            while self.pending:
                offsets, self.pending = self.pending, {}
                await self._commit(offsets)
        except Exception as exc:
            self.failed = exc  # the next `start` raises it in the agent, as its own commit did
            log.error("committing the delivered offsets failed: %r", exc)

    async def flush(self) -> None:
        """Until the commit under way, and what it takes meanwhile, is done."""
        while self._running is not None and not self._running.done():
            await asyncio.wait([self._running])
