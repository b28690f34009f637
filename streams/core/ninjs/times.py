"""Date-times: the leniency applied to input times, and reading an event time.

Leniency, applied before an item is validated against its own version (so a near-ISO time is
valid in every version, and is written out in RFC 3339): `2017-08-24T04:38:34+0000`, an offset
without its colon or minutes (`+02`), a space or lower-case `t` in place of `T`, `UTC`/`GMT`/`z`
for `Z`, a comma before the fraction, missing seconds, and no offset at all (read as UTC). Anything
else is left as it is: the schema decides (an error in 2.1–3.1, and in 1.0–2.0, where formats are
annotations, a value the conversion lists as unmapped)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_NEAR_ISO = re.compile(
    r"\s*(\d{4}-\d{2}-\d{2})[Tt ]\s*(\d{2}:\d{2})(:\d{2})?(?:[.,](\d+))?\s*"
    r"(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*"
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def rfc3339(value: str) -> str | None:
    """`value` in RFC 3339 when it is a near-ISO date-time, else None. The instant and the offset
    are kept; only the spelling changes."""
    if _RFC3339.fullmatch(value):
        return value
    found = _NEAR_ISO.fullmatch(value)
    if found is None:
        return None
    date, hours_minutes, seconds, fraction, offset = found.groups()
    if offset is None or offset in ("Z", "z", "UTC", "GMT"):
        zone = "Z"
    else:
        digits = offset[1:].replace(":", "")
        zone = f"{offset[0]}{digits[:2]}:{digits[2:4] or '00'}"
    return f"{date}T{hours_minutes}{seconds or ':00'}{'.' + fraction if fraction else ''}{zone}"


def loosen_times(node: Any, names: frozenset[str], skip: frozenset[str] = frozenset()) -> Any:
    """`node` with every near-ISO string under a date-time property name (lower-cased `names`)
    rewritten in RFC 3339, not looking inside properties named in `skip`. Copies only the
    containers on the way to a rewritten value; the input is never modified."""
    if isinstance(node, dict):
        changed = None
        for key, value in node.items():
            if isinstance(value, str):
                new = (rfc3339(value) or value) if key.lower() in names else value
            elif isinstance(value, (dict, list)):
                if key.lower() in skip:
                    continue
                new = loosen_times(value, names, skip)
            else:
                continue
            if new is not value:
                changed = changed or dict(node)
                changed[key] = new
        return node if changed is None else changed
    if isinstance(node, list):
        out = [loosen_times(v, names, skip) if isinstance(v, (dict, list)) else v for v in node]
        return node if all(a is b for a, b in zip(out, node)) else out
    return node


def parse_time(value: str) -> datetime:
    """An RFC 3339 (or near-ISO) date-time as an aware UTC datetime; ValueError otherwise."""
    text = rfc3339(value) if isinstance(value, str) else None
    if text is None:
        raise ValueError(value)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc)
