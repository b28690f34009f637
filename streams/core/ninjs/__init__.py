"""ninjs in: raw bytes -> JSON object (`decode`) -> an item of any released ninjs version, validated
against its own version's schema and converted to ninjs 3.1 (`read_item`) -> for text items, an
`Article` (`to_article`, `parse_article`).

Modules: `decoding` (bytes, guards), `versions` (detection, validation), `times` (time leniency),
`convert` (any version -> 3.1), `item` (the steps in order, the text/non-text decision)."""

from .convert import ConversionError, to_31
from .decoding import decode
from ..errors import InvalidInput
from .item import (
    Item,
    event_time_of,
    main_headline,
    parse_article,
    read_item,
    select_body,
    source_of,
    to_article,
)
from .versions import LATEST, VERSIONS, detect

__all__ = [
    "ConversionError", "InvalidInput", "Item", "LATEST", "VERSIONS", "decode", "detect",
    "event_time_of", "main_headline", "parse_article", "read_item", "select_body", "source_of", "to_31", "to_article",
]
