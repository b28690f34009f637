"""One contract for every feed-state store (`streams.core.models.SeenStore`): get/set/delete, and
for the per-article transactions, commit and rollback. The core's rules (repeats, boilerplate,
links) are tested on the memory store; this suite is what lets them hold on the others: the
worker's compact index and its table store (driven here with a stand-in for the Faust table), the
replay's journal store and the per-article writes of the replay and the offline mode."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from streams.core.compact_index import CompactIndex
from streams.core.models import ArticleWrites, DictIndex, MemoryStore
from streams.replay.journal import JournalStore
from streams.worker.state import TableStore


class _Table:
    """What `TableStore` reads of a table's state: the index rebuilt in memory from its log."""

    def __init__(self, index) -> None:
        self.index = index


class _Base:
    """A store under test with what sits beneath it: `base` reads what a commit left there."""

    def __init__(self, store: Any, base: Callable[[str], bytes | None], commit: Callable[[], None]) -> None:
        self.store, self.base, self.commit = store, base, commit


def _memory() -> _Base:
    store = MemoryStore()
    return _Base(store, store.get, lambda: None)


def _compact() -> _Base:
    store = CompactIndex()
    return _Base(store, store.get, lambda: None)


def _journal() -> _Base:
    store = JournalStore("w")
    return _Base(store, store.get, lambda: None)


def _article_writes() -> _Base:
    base = MemoryStore()
    writes = ArticleWrites(base)
    return _Base(writes, base.get, writes.commit)


def _table_store(index=CompactIndex) -> _Base:
    table = _Table(index())
    store = TableStore(table)
    changelog: dict = {}
    return _Base(store, table.index.get, lambda: store.apply(0, changelog))


def _dict() -> _Base:
    store = DictIndex()
    return _Base(store, store.get, lambda: None)


STORES = {"memory": _memory, "compact": _compact, "dict": _dict, "journal": _journal, "article_writes": _article_writes,
          "table_store": _table_store, "table_store_dict": lambda: _table_store(DictIndex)}
TRANSACTIONS = {"article_writes": _article_writes, "table_store": _table_store,
                "table_store_dict": lambda: _table_store(DictIndex)}


@pytest.fixture(params=list(STORES))
def made(request) -> _Base:
    return STORES[request.param]()


@pytest.fixture(params=list(TRANSACTIONS))
def transaction(request) -> _Base:
    return TRANSACTIONS[request.param]()


def test_store_contract_missing_key_reads_none(made):
    assert made.store.get("never-written") is None


def test_store_contract_set_then_get_returns_the_same_bytes(made):
    made.store.set("a", b"\x00\xffvalue")
    made.store.set("b", b"other")
    assert (made.store.get("a"), made.store.get("b")) == (b"\x00\xffvalue", b"other")


def test_store_contract_last_write_wins(made):
    made.store.set("a", b"1")
    made.store.set("a", b"2")
    assert made.store.get("a") == b"2"


def test_store_contract_delete_removes_only_that_key(made):
    made.store.set("a", b"1")
    made.store.set("b", b"2")
    made.store.delete("a")
    assert (made.store.get("a"), made.store.get("b")) == (None, b"2")


def test_store_contract_delete_of_a_missing_key_is_harmless(made):
    made.store.delete("never-written")
    assert made.store.get("never-written") is None
    made.store.set("never-written", b"now")
    assert made.store.get("never-written") == b"now"


def test_store_contract_committed_state_is_what_was_read(made):
    made.store.set("a", b"1")
    made.store.set("b", b"2")
    made.store.delete("b")
    made.commit()
    assert (made.base("a"), made.base("b")) == (b"1", None)


def test_store_contract_transaction_writes_are_invisible_below_until_commit(transaction):
    transaction.store.set("a", b"1")
    assert transaction.store.get("a") == b"1" and transaction.base("a") is None
    transaction.commit()
    assert transaction.base("a") == b"1"


def test_store_contract_transaction_not_committed_leaves_no_trace(transaction):
    transaction.store.set("a", b"1")
    transaction.commit()
    transaction.store.set("a", b"2")
    transaction.store.set("b", b"3")
    transaction.store.delete("a")
    assert transaction.store.get("a") is None  # the transaction sees its own delete
    # rollback: the article failed, its store is dropped without a commit
    assert (transaction.base("a"), transaction.base("b")) == (b"1", None)


# keys of the shapes `CompactIndex` packs (a fingerprint entry, a link band) and their
# non-canonical spellings, which must stay other keys
SHAPED = ["0a1b2c3d:00000000000000ff", "0a1b2c3d:00000000000000FF", "0a1b2c3d:0x000000000000ff",
          "0a1b2c3d:0000000000000000", "feed:b42:07deadbeef", "feed:b042:07deadbeef", "feed:b42:07DEADBEEF"]


def test_store_contract_shaped_keys_and_their_other_spellings_are_distinct_keys(made):
    for number, key in enumerate(SHAPED):
        made.store.set(key, bytes([number]) * (number + 3))  # 3 to 9 bytes: packed and not
    assert [made.store.get(key) for key in SHAPED] == [bytes([n]) * (n + 3) for n in range(len(SHAPED))]
    made.store.delete(SHAPED[0])
    made.store.delete(SHAPED[4])
    assert [made.store.get(key) for key in SHAPED] == [None, *[bytes([n]) * (n + 3) for n in (1, 2, 3)], None,
                                                         *[bytes([n]) * (n + 3) for n in (5, 6)]]
