"""A compact in-memory feed-state index: `MemoryStore`'s get/set/delete of str keys and bytes
values, at a fraction of its memory on a large feed (bench/README.md "100,000 articles a day").

Almost every key of a large feed state is one of two shapes whose values are short:
- a source's fingerprint entries ``{src}:{fp:016x}`` (`boilerplate`): 7 bytes, one entry, for a
  paragraph seen once;
- a link band ``feed:b{bucket}:{band:02x}{value:08x}`` (`links`): 4 bytes, one record number.
A dict holds each as a str key, a bytes value and an entry: ~146 B of RSS for ~32 B of payload.
Here each slice (a source's fingerprints, a bucket's bands) is an `IntTable`: the key parsed to
an int and the value packed into one 8-byte word, in one flat array (16 B a slot, open
addressing), so ~25-30 B a key. Every other key (index and link records, counts, metas, line
entries), and any key of those shapes that is not written in their canonical form, stays in a
dict as it is: the store is exact for any key and value.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

from .models import SeenStore

_MASK64 = (1 << 64) - 1
_LOW = (1 << 56) - 1
_LONG = 0xFF  # length byte of a word whose value is longer than 7 bytes: it sits in `long`
_HEX = frozenset("0123456789abcdef")
_MIN_SLOTS = 8


class IntTable:
    """Int keys below 2**64 to bytes values, by open addressing with linear probing.

    `slots` holds (key, word) pairs; key 0 marks a free slot (the key 0 itself is `zero`). A word is the value's bytes (little
    endian) with its length in the top byte, for a value of at most 7 bytes; a longer one sits
    in `long` and its word says so. The table doubles at 70 % load, so it is 35-70 % full."""

    __slots__ = ("slots", "mask", "size", "long", "zero")

    def __init__(self, capacity: int = 0) -> None:
        slots = _MIN_SLOTS
        while slots * 7 < capacity * 10:
            slots *= 2
        self.slots = array("Q", [0]) * (2 * slots)
        self.mask = slots - 1
        self.size = 0
        self.long: dict[int, bytes] = {}
        self.zero: bytes | None = None

    def __len__(self) -> int:
        return self.size + (self.zero is not None)

    def get(self, key: int) -> bytes | None:
        if not key:
            return self.zero
        slots, mask = self.slots, self.mask
        at = (key ^ key >> 32) & mask
        while True:
            found = slots[2 * at]
            if found == key:
                word = slots[2 * at + 1]
                length = word >> 56
                return self.long[key] if length == _LONG else (word & _LOW).to_bytes(length, "little")
            if not found:
                return None
            at = (at + 1) & mask

    def set(self, key: int, value: bytes) -> None:
        if not key:
            self.zero = bytes(value)
            return
        length = len(value)
        word = int.from_bytes(value, "little") | length << 56 if length < 8 else _LONG << 56
        slots, mask = self.slots, self.mask
        at = (key ^ key >> 32) & mask
        while True:
            found = slots[2 * at]
            if found == key:
                if slots[2 * at + 1] >> 56 == _LONG and length < 8:
                    del self.long[key]
                break
            if not found:
                slots[2 * at] = key
                self.size += 1
                break
            at = (at + 1) & mask
        slots[2 * at + 1] = word
        if length >= 8:
            self.long[key] = bytes(value)
        if self.size * 10 > (mask + 1) * 7:
            self._grow()

    def delete(self, key: int) -> None:
        if not key:
            self.zero = None
            return
        slots, mask = self.slots, self.mask
        at = (key ^ key >> 32) & mask
        while True:
            found = slots[2 * at]
            if not found:
                return
            if found == key:
                break
            at = (at + 1) & mask
        if slots[2 * at + 1] >> 56 == _LONG:
            del self.long[key]
        self.size -= 1
        # backward shift: move up every later key of the run whose home is not between the hole
        # and it, so a probe never stops at the hole before reaching it
        hole, at = at, (at + 1) & mask
        while True:
            found = slots[2 * at]
            if not found:
                break
            home = (found ^ found >> 32) & mask
            if (at - home) & mask >= (at - hole) & mask:
                slots[2 * hole], slots[2 * hole + 1] = found, slots[2 * at + 1]
                hole = at
            at = (at + 1) & mask
        slots[2 * hole] = slots[2 * hole + 1] = 0

    def items(self) -> Iterator[tuple[int, bytes]]:
        if self.zero is not None:
            yield 0, self.zero
        slots, long = self.slots, self.long
        for at in range(0, len(slots), 2):
            key = slots[at]
            if key:
                word = slots[at + 1]
                length = word >> 56
                yield key, long[key] if length == _LONG else (word & _LOW).to_bytes(length, "little")

    def _grow(self) -> None:
        old = self.slots
        self.slots = slots = array("Q", [0]) * (2 * len(old))
        self.mask = mask = len(slots) // 2 - 1
        for at in range(0, len(old), 2):
            key = old[at]
            if key:
                place = (key ^ key >> 32) & mask
                while slots[2 * place]:
                    place = (place + 1) & mask
                slots[2 * place], slots[2 * place + 1] = key, old[at + 1]


class CompactIndex:
    """The feed-state index of a worker: a `SeenStore` (get/set/delete), also read as a mapping
    (`items`, `len`, iteration) by recovery checks and tests."""

    __slots__ = ("fingerprint_tables", "band_tables", "other")

    def __init__(self) -> None:
        self.fingerprint_tables: dict[str, IntTable] = {}  # source prefix -> fingerprint -> entries
        self.band_tables: dict[str, IntTable] = {}  # bucket (decimal) -> band << 32 | value -> records
        self.other: dict[str, bytes] = {}

    def fingerprints(self, prefix: str, capacity: int = 0) -> IntTable | None:
        """The table of source `prefix`'s fingerprint keys (made, for at least `capacity` keys,
        if it is missing), or None for a prefix that is not 8 lower-case hex digits."""
        table = self.fingerprint_tables.get(prefix)
        if table is None and len(prefix) == 8 and _HEX.issuperset(prefix):
            table = self.fingerprint_tables[prefix] = IntTable(capacity)
        return table

    def bands(self, bucket: str, capacity: int = 0) -> IntTable | None:
        """The table of a bucket's band keys (made if missing), or None for a non-canonical bucket."""
        table = self.band_tables.get(bucket)
        if table is None and bucket.isascii() and bucket.isdigit() and str(int(bucket)) == bucket:
            table = self.band_tables[bucket] = IntTable(capacity)
        return table

    def _table(self, key: str, make: bool) -> tuple[IntTable | None, int]:
        """The table and int key of `key` (made if missing and `make`), or (None, 0) when it
        lives in `other`. Only the canonical spelling of a shape has a table key, so two keys
        are never one."""
        if len(key) == 25 and key[8] == ":":
            table = self.fingerprint_tables.get(key[:8])
            if table is None and make:
                table = self.fingerprints(key[:8])
            rest = key[9:]
            if table is not None and _HEX.issuperset(rest):
                return table, int(rest, 16)
        elif key.startswith("feed:b"):
            colon = key.find(":", 6)
            rest = key[colon + 1 :]
            if colon > 6 and len(rest) == 10 and _HEX.issuperset(rest):
                table = self.band_tables.get(key[6:colon])
                if table is None and make:
                    table = self.bands(key[6:colon])
                if table is not None:
                    return table, int(rest, 16)
        return None, 0

    def get(self, key: str) -> bytes | None:
        # the fingerprint shape inline: the core reads ~20-30 of them an article
        if len(key) == 25 and key[8] == ":":
            table = self.fingerprint_tables.get(key[:8])
            rest = key[9:]
            if table is not None and _HEX.issuperset(rest):
                return table.get(int(rest, 16))
            return self.other.get(key)
        table, number = self._table(key, False)
        return self.other.get(key) if table is None else table.get(number)

    def set(self, key: str, value: bytes) -> None:
        table, number = self._table(key, True)
        if table is None:
            self.other[key] = value
        else:
            table.set(number, value)

    def delete(self, key: str) -> None:
        table, number = self._table(key, False)
        if table is None:
            self.other.pop(key, None)
        else:
            table.delete(number)

    def __len__(self) -> int:
        return len(self.other) + sum(map(len, self.fingerprint_tables.values())) + sum(map(len, self.band_tables.values()))

    def items(self) -> Iterator[tuple[str, bytes]]:
        yield from self.other.items()
        for prefix, table in self.fingerprint_tables.items():
            for fingerprint, value in table.items():
                yield f"{prefix}:{fingerprint:016x}", value
        for bucket, table in self.band_tables.items():
            for number, value in table.items():
                yield f"feed:b{bucket}:{number:010x}", value

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


IntView = IntTable | _Formatted


def fingerprint_view(store: SeenStore, prefix: str, capacity: int = 0) -> IntView:
    """Source `prefix`'s fingerprint keys ``{prefix}:{fp:016x}`` of `store`, keyed by fingerprint:
    a `CompactIndex`'s own table (made for `capacity` keys), which saves the key's text both
    ways on each of a recovery's millions of writes; any other store through its keys."""
    table = store.fingerprints(prefix, capacity) if isinstance(store, CompactIndex) else None
    return table if table is not None else _Formatted(store, f"{prefix}:{{:016x}}".format)


def band_view(store: SeenStore, bucket: int, capacity: int = 0) -> IntView:
    """Bucket `bucket`'s band keys ``feed:b{bucket}:{band:02x}{value:08x}``, keyed by band << 32 | value."""
    table = store.bands(str(bucket), capacity) if isinstance(store, CompactIndex) else None
    return table if table is not None else _Formatted(store, f"feed:b{bucket}:{{:010x}}".format)
