"""The compact index against a dict: any sequence of writes reads back the same, whatever the
key shapes, the value lengths, the collisions and the deletes in the middle of a probe run."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.compact_index import CompactIndex, IntTable, band_view, fingerprint_view
from streams.core.models import MemoryStore

# few distinct homes in a small table: long probe runs, so deletes shift keys back across them
_KEYS = st.one_of(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=2**64 - 1),
                  st.sampled_from([0, 8, 16, 24, 2**32, 2**63, 2**64 - 1]))
_VALUES = st.binary(max_size=12)  # packed in the word (<= 7 bytes) and not


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "add", "delete"]), _KEYS, _VALUES), max_size=200))
def test_compact_index_int_table_reads_as_a_dict(ops):
    table, model = IntTable("{:x}".format), {}
    for op, key, value in ops:
        if op == "set":
            table.set(key, value)
            model[key] = value
        elif op == "add":
            assert table.add(key, value) == model.get(key)
            model.setdefault(key, value)
        else:
            table.delete(key)
            model.pop(key, None)
        assert table.get(key) == model.get(key)
    assert len(table) == len(model)
    assert dict(table.items()) == model
    assert all(table.get(key) == value for key, value in model.items())


_SHAPED = st.one_of(
    st.builds(lambda s, f: f"{s:08x}:{f:016x}", st.sampled_from([1, 0xABCDEF01]), st.integers(0, 2**64 - 1)),
    st.builds(lambda b, n, v: f"feed:b{b}:{n:02x}{v:08x}", st.sampled_from([0, 7, 87962]), st.integers(0, 31),
              st.integers(0, 2**32 - 1)),
    st.sampled_from(["00000001:00000000000000FF", "00000001:0x00000000000000", "00000001:+0000000000000ff",
                     "feed:b07:00000000ff", "feed:b7:00000000FF", "feed:b7:0x000000ff", "00000001:meta",
                     "feed:r7.0", "feed:meta", "ABCDEF01:00000000000000ff", "feed:b:00000000ff"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "delete"]), _SHAPED, _VALUES), max_size=120))
def test_compact_index_reads_as_the_memory_store(ops):
    index, memory = CompactIndex(), MemoryStore()
    for op, key, value in ops:
        for store in (index, memory):
            store.set(key, value) if op == "set" else store.delete(key)
        assert index.get(key) == memory.get(key)
    assert dict(index.items()) == memory.data and len(index) == len(memory.data)
    assert set(index) == set(memory.data)
    assert all(index.get(key) == value for key, value in memory.data.items())


def test_compact_index_reads_every_key_back_through_growth_and_expiry():
    """Thousands of keys: the tables grow, a bucket's keys all go (its table with them), deleted
    keys pile up until a table is rebuilt without them; every read still answers as a dict."""
    rng = random.Random(5)
    index, memory = CompactIndex(), MemoryStore()
    keys = [f"{rng.choice([1, 2]):08x}:{rng.getrandbits(64):016x}" for _ in range(6000)]
    keys += [f"feed:b{rng.choice([10, 11])}:{rng.getrandbits(37):010x}" for _ in range(4000)]
    for round_ in range(3):
        for key in keys:
            value = rng.randbytes(rng.choice([4, 7, 14]))
            index.set(key, value)
            memory.set(key, value)
        for key in keys[round_::2] + [k for k in keys if k.startswith("feed:b10:")]:
            index.delete(key)
            memory.delete(key)
        misses = [f"{1:08x}:{rng.getrandbits(64):016x}" for _ in range(500)]
        assert [index.get(key) for key in keys + misses] == [memory.get(key) for key in keys + misses]
    assert dict(index.items()) == memory.data
    assert "feed:b10:" not in index.band_tables  # an expired bucket leaves no table


def test_compact_index_views_write_the_keys_the_core_reads():
    for store in (CompactIndex(), MemoryStore()):
        fingerprint_view(store, "0a1b2c3d", 10).set(0xFF, b"entry..")
        band_view(store, 87962).set(7 << 32 | 0xDEADBEEF, b"\x01\0\0\0")
        assert store.get("0a1b2c3d:00000000000000ff") == b"entry.."
        assert store.get("feed:b87962:07deadbeef") == b"\x01\0\0\0"
