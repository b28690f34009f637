"""`streams.nlp.turns`: chunks of every call under way take turns at the workers."""

import threading
from concurrent.futures import CancelledError, Future

import pytest

from streams.nlp.turns import Turns


class Workers:
    """Stands for the executor: records what was submitted; the test finishes each future."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, Future]] = []
        self.changed = threading.Condition()

    def submit(self, chunk: str) -> Future:
        future: Future = Future()
        with self.changed:
            self.submitted.append((chunk, future))
            self.changed.notify_all()
        return future

    def wait_for(self, count: int) -> list[str]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.submitted) >= count, timeout=5)
            return [chunk for chunk, _ in self.submitted]

    def finish(self, chunk: str) -> None:
        future = next(f for c, f in self.submitted if c == chunk)
        future.set_result(chunk.upper())


def _waiting_calls(turns: Turns, count: int) -> bool:
    """Whether `count` calls wait for a turn within 5 s (they queue in other threads)."""
    done = threading.Event()
    for _ in range(5000):
        if len(turns._waiting) == count:
            return True
        done.wait(0.001)
    return False


def _run_in_thread(turns: Turns, chunks: list[str], results: dict) -> threading.Thread:
    def run() -> None:
        try:
            results["value"] = turns.run(chunks)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            results["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_turns_a_call_arriving_behind_a_long_one_gets_the_next_free_worker():
    workers = Workers()
    turns = Turns(2, workers.submit)
    long, short = {}, {}
    long_thread = _run_in_thread(turns, ["l1", "l2", "l3", "l4", "l5"], long)
    assert workers.wait_for(2) == ["l1", "l2"]  # both workers on the long call
    short_thread = _run_in_thread(turns, ["s1", "s2"], short)
    assert _waiting_calls(turns, 2)  # the short call is queued before anything finishes
    workers.finish("l1")
    assert workers.wait_for(3)[2] == "s1"  # not l3: the newcomer has less work left
    workers.finish("l2")
    assert workers.wait_for(4)[3] == "s2"  # and still has: both workers finish it first
    workers.finish("s1")
    assert workers.wait_for(5)[4] == "l3"
    workers.finish("s2")
    short_thread.join(5)
    assert short == {"value": ["S1", "S2"]}  # done while the long call still runs
    for chunk in ["l3", "l4", "l5"]:
        workers.wait_for(int(chunk[1]) + 2)
        workers.finish(chunk)
    long_thread.join(5)
    assert long == {"value": ["L1", "L2", "L3", "L4", "L5"]}  # results in the call's order


def test_turns_go_to_the_least_work_left_then_to_the_first_come():
    workers = Workers()
    turns = Turns(1, workers.submit, size=lambda chunk: int(chunk[1]))
    calls = {name: {} for name in ("busy", "big", "small", "same")}
    threads = [_run_in_thread(turns, ["b1"], calls["busy"])]
    workers.wait_for(1)  # the one worker is busy while the others queue
    threads.append(_run_in_thread(turns, ["g5a", "g5b"], calls["big"]))
    assert _waiting_calls(turns, 1)
    threads.append(_run_in_thread(turns, ["s3"], calls["small"]))
    assert _waiting_calls(turns, 2)
    threads.append(_run_in_thread(turns, ["t3"], calls["same"]))
    assert _waiting_calls(turns, 3)
    order = ["b1"]
    for _ in range(4):
        workers.finish(order[-1])
        order.append(workers.wait_for(len(order) + 1)[-1])
    workers.finish(order[-1])
    # 10 characters left for "big": the two of 3 go first, in the order they came
    assert order == ["b1", "s3", "t3", "g5a", "g5b"]
    for thread in threads:
        thread.join(5)
    assert calls["big"] == {"value": ["G5A", "G5B"]} and calls["same"] == {"value": ["T3"]}


def test_turns_never_submit_more_than_the_slots():
    workers = Workers()
    turns = Turns(1, workers.submit)
    out = {}
    thread = _run_in_thread(turns, ["a", "b"], out)
    assert workers.wait_for(1) == ["a"]
    with workers.changed:
        assert not workers.changed.wait_for(lambda: len(workers.submitted) > 1, timeout=0.05)
    workers.finish("a")
    workers.wait_for(2)
    workers.finish("b")
    thread.join(5)
    assert out == {"value": ["A", "B"]}


@pytest.mark.parametrize("how", ["error", "cancelled", "refused"])
def test_turns_a_failed_chunk_fails_its_call_and_frees_its_worker(how):
    workers = Workers()
    if how == "refused":
        def submit(chunk):
            if chunk == "bad":
                raise RuntimeError("shut down")
            return workers.submit(chunk)
    else:
        submit = workers.submit
    turns = Turns(1, submit)
    failed, after = {}, {}
    thread = _run_in_thread(turns, ["bad", "never"], failed)
    if how != "refused":
        workers.wait_for(1)
        future = workers.submitted[0][1]
        future.set_exception(RuntimeError("child died")) if how == "error" else future.cancel()
    thread.join(5)
    expected = CancelledError if how == "cancelled" else RuntimeError
    assert isinstance(failed.get("error"), expected)
    assert "never" not in [chunk for chunk, _ in workers.submitted]  # the rest of a failed call is dropped
    submitted = len(workers.submitted)
    other = _run_in_thread(turns, ["ok"], after)  # the slot is free again
    workers.wait_for(submitted + 1)
    workers.finish("ok")
    other.join(5)
    assert after == {"value": ["OK"]}


def test_turns_fail_waiting_ends_calls_still_waiting():
    workers = Workers()
    turns = Turns(1, workers.submit)
    first, second = {}, {}
    first_thread = _run_in_thread(turns, ["a"], first)
    workers.wait_for(1)
    second_thread = _run_in_thread(turns, ["b"], second)
    assert _waiting_calls(turns, 1)
    turns.fail_waiting(RuntimeError("closed"))
    second_thread.join(5)
    assert isinstance(second.get("error"), RuntimeError)
    workers.finish("a")
    first_thread.join(5)
    assert first == {"value": ["A"]}
