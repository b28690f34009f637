"""The per-article wall-clock limit (`max_article_seconds`), shared by the worker and the replay."""

from __future__ import annotations

import signal
import threading
from typing import Any


class ArticleTimeout(Exception):
    pass


class Deadline:
    """Preempts one synchronous pipeline step after `seconds` of wall time by raising
    `ArticleTimeout` in it (SIGALRM). The step runs on the event loop's thread, so nothing
    else runs meanwhile; only the main thread can take the signal, elsewhere it is not armed.
    Pure-Python work is interrupted between bytecodes, so a hostile input cannot stall the
    worker even where the core's cost grows faster than linearly."""

    __slots__ = ("seconds", "previous", "armed")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.previous: Any = None
        self.armed = False

    def __enter__(self) -> Deadline:
        if self.seconds > 0 and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, _expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            self.armed = False


def _expire(signum: int, frame: Any) -> None:
    raise ArticleTimeout
