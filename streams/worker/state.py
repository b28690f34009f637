"""The feed state of a Faust table: the log in the table, the index in memory.

The table (changelogged, compacted) holds only the log records of `streams.core.state_log`;
the state the core decides on (`TableState.index`: a `DictIndex`, or for a large feed a
`CompactIndex`, `NEWSCLEAN_STATE_INDEX`) is derived from them: after each recovery
Faust runs on a rebalance (or at start), it is rebuilt from the records of the partitions this
worker holds; the records of revoked partitions leave the table with it. `TableBatch` is the
batch path's `FeedState` over it (`streams.batch`).
"""

from __future__ import annotations

import asyncio

import faust

from streams.batch import Incoming
from streams.core.settings import PipelineSettings
from streams.core.compact_index import CompactIndex
from streams.core.models import DictIndex
from streams.core.state_log import IndexWrites, StateLog, is_record_key, rebuild_into


INDEXES: dict[str, type[DictIndex] | type[CompactIndex]] = {"dict": DictIndex, "compact": CompactIndex}


class TableState:
    __slots__ = ("table", "settings", "log", "make_index", "_index")

    def __init__(self, table: faust.Table, settings: PipelineSettings, index: str = "dict") -> None:
        self.table = table
        self.settings = settings
        self.log = StateLog()
        self.make_index = INDEXES[index]
        self._index: DictIndex | CompactIndex | None = None
        table.on_recover(self._recovered)  # after every recovery, the partitions it holds may differ

    async def _recovered(self) -> None:
        """Rebuild now, while the worker is still recovering (not ready), in a thread: a large
        state takes tens of seconds (bench/README.md), which must not stall the event loop's
        heartbeats. The property rebuilds on first use if this has not run."""
        self._index = None
        self._index = await asyncio.to_thread(self.restore)

    @property
    def index(self) -> DictIndex | CompactIndex:
        if self._index is None:
            self._index = self.restore()
        return self._index

    @property
    def keys(self) -> int:
        """Keys of the state as built so far (0 until its first use after a recovery)."""
        return len(self._index) if self._index is not None else 0

    def restore(self) -> DictIndex | CompactIndex:
        """The index of the assigned partitions, from their log records in the table."""
        topic = self.table.changelog_topic.get_topic_name()
        actives = {tp.partition for tp in self.table.app.assignor.assigned_actives() if tp.topic == topic}
        records = []
        for raw_key, value in list(self.table.data.items()):
            partition, _, name = raw_key.decode("utf-8", "replace").partition("/")
            if not (partition.isdigit() and is_record_key(name)):
                continue  # not a log record (an older worker's per-key state): not state
            if int(partition) in actives:
                records.append((int(partition), name, value))
            else:
                del self.table.data[raw_key]  # revoked: another worker holds it now
        index = self.make_index()
        rebuild_into(index, self.log.restore(records), self.settings.dedup, self.settings.feed)
        return index


class TableStore(IndexWrites):
    """One article's transaction over a table's state (`streams.core.state_log.IndexWrites`)."""

    __slots__ = ()

    def __init__(self, state: TableState) -> None:
        super().__init__(state.index)


class TableBatch:
    """`streams.batch.FeedState` over a table's state for one batch: a `TableStore` per article,
    its writes kept in `writes` (for the changelog) at the partition of the record being processed."""

    __slots__ = ("state", "writes")

    def __init__(self, state: TableState, writes: dict[tuple[int, str], bytes | None]) -> None:
        self.state = state
        self.writes = writes

    def begin(self, incoming: Incoming) -> TableStore:
        return TableStore(self.state)

    def keep(self, store: TableStore, incoming: Incoming) -> None:
        store.apply(incoming.handle.partition, self.writes)


async def send_changelog(state: TableState, writes: dict[tuple[int, str], bytes | None]) -> list[asyncio.Future]:
    """The batch's writes as a few log records (one per partition and slice) and tombstones,
    in the table and on its changelog; the futures resolve on delivery. Sent straight to the
    producer rather than through `Table.send_changelog`, whose `send_soon` buffer stalls the
    stream in `wait_until_ebb` once it holds 100 records."""
    table = state.table
    topic = table.changelog_topic
    futures = []
    for partition, name, value in state.log.log((partition, key, value) for (partition, key), value in writes.items()):
        raw_key = f"{partition}/{name}".encode()
        if value is None:
            table.data.pop(raw_key, None)
        else:
            table.data[raw_key] = value
        futures.append(await topic.send(key=raw_key, value=value, partition=partition, key_serializer="raw",
                                        value_serializer="raw", callback=table._on_changelog_sent, force=True))
    return futures
