"""`streams.worker.state`: the per-article table transaction and its changelog records."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from streams.worker.state import TableStore, send_changelog


# ---------------------------------------------------------------- the feed-state transaction


@dataclass
class _Topic:
    sent: list = field(default_factory=list)

    async def send(self, key, value, partition, key_serializer=None, value_serializer=None, callback=None, force=False):
        self.sent.append((partition, key, value, key_serializer, value_serializer))
        return asyncio.get_running_loop().create_future()


@dataclass
class _Table:
    data: dict = field(default_factory=dict)
    changelog_topic: _Topic = field(default_factory=_Topic)

    @property
    def sent(self):
        return self.changelog_topic.sent

    def _on_changelog_sent(self, fut):
        pass


async def test_state_table_store_holds_writes_until_commit():
    table = _Table({b"old": b"1", b"gone": b"2"})
    store = TableStore(table)
    store.set("new", b"3")
    store.delete("gone")
    store.delete("never-there")
    assert store.get("new") == b"3" and store.get("gone") is None and store.get("old") == b"1"
    assert table.data == {b"old": b"1", b"gone": b"2"} and table.sent == []  # nothing applied yet
    sent = await store.commit(partition=5)
    assert table.data == {b"old": b"1", b"new": b"3"}
    assert table.sent == [(5, b"new", b"3", "raw", "raw"), (5, b"gone", None, "raw", "raw")]  # no tombstone for a key never there
    assert len(sent) == 2 and store.pending == {}


async def test_state_table_store_batch_sends_each_key_once_with_its_last_value():
    table = _Table({b"old": b"1"})
    writes = {}
    first, second = TableStore(table), TableStore(table)
    first.set("k", b"a")
    first.set("gone-later", b"x")
    first.apply(0, writes)
    assert second.get("k") == b"a"  # the next article of the batch sees the first one's writes
    second.set("k", b"b")
    second.delete("gone-later")  # written and deleted within the batch: the tombstone still goes out
    second.delete("old")
    second.delete("never-there")
    second.apply(0, writes)
    assert table.data == {b"k": b"b"}
    assert len(await send_changelog(table, writes)) == 3
    assert table.sent == [(0, b"k", b"b", "raw", "raw"), (0, b"gone-later", None, "raw", "raw"), (0, b"old", None, "raw", "raw")]
