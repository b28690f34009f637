"""One timing rule for the micro-benchmarks: CPU time, best of several passes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_cpu_us(step: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    """CPU microseconds per item of the fastest of `rounds` passes over `items`: the fastest pass
    is the one other processes on the machine disturbed least."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for item in items:
            step(item)
        best = min(best, time.process_time() - start)
    return best / len(items) * 1e6
