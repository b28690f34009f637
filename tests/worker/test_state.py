"""The worker's feed-state table: per-article transactions over the in-memory index, one log
record per partition and slice per batch on the changelog, the index rebuilt after recovery from
the records of the partitions held."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from faust.types import TP

from streams.core.source_table import pack_entries, pack_index_record, source_prefix
from streams.core.pipeline import PipelineSettings
from streams.core.state_log import unpack_ops
from streams.worker.state import TableState, TableStore, send_changelog


@dataclass
class _Topic:
    sent: list = field(default_factory=list)

    def get_topic_name(self):
        return "app-seen-changelog"

    async def send(self, key, value, partition, key_serializer=None, value_serializer=None, callback=None, force=False):
        self.sent.append((partition, key, value))
        return asyncio.get_running_loop().create_future()


@dataclass
class _Assignor:
    actives: set = field(default_factory=set)

    def assigned_actives(self):
        return self.actives


@dataclass
class _App:
    assignor: _Assignor = field(default_factory=_Assignor)


@dataclass
class _Table:
    data: dict = field(default_factory=dict)
    changelog_topic: _Topic = field(default_factory=_Topic)
    app: _App = field(default_factory=_App)
    recover: list = field(default_factory=list)

    def on_recover(self, fun):
        self.recover.append(fun)
        return fun

    def _on_changelog_sent(self, fut):
        pass


A, B = source_prefix("Alpha"), source_prefix("Beta")


def _record(seconds: int, fingerprints: list[int]) -> bytes:
    return pack_index_record((seconds, 1, 0), fingerprints, ())


async def test_state_a_batch_is_one_record_per_partition_and_slice():
    table = _Table()
    table.app.assignor.actives = {TP("app-seen-changelog", 0), TP("app-seen-changelog", 3)}
    state = TableState(table, PipelineSettings())
    writes: dict = {}
    first = TableStore(state)
    first.set(f"{A}:t10.0", _record(36000, [7, 8]))
    first.set(f"{A}:{7:016x}", b"derived")  # an index key: never on the changelog
    first.set(f"{A}:meta", b"m1")
    assert len(state.index) == 0  # held until the article went through
    first.apply(0, writes)
    second = TableStore(state)
    assert second.get(f"{A}:meta") == b"m1"  # the next article of the batch sees the first's writes
    second.set(f"{A}:meta", b"m2")
    second.apply(0, writes)
    third = TableStore(state)  # another source, in another partition
    third.set(f"{B}:meta", b"b1")
    third.apply(3, writes)
    sent = await send_changelog(state, writes)
    assert len(sent) == 2
    (p1, k1, v1), (p2, k2, v2) = table.changelog_topic.sent
    assert (p1, k1) == (0, f"0/{A}/000000000000".encode()) and (p2, k2) == (3, f"3/{B}/000000000000".encode())
    assert unpack_ops(v1) == [(f"{A}:t10.0", _record(36000, [7, 8])), (f"{A}:meta", b"m2")]
    assert table.data == {k1: v1, k2: v2}  # the table holds the log, as Faust restores it


async def test_state_recovery_rebuilds_the_index_of_the_partitions_held():
    table = _Table()
    table.app.assignor.actives = {TP("app-seen-changelog", 0), TP("app-seen-changelog", 3)}
    state = TableState(table, PipelineSettings())
    writes: dict = {}
    store = TableStore(state)
    store.set(f"{A}:t10.0", _record(36000, [7]))
    store.apply(0, writes)
    store = TableStore(state)
    store.set(f"{B}:t10.0", _record(36000, [9]))
    store.apply(3, writes)
    await send_changelog(state, writes)
    assert set(state.index) == {f"{A}:t10.0", f"{B}:t10.0"}  # live, the core writes the entries itself
    table.app.assignor.actives = {TP("app-seen-changelog", 0)}  # a rebalance took partition 3 away
    for fun in table.recover:  # Faust's recovery completed
        await fun()
    rebuilt = dict(state.index.items())
    assert rebuilt == {f"{A}:t10.0": _record(36000, [7]), f"{A}:t10": b"\x01\0\0\0",
                       f"{A}:{7:016x}": pack_entries([(36000, 1, 0)])}  # entry and count derived
    assert all(not key.startswith(b"3/") for key in table.data)  # revoked records leave the table


async def test_state_the_index_setting_picks_the_index_recovery_rebuilds_into():
    from streams.config import ConfigError, from_env
    from streams.core.compact_index import CompactIndex

    assert from_env({"NEWSCLEAN_STATE_INDEX": "compact"}).state_index == "compact"
    with pytest.raises(ConfigError, match="NEWSCLEAN_STATE_INDEX"):
        from_env({"NEWSCLEAN_STATE_INDEX": "rocks"})
    table = _Table()
    table.app.assignor.actives = {TP("app-seen-changelog", 0)}
    state = TableState(table, PipelineSettings(), "compact")
    writes: dict = {}
    store = TableStore(state)
    store.set(f"{A}:t10.0", _record(36000, [7]))
    store.apply(0, writes)
    await send_changelog(state, writes)
    for fun in table.recover:
        await fun()
    assert isinstance(state.index, CompactIndex)
    assert state.index.get(f"{A}:{7:016x}") == pack_entries([(36000, 1, 0)])  # derived into its table
    assert len(state.index.fingerprint_tables[f"{A}:"]) == 1
