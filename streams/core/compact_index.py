"""A compact in-memory feed-state index: `MemoryStore`'s get/set/delete of str keys and bytes
values, at a fraction of its memory on a large feed (bench/README.md "100,000 articles a day").

Almost every key of a large feed state is one of two shapes whose values are short:
- a source's fingerprint entries ``{src}:{fp:016x}`` (`boilerplate`): 7 bytes, one entry, for a
  paragraph seen once;
- a link band ``feed:b{bucket}:{band:02x}{value:08x}`` (`links`): 4 bytes, one record number.
A dict holds each as a str key, a bytes value and an entry: ~146 B of RSS for ~32 B of payload.
Here each slice (a source's fingerprints, a bucket's bands) is an `IntTable`: the key's hex part
as an int and the value packed into one 8-byte word, in one flat array (16 B a slot, open
addressing at most 75 % full), plus 2 B a slot of filter: 26-28 B a key. Every other key (index and
link records, counts, metas, line entries), and any key of those shapes not written in their
canonical spelling, stays in a dict as it is: the store is exact for any key and value.

Most reads miss (a paragraph new to its source, a band no earlier article had: the feed stage
reads ~300 band keys an article), and a Python probe costs more than a dict lookup. So each table
also keeps a one-hash Bloom filter indexed by the low bits of the key (its last 8 hex digits, a
hash in both shapes), which answers most misses after reading 8 digits; a hit or a false
positive (~5 %) checks the whole key and probes the table.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

from .models import SeenStore

_LOW = (1 << 56) - 1
_LONG = 0xFF  # length byte of a word whose value is longer than 7 bytes: it sits in `long`
_GONE = 0xFE  # length byte of a deleted key's word
_HEX = frozenset("0123456789abcdef")
_DIGITS = frozenset("0123456789")
_FILTER_BITS = 16  # per slot: about 1 false positive in 20 at full load
_MAX_LOAD = 0.75
# A full table (deleted keys included) is rebuilt without its deleted keys, at least half empty:
# a growing table grows by half, a table whose keys expire as fast as new ones come (a source's
# fingerprints in the steady state) settles about half full and is rebuilt every quarter turn
_REBUILT_LOAD = 0.5


class IntTable:
    """Int keys below 2**64 to bytes values, by open addressing with linear probing.

    `slots` holds (key, word) pairs; key 0 marks a free slot (the key 0 itself is `zero`). A word
    is the value's bytes (little endian) with its length in the top byte, for a value of at most
    7 bytes; a longer one sits in `long` and its word says so; a deleted key keeps its slot with
    a `_GONE` word until the table is rebuilt (a delete is one probe, and expiry deletes a
    bucket's keys all at once). `seen` is the filter: the bit `key & bits` of every key written
    since the table was last rebuilt. `name` gives a key's text."""

    __slots__ = ("name", "width", "slots", "room", "count", "used", "long", "zero", "seen", "bits")

    def __init__(self, name: Callable[[int], str], capacity: int = 0, width: int = 16) -> None:
        self.name = name
        self.width = width  # hex digits of a key in its text
        self.long: dict[int, bytes] = {}
        self.zero: bytes | None = None
        self.count = 0  # live keys in `slots`
        self._allocate(max(8, int(capacity / _MAX_LOAD) + 1))

    def _allocate(self, room: int) -> None:
        self.room = room
        self.slots = array("Q", [0]) * (2 * room)
        self.used = 0  # slots taken, deleted keys included
        bits = 64
        while bits < _FILTER_BITS * room and bits < 1 << 32:  # a key's last 8 digits give its bit
            bits *= 2
        self.bits = bits - 1  # a mask
        self.seen = bytearray(bits // 8)

    def __len__(self) -> int:
        return self.count + (self.zero is not None)

    def get(self, key: int) -> bytes | None:
        if not key:
            return self.zero
        slots, room = self.slots, self.room
        at = (key ^ key >> 32) % room
        while True:
            found = slots[2 * at]
            if found == key:
                word = slots[2 * at + 1]
                length = word >> 56
                if length < 8:
                    return (word & _LOW).to_bytes(length, "little")
                return self.long[key] if length == _LONG else None
            if not found:
                return None
            at = at + 1 if at + 1 < room else 0

    def set(self, key: int, value: bytes) -> None:
        bit = key & self.bits
        self.seen[bit >> 3] |= 1 << (bit & 7)
        if not key:
            self.zero = bytes(value)
            return
        length = len(value)
        word = int.from_bytes(value, "little") | length << 56 if length < 8 else _LONG << 56
        slots, room = self.slots, self.room
        at = (key ^ key >> 32) % room
        while True:
            found = slots[2 * at]
            if found == key:
                before = slots[2 * at + 1] >> 56
                if before == _LONG:
                    del self.long[key]
                elif before == _GONE:
                    self.count += 1
                break
            if not found:
                slots[2 * at] = key
                self.count += 1
                self.used += 1
                break
            at = at + 1 if at + 1 < room else 0
        slots[2 * at + 1] = word
        if length >= 8:
            self.long[key] = bytes(value)
        if self.used > _MAX_LOAD * room:
            self._rebuild(max(room, int(self.count / _REBUILT_LOAD) + 1))

    def add(self, key: int, value: bytes) -> bytes | None:
        """`key`'s value if it has one (left as it is), else None after writing `value` under
        it: one probe for what would be a `get` and a `set` (a recovery's first sightings)."""
        if not key or len(value) >= 8:
            found = self.get(key)
            if found is None:
                self.set(key, value)
            return found
        slots, room = self.slots, self.room
        at = (key ^ key >> 32) % room
        while True:
            taken = slots[2 * at]
            if taken == key:
                word = slots[2 * at + 1]
                length = word >> 56
                if length < 8:
                    return (word & _LOW).to_bytes(length, "little")
                if length == _LONG:
                    return self.long[key]
                break  # a deleted key's slot: written again
            if not taken:
                slots[2 * at] = key
                self.used += 1
                break
            at = at + 1 if at + 1 < room else 0
        slots[2 * at + 1] = int.from_bytes(value, "little") | len(value) << 56
        self.count += 1
        bit = key & self.bits
        self.seen[bit >> 3] |= 1 << (bit & 7)
        if self.used > _MAX_LOAD * room:
            self._rebuild(max(room, int(self.count / _REBUILT_LOAD) + 1))
        return None

    def delete(self, key: int) -> None:
        if not key:
            self.zero = None
            return
        slots, room = self.slots, self.room
        at = (key ^ key >> 32) % room
        while True:
            found = slots[2 * at]
            if not found:
                return
            if found == key:
                break
            at = at + 1 if at + 1 < room else 0
        before = slots[2 * at + 1] >> 56
        if before == _GONE:
            return
        if before == _LONG:
            del self.long[key]
        slots[2 * at + 1] = _GONE << 56
        self.count -= 1

    def keys(self) -> Iterator[int]:
        if self.zero is not None:
            yield 0
        slots = self.slots
        for at in range(0, len(slots), 2):
            if slots[at] and slots[at + 1] >> 56 != _GONE:
                yield slots[at]

    def items(self) -> Iterator[tuple[int, bytes]]:
        for key in self.keys():
            yield key, self.get(key)  # type: ignore[misc]  # every key listed has a value

    def _rebuild(self, room: int) -> None:
        """Into `room` slots, without the deleted keys, with a filter of the live keys only."""
        old = self.slots
        self._allocate(room)
        slots, seen, bits = self.slots, self.seen, self.bits
        for at in range(0, len(old), 2):
            key, word = old[at], old[at + 1]
            if key and word >> 56 != _GONE:
                place = (key ^ key >> 32) % room
                while slots[2 * place]:
                    place = place + 1 if place + 1 < room else 0
                slots[2 * place], slots[2 * place + 1] = key, word
                self.used += 1
                bit = key & bits
                seen[bit >> 3] |= 1 << (bit & 7)
        if self.zero is not None:
            seen[0] |= 1


class CompactIndex:
    """The feed-state index of a worker: a `SeenStore` (get/set/delete), also read as a mapping
    (`items`, `len`, iteration) by recovery checks and tests.

    A table is found by the head of its keys: ``feed:b{bucket}:`` (`band_tables`, the text before
    the last 10 digits) or ``{src}:`` (`fingerprint_tables`, a 25-character key's first 9)."""

    __slots__ = ("fingerprint_tables", "band_tables", "other", "odd")

    def __init__(self) -> None:
        self.fingerprint_tables: dict[str, IntTable] = {}  # "{src}:" -> fingerprint -> entries
        self.band_tables: dict[str, IntTable] = {}  # "feed:b{bucket}:" -> band << 32 | value -> records
        self.other: dict[str, bytes] = {}
        self.odd = False  # `other` may hold a key under a table's head (a non-canonical spelling)

    def fingerprints(self, prefix: str, capacity: int = 0) -> IntTable | None:
        """The table of source `prefix`'s fingerprint keys (made, for `capacity` keys, if it is
        missing), or None for a prefix that is not 8 lower-case hex digits."""
        head = prefix + ":"
        table = self.fingerprint_tables.get(head)
        if table is None and len(prefix) == 8 and _HEX.issuperset(prefix):
            table = self.fingerprint_tables[head] = IntTable(f"{head}{{:016x}}".format, capacity, 16)
        return table

    def bands(self, bucket: str, capacity: int = 0) -> IntTable | None:
        """The table of a bucket's band keys (made if missing), or None for a non-canonical bucket."""
        head = f"feed:b{bucket}:"
        table = self.band_tables.get(head)
        if table is None and bucket and _DIGITS.issuperset(bucket) and str(int(bucket)) == bucket:
            table = self.band_tables[head] = IntTable(f"{head}{{:010x}}".format, capacity, 10)
        return table

    def _table(self, key: str) -> tuple[IntTable | None, dict[str, IntTable], str]:
        """The table under whose head `key` is, the tables it is one of and the head."""
        head = key[:-10]
        table = self.band_tables.get(head)
        if table is not None:
            return table, self.band_tables, head
        if len(key) == 25:
            head = key[:9]
            return self.fingerprint_tables.get(head), self.fingerprint_tables, head
        return None, self.band_tables, head

    def get(self, key: str) -> bytes | None:
        # inline, the filter first: the core reads ~300 band keys and ~30 fingerprint keys an
        # article, most of them missing
        table = self.band_tables.get(key[:-10])
        if table is None:
            table = self.fingerprint_tables.get(key[:9]) if len(key) == 25 else None
            if table is None:
                return self.other.get(key)
        try:
            bit = int(key[-8:], 16) & table.bits
        except ValueError:  # not hex: not a key of the table
            return self.other.get(key)
        if table.seen[bit >> 3] >> (bit & 7) & 1:
            rest = key[-table.width :]
            if _HEX.issuperset(rest):
                return table.get(int(rest, 16))
        return self.other.get(key) if self.odd else None

    def set(self, key: str, value: bytes) -> None:
        table, _, _ = self._table(key)
        if table is None:  # the first key of a new table, or a key of no table
            if len(key) == 25 and key[8] == ":":
                table = self.fingerprints(key[:8])
            elif key.startswith("feed:b") and key[-11:-10] == ":":
                table = self.bands(key[6:-11])
        if table is not None:
            rest = key[-table.width :]
            if _HEX.issuperset(rest):
                table.set(int(rest, 16), value)
                return
            self.odd = True
        self.other[key] = value

    def delete(self, key: str) -> None:
        table, tables, head = self._table(key)
        rest = key[-table.width :] if table is not None else ""
        if table is None or not _HEX.issuperset(rest):
            self.other.pop(key, None)
            return
        table.delete(int(rest, 16))
        if not len(table):  # a source gone quiet, a bucket expired: its table goes too
            del tables[head]

    def __len__(self) -> int:
        tables = (*self.fingerprint_tables.values(), *self.band_tables.values())
        return len(self.other) + sum(map(len, tables))

    def items(self) -> Iterator[tuple[str, bytes]]:
        yield from self.other.items()
        for table in (*self.fingerprint_tables.values(), *self.band_tables.values()):
            for number, value in table.items():
                yield table.name(number), value

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.items())


class _Formatted:
    """An int-keyed view of one slice of any `SeenStore`, through its str keys."""

    __slots__ = ("store", "key")

    def __init__(self, store: SeenStore, key: Callable[[int], str]) -> None:
        self.store, self.key = store, key

    def get(self, number: int) -> bytes | None:
        return self.store.get(self.key(number))

    def set(self, number: int, value: bytes) -> None:
        self.store.set(self.key(number), value)

    def add(self, number: int, value: bytes) -> bytes | None:
        key = self.key(number)
        found = self.store.get(key)
        if found is None:
            self.store.set(key, value)
        return found


IntView = IntTable | _Formatted


def fingerprint_view(store: SeenStore, prefix: str, capacity: int = 0) -> IntView:
    """Source `prefix`'s fingerprint keys ``{prefix}:{fp:016x}`` of `store`, keyed by fingerprint:
    a `CompactIndex`'s own table (made for `capacity` keys), which saves parsing the key on each
    of a recovery's millions of writes; any other store through its keys."""
    table = store.fingerprints(prefix, capacity) if isinstance(store, CompactIndex) else None
    return table if table is not None else _Formatted(store, f"{prefix}:{{:016x}}".format)


def band_view(store: SeenStore, bucket: int, capacity: int = 0) -> IntView:
    """Bucket `bucket`'s band keys ``feed:b{bucket}:{band:02x}{value:08x}``, keyed by band << 32 | value."""
    table = store.bands(str(bucket), capacity) if isinstance(store, CompactIndex) else None
    return table if table is not None else _Formatted(store, f"feed:b{bucket}:{{:010x}}".format)
