"""Turns at a few workers for many callers (the model's processes, `streams.nlp.pool`).

Each call brings its work cut into chunks. A free worker takes the next chunk of the call with
the least work left to hand out (shortest remaining work first; among equals, the call that came
first): a call that comes in behind a long one waits for one chunk under way, not for the whole
long call, and then has both workers until it is done. That order minimises the mean wait (Schrage
1968, SRPT), and a short article's latency is what the p99 measures; a long call is held back only
while shorter ones wait, and the callers bound how many that can be (the enrich agent keeps at
most `ENRICH_BATCHES_UNDER_WAY` batches under way). A plain executor runs work in the order
submitted, so an article that arrives while a long one is in the model would wait for all of it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from functools import partial
from typing import Any


class Turns:
    """`slots` chunks at a time, given to `submit` (which runs one and returns its future);
    `size` is a chunk's work (the pool's: its characters)."""

    def __init__(self, slots: int, submit: Callable[[Any], Future], size: Callable[[Any], int] = len) -> None:
        self.submit = submit
        self.size = size
        self._lock = threading.RLock()  # RLock: a done callback can run inside `submit`
        self._waiting: list[_Call] = []  # calls with chunks not yet submitted
        self._arrivals = itertools.count()
        self._free = slots

    def run(self, chunks: Sequence[Any]) -> list[Any]:
        """Each chunk's result, in order, once all are done; blocks the calling thread. Raises
        the first chunk's error (the call's other chunks not yet submitted are dropped), or
        `CancelledError` if a chunk's future was cancelled."""
        call = _Call(list(chunks), [self.size(chunk) for chunk in chunks], next(self._arrivals))
        if not call.chunks:
            return []
        with self._lock:
            self._waiting.append(call)
            self._hand_out()
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.results

    def fail_waiting(self, error: BaseException) -> None:
        """Fail every call still waiting for a turn (the workers are going away)."""
        with self._lock:
            for call in self._waiting:
                call.fail(error)
            self._waiting.clear()

    def _hand_out(self) -> None:
        """Under the lock: free slots take the next chunk of the call with the least work left."""
        while self._free and self._waiting:
            call = min(self._waiting, key=_Call.order)
            if call.error is not None:  # failed: its other chunks are not worth running
                self._waiting.remove(call)
                continue
            index = call.submitted
            call.submitted += 1
            call.unsubmitted -= call.sizes[index]
            if call.submitted == len(call.chunks):
                self._waiting.remove(call)
            self._free -= 1
            try:
                future = self.submit(call.chunks[index])
            except BaseException as exc:  # noqa: BLE001 - a broken or shut down executor refuses work
                self._free += 1
                call.fail(exc)
                continue
            future.add_done_callback(partial(self._chunk_done, call, index))

    def _chunk_done(self, call: _Call, index: int, future: Future) -> None:
        with self._lock:
            self._free += 1
            if future.cancelled():
                call.fail(CancelledError())
            elif future.exception() is not None:
                call.fail(future.exception())
            else:
                call.finish(index, future.result())
            self._hand_out()


class _Call:
    """One `run`: its chunks and their sizes, what is not yet handed out, the results as they
    come, and when all are in."""

    __slots__ = ("chunks", "sizes", "arrival", "unsubmitted", "results", "submitted", "left", "error", "done")

    def __init__(self, chunks: list[Any], sizes: list[int], arrival: int) -> None:
        self.chunks = chunks
        self.sizes = sizes
        self.arrival = arrival
        self.unsubmitted = sum(sizes)
        self.results: list[Any] = [None] * len(chunks)
        self.submitted = 0
        self.left = len(chunks)
        self.error: BaseException | None = None
        self.done = threading.Event()

    def order(self) -> tuple[int, int]:
        return self.unsubmitted, self.arrival

    def finish(self, index: int, result: Any) -> None:
        self.results[index] = result
        self.left -= 1
        if self.left == 0:
            self.done.set()

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self.done.set()
