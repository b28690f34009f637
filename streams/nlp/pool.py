"""spaCy in child processes (`NEWSCLEAN_NER_PROCESSES`): the model runs outside the worker's
interpreter, so it neither holds the GIL against the event loop nor is limited to one core.

Only plain data crosses the boundary: a list of str goes in, a tuple of span tuples per text comes
back (`RawSpan`). Planning, the paragraph cache and entity merging stay in the parent, which
`streams.nlp.extractor.EntityExtractor` does; this module only answers "the model spans of these texts".

Children are started with the spawn method (no forked copy of the worker's Kafka clients or event
loop), load the model once in their initializer, ignore SIGINT/SIGTERM (the parent decides when
to stop: it finishes its batch on SIGTERM and needs them for that), and exit on their own if the
parent dies without shutting them down (SIGKILL)."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from streams.nlp.model import RawSpan, load_nlp, raw_spans
from streams.nlp.settings import NerSettings
from streams.nlp.turns import Turns

log = logging.getLogger("newsclean")
# The longest an arriving article waits for a child to take its first chunk: ~55 ms of model time
# (~14 ms per 1,000 characters, bench/README.md). 2,000 halved that wait but cost 5-8 % of the
# NER-on throughput (smaller `nlp.pipe` batches, more hand-offs) with no p99 gain measured; a
# paragraph is never cut (its entities would change).
CHUNK_CHARS = 4_000

# ---------------------------------------------------------------- in the child

_nlp = None
_batch_size = 64
_failed: BaseException | None = None  # a load error, raised by every task so the parent sees it


def _init(settings: NerSettings, parent: int) -> None:
    global _nlp, _batch_size, _failed
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="newsclean-ner-watch", daemon=True).start()
    _keep_heap()
    try:
        _nlp, _ = load_nlp(settings)
        _batch_size = settings.batch_size
        list(_nlp.pipe(["Warm-up in London."]))  # the first call allocates; keep it off the first batch
    except BaseException as exc:  # noqa: BLE001 - reported to the parent by `_ready`/`_spans`
        _failed = exc


def _keep_heap() -> None:
    """glibc's default trims the freed top of a small fresh heap and mmaps large blocks, so each
    `nlp.pipe` batch's arrays page-faulted in again: 1.0-1.6 ms of system time per article in a
    child against ~0.05 in one process (2026-12-02, clean feed). Freed memory is kept for the next
    batch instead. Not glibc: nothing to do."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest (64-bit); also fixes it
    except (OSError, AttributeError):
        pass


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


def _exit_with(parent: int) -> None:
    """The executor's queues do not tell a child that its parent was SIGKILLed: poll."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _ready() -> int:
    if _failed is not None:
        raise _failed
    return os.getpid()


def _spans(texts: list[str]) -> list[tuple[RawSpan, ...]]:
    if _failed is not None:
        raise _failed
    return [raw_spans(doc) for doc in _nlp.pipe(texts, batch_size=_batch_size)]


# ---------------------------------------------------------------- in the parent


class ModelPool:
    """`processes` children, each with its own copy of the model, shared by every caller.

    A call's texts are cut into contiguous chunks balanced by characters (the model's cost is
    about linear in them): one per child at least, so even a one-article batch uses every core,
    and none much over `CHUNK_CHARS` (a paragraph is never cut), so a long article is many
    chunks. The children take the chunks of every call under way in turns (`streams.nlp.turns`,
    the least work left first): an article that arrives behind a long one waits for one chunk,
    not for all of it. Results come back in input order."""

    def __init__(self, settings: NerSettings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._restarting = threading.Lock()
        self._closed = False
        self.executor = self._start()
        self.turns = Turns(processes, lambda chunk: self.executor.submit(_spans, chunk),
                           size=lambda chunk: sum(map(len, chunk)))  # the model's cost: about linear in characters

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init, initargs=(self.settings, os.getpid()))
        try:
            # One task per child, submitted together so each one is spawned now: a missing model
            # stops the worker at start, and the first batch does not wait for the loading.
            for future in [executor.submit(_ready) for _ in range(self.processes)]:
                future.result()
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return executor

    def spans(self, texts: Sequence[str]) -> list[tuple[RawSpan, ...]]:
        """The model spans of `texts`; blocks the calling thread (any number of threads at once)."""
        if not texts:
            return []
        chunks = split(texts, max(self.processes, -(-sum(len(t) for t in texts) // CHUNK_CHARS)))
        executor = self.executor
        try:
            found = self.turns.run(chunks)
        except (BrokenProcessPool, CancelledError):
            # A child died (killed, out of memory), or another call restarted the pool under
            # this one's chunks: one fresh pool, one more try; a second failure propagates and
            # stops the worker with the batch uncommitted.
            self._restart(executor)
            found = self.turns.run(chunks)
        return [spans for chunk in found for spans in chunk]

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._restarting:
            if self._closed:
                raise RuntimeError("the NER pool was closed")
            if self.executor is broken:  # not yet restarted by another call that saw it break
                log.error("NER process pool broken; restarting it")
                broken.shutdown(wait=False, cancel_futures=True)
                self.executor = self._start()

    def close(self) -> None:
        with self._restarting:
            self._closed = True
        self.turns.fail_waiting(RuntimeError("the NER pool was closed"))
        self.executor.shutdown(wait=True, cancel_futures=True)


def split(texts: Sequence[str], parts: int) -> list[list[str]]:
    """At most `parts` contiguous, non-empty chunks of about equal total length."""
    total = sum(len(t) for t in texts) or 1
    chunks: list[list[str]] = [[]]
    done = 0
    for i, text in enumerate(texts):
        # Start a new chunk when this one has its share and texts remain for the others.
        if chunks[-1] and len(chunks) < parts and done >= total * len(chunks) / parts:
            chunks.append([])
        chunks[-1].append(text)
        done += len(text)
    return chunks
