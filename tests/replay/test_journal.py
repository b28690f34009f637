"""`streams.replay.journal`: the replay's durable state."""

from __future__ import annotations

from streams.core.settings import PipelineSettings
from streams.core.state_log import unpack_ops
from streams.replay.journal import PLAN, PROGRESS, JournalStore, Restored, apply_record, checkpoint_records


def test_journal_store_drains_one_log_record_per_slice_and_batch():
    store = JournalStore("w")
    store.set("src1:t5.0", b"r1")
    store.set("src1:0000000000000007", b"index")  # derived: rebuilt, never journalled
    store.set("src1:meta", b"m1")
    store.set("src1:meta", b"m2")
    store.delete("never")  # nothing to delete: nothing sent
    first = dict(store.drain())
    assert list(first) == [b"w:src1/000000000000"]
    assert unpack_ops(first[b"w:src1/000000000000"]) == [("src1:t5.0", b"r1"), ("src1:meta", b"m2")]
    assert list(store.drain()) == []
    store.set("src1:meta", b"m3")
    store.delete("src1:t5.0")  # the bucket expired: the first record holds nothing live any more
    second = dict(store.drain())
    assert second[b"w:src1/000000000000"] is None and len(second) == 2
    assert store.get("src1:meta") == b"m3" and store.get("src1:t5.0") is None


def test_journal_restore_rebuilds_state_plan_and_progress():
    store = JournalStore("w")
    store.set("feed:meta", b"\0" * 12)
    store.set("src1:meta", b"\1" * 12)
    first = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 5}})]
    store.set("src1:meta", b"\2" * 12)
    second = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 9}})]
    restored = Restored()
    for key, value in [*first, *second, (b"unknown:q", b"4")]:
        apply_record(restored, key, value)
    again = JournalStore.restore("w", restored.stores["w"], PipelineSettings())
    assert again.data == store.data == {"feed:meta": b"\0" * 12, "src1:meta": b"\2" * 12}
    assert restored.stores["c"] == {}
    assert restored.plan == {"identity": {"x": 1}} and restored.progress == {"positions": {"news:0": 9}}
    assert {PLAN, PROGRESS} <= {k for k, _ in first}
