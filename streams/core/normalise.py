"""Fingerprint-only normalisation: the form paragraphs are compared in, never the text kept.

`normalise` applies, in order: Unicode NFKC, casefold, every decimal digit to its ASCII digit,
punctuation (P*), symbols (S*) and format characters (Cf: soft hyphen, zero-width space) dropped,
whitespace collapsed to single spaces and trimmed. So straight and curly quotes, no-break and
doubled spaces all meet; digits stay, because in news the numbers are the facts ("Labour 12,345"
and "Labour 11,002" are two results, not one line edited). Lines that recur with changing
figures are matched by their template (`templates`), which decides which figures are furniture.

It runs once per paragraph on the hot path, so every table is built at import:
- ASCII (most English copy, and the ASCII part of any text) goes through `bytes.translate`,
  a C table lookup: punctuation and symbols deleted;
- non-ASCII characters (a few curly quotes or dashes in English copy) are found by one simple
  regex and looked up in a dict, built at import, of the code points of planes 0 and 1 that
  become an ASCII digit (digits of other scripts), a space (line separators) or nothing (punctuation, symbols, emoji).
Astral code points beyond plane 1 are kept as they are; they only make two texts differ.
"""

from __future__ import annotations

import re
import string
import unicodedata

_ASCII_MAP = bytes.maketrans(b"\t\n\r\x0b\x0c", b"     ")
_ASCII_DROP = (
    string.punctuation.encode("ascii")
    + bytes(c for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c")
    + b"\x7f"
)


def _non_ascii_replacements(stop: int = 0x20000) -> dict[str, str]:
    """Non-ASCII code points below `stop` that normalising changes: digit -> its ASCII digit,
    dropped -> ""."""
    table: dict[str, str] = {}
    for code_point in range(0x80, stop):
        category = unicodedata.category(chr(code_point))
        if category == "Nd":
            table[chr(code_point)] = str(unicodedata.decimal(chr(code_point)))
        elif category[0] in "PS" or category == "Cf":
            table[chr(code_point)] = ""
        elif category in ("Cc", "Zl", "Zp"):
            table[chr(code_point)] = " "
    return table


_NON_ASCII = _non_ascii_replacements()
_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


def _replace_non_ascii(match: re.Match[str]) -> str:
    char = match.group()
    return _NON_ASCII.get(char, char)


def normalise(text: str) -> str:
    """The comparison form of `text` (see the module docstring); "" when nothing word-like is left."""
    if not text.isascii():
        # ASCII is NFKC-invariant and lower() equals casefold() on it, hence the fast path
        text = _NON_ASCII_CHAR.sub(_replace_non_ascii, unicodedata.normalize("NFKC", text).casefold())
        if not text.isascii():
            # letters of other scripts stay: split/join on str, ASCII punctuation via the bytes table;
            # dropping a character can leave two combining marks adjacent: NFC orders them again
            folded = text.encode("utf-8").translate(_ASCII_MAP, _ASCII_DROP).decode("utf-8")
            return unicodedata.normalize("NFC", " ".join(folded.split()))
    folded = text.lower().encode("ascii").translate(_ASCII_MAP, _ASCII_DROP).strip()
    if b"  " in folded:  # only then pay for split and join
        folded = b" ".join(folded.split())
    return folded.decode("ascii")
