"""The worker's feed state on Faust tables: `TableStore` (a `SeenStore` transaction over a table),
`TableBatch` (the batch path's `FeedState` over it) and `send_changelog` (a batch's writes, one
changelog record per key)."""

from __future__ import annotations

import asyncio

import faust

from streams.batch import Incoming


class TableStore:
    """`SeenStore` over the Faust table for one article, as a transaction: writes are held until
    `commit()`, so an article that fails or runs out of time half way leaves no trace in the
    feed state and the state stays a function of the articles that went through."""

    __slots__ = ("table", "pending")

    def __init__(self, table: faust.Table) -> None:
        self.table = table
        self.pending: dict[bytes, bytes | None] = {}  # None: delete

    def get(self, key: str) -> bytes | None:
        raw_key = key.encode()
        if raw_key in self.pending:
            return self.pending[raw_key]
        return self.table.data.get(raw_key)

    def set(self, key: str, value: bytes) -> None:
        self.pending[key.encode()] = value

    def delete(self, key: str) -> None:
        self.pending[key.encode()] = None

    async def commit(self, partition: int) -> list[asyncio.Future]:
        """Apply the writes and send them to the changelog; the futures resolve on delivery."""
        writes: dict[tuple[int, bytes], bytes | None] = {}
        self.apply(partition, writes)
        return await send_changelog(self.table, writes)

    def apply(self, partition: int, writes: dict[tuple[int, bytes], bytes | None]) -> None:
        """Apply the writes to the table and note them in `writes` for the changelog, the last
        value per key winning: a batch sends each key once however many of its articles wrote it,
        at the place of its last write. That order keeps what a crash leaves (a prefix of the
        records) consistent: an article's index record still precedes every entry value that
        carries its sighting (`streams.core.boilerplate`).
        The partition is named explicitly — that of the by-source event being processed —
        because Faust would otherwise take the partition of whatever event it saw last."""
        data = self.table.data
        for raw_key, value in self.pending.items():
            if value is None:
                if data.pop(raw_key, None) is None and (partition, raw_key) not in writes:
                    continue  # nothing to delete: no tombstone needed
            else:
                data[raw_key] = value
            writes.pop((partition, raw_key), None)  # to the end: the place of the last write
            writes[(partition, raw_key)] = value
        self.pending.clear()


class TableBatch:
    """`streams.batch.FeedState` over a table for one batch: a `TableStore` per article, its
    writes kept in `writes` (for the changelog) at the partition of the record being processed."""

    __slots__ = ("table", "writes")

    def __init__(self, table: faust.Table, writes: dict[tuple[int, bytes], bytes | None]) -> None:
        self.table = table
        self.writes = writes

    def begin(self, incoming: Incoming) -> TableStore:
        return TableStore(self.table)

    def keep(self, store: TableStore, incoming: Incoming) -> None:
        store.apply(incoming.handle.partition, self.writes)


async def send_changelog(table: faust.Table, writes: dict[tuple[int, bytes], bytes | None]) -> list[asyncio.Future]:
    """One changelog record per key (a compacted changelog keeps only a key's last value); the
    futures resolve on delivery. Sent straight to the producer rather than through
    `Table.send_changelog`: its `send_soon` buffer holds 100 records, a batch writes hundreds, and
    past 100 Faust stalls the stream in `wait_until_ebb` until the buffer drains one record per
    loop iteration (what that cost: bench/README.md "Figures behind the defaults")."""
    topic = table.changelog_topic
    return [await topic.send(key=raw_key, value=value, partition=partition, key_serializer="raw", value_serializer="raw",
                             callback=table._on_changelog_sent, force=True)  # now, not attached to the event
            for (partition, raw_key), value in writes.items()]
