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

Scripts written without spaces between words (Han, Hiragana, Katakana, Bopomofo, Thai, Lao,
Khmer, Myanmar) get a space around each character (with its combining marks), so every
character is a token: the word k-grams, word counts and word alignments downstream then work
on Chinese or Japanese text as on English words instead of seeing one giant "word" per
paragraph (and never finding a near repeat). A character carries less than an English word, so
the same k (5 tokens) matches shorter runs of text; and similarity, measured on the normalised
characters, counts the added spaces too (see README "Languages" for what that means).
"""

from __future__ import annotations

import re
import string
import unicodedata

# whitespace to spaces and, for the ASCII path, capitals to lower case in the same table pass
_ASCII_MAP = bytes.maketrans(b"\t\n\r\x0b\x0c", b"     ")
_ASCII_LOWER_MAP = bytes.maketrans(
    b"\t\n\r\x0b\x0cABCDEFGHIJKLMNOPQRSTUVWXYZ", b"     abcdefghijklmnopqrstuvwxyz"
)
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

# Blocks of the scripts written without word spaces (see the module docstring).
_UNSPACED_BLOCKS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31FF),  # Bopomofo extended, Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x323AF),  # CJK extensions B-H
)


def _class_of(code_points: list[int]) -> str:
    """A regex character class of these code points, as ranges."""
    ranges: list[list[int]] = []
    for code_point in sorted(code_points):
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1][1] = code_point
        else:
            ranges.append([code_point, code_point])
    return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]"


def _unspaced_token() -> re.Pattern[str]:
    points = [c for low, high in _UNSPACED_BLOCKS for c in range(low, high + 1)]
    bases = [c for c in points if unicodedata.category(chr(c))[0] in "LN"]
    marks = [c for c in points if unicodedata.category(chr(c))[0] == "M"] + list(range(0x300, 0x370))
    return re.compile(_class_of(bases) + _class_of(marks) + "*")


_UNSPACED_TOKEN = _unspaced_token()


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
            folded = _UNSPACED_TOKEN.sub(r" \g<0> ", folded)
            return unicodedata.normalize("NFC", " ".join(folded.split()))
    folded_ascii = text.encode("ascii").translate(_ASCII_LOWER_MAP, _ASCII_DROP).strip()
    if b"  " in folded_ascii:  # only then pay for split and join
        folded_ascii = b" ".join(folded_ascii.split())
    return folded_ascii.decode("ascii")


def has_ascii_digit(text: str) -> bool:
    """Whether `text` holds a digit 0-9: ten `in` scans run in C, faster than a regex or a generator."""
    return ("0" in text or "1" in text or "2" in text or "3" in text or "4" in text
            or "5" in text or "6" in text or "7" in text or "8" in text or "9" in text)
