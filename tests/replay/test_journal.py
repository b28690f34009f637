"""`streams.replay.journal`: the replay's durable state."""

from __future__ import annotations


from streams.replay.journal import PLAN, PROGRESS, JournalStore, Restored, apply_record, checkpoint_records


def test_journal_store_drains_last_writes_and_tombstones():
    store = JournalStore("w", {"old": b"1"})
    store.set("a", b"x")
    store.set("a", b"y")
    store.delete("old")
    store.delete("never")  # nothing to delete: no tombstone
    assert dict(store.drain()) == {b"w:a": b"y", b"w:old": None}
    assert list(store.drain()) == []
    assert store.get("a") == b"y" and store.get("old") is None


def test_journal_restore_rebuilds_state_plan_and_progress():
    store = JournalStore("w")
    store.set("a", b"1")
    store.set("b", b"2")
    first = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 5}})]
    store.delete("a")
    second = [*store.drain(), *checkpoint_records({"identity": {"x": 1}}, {"positions": {"news:0": 9}})]
    restored = Restored()
    for key, value in [*first, *second, (b"c:z", b"3"), (b"unknown:q", b"4")]:
        apply_record(restored, key, value)
    assert restored.stores == {"w": {"b": b"2"}, "c": {"z": b"3"}}
    assert restored.plan == {"identity": {"x": 1}} and restored.progress == {"positions": {"news:0": 9}}
    assert {PLAN, PROGRESS} <= {k for k, _ in first}
