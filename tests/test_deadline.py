"""`streams.deadline`: the per-article wall-clock limit."""

from __future__ import annotations

import threading

import pytest

from streams.deadline import ArticleTimeout, Deadline
import streams.deadline


# ---------------------------------------------------------------- time limit


def test_deadline_interrupts_a_busyarticle():
    with pytest.raises(ArticleTimeout):
        with Deadline(0.05):
            while True:
                pass
    with Deadline(5.0):
        pass  # disarmed on exit: no alarm arrives later
    assert streams.deadline.signal.getitimer(streams.deadline.signal.ITIMER_REAL) == (0.0, 0.0)


def test_deadline_is_not_armed_off_the_main_thread():
    armed = []
    thread = threading.Thread(target=lambda: armed.append(Deadline(0.01).__enter__().armed))
    thread.start()
    thread.join()
    assert armed == [False]
