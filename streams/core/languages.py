"""Which articles the NER model reads, by the item's language tag, and what the envelope says.

An NER model serves the languages it was trained on (`NEWSCLEAN_NER_LANGUAGES`, default `en`);
run on other text it finds entities that are not there. The item's `language` is a BCP 47 tag:
its primary subtag is compared case-insensitively, so `en`, `EN`, `en-GB` and `en_US` (a common
misspelling) all match `en`. `*` in the setting serves every language (a multilingual model).

A missing or empty tag, or `und` (BCP 47's "undetermined"), runs the model: feeds that tag no
language are overwhelmingly in the deployment's own language, and skipping them would silently
turn NER off for whole feeds.

The envelope's `ner` record: {"ran": true, "reason": null}; {"ran": false, "reason": "disabled"}
when NER is off; {"ran": false, "reason": "language", "language": "<the item's tag>"} for an
article in a language the model does not serve (its `entities` are then []).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

ANY = "*"
_UNDETERMINED = "und"
_PRIMARY = re.compile(r"[a-z]{2,3}")  # ISO 639 codes; longer primary subtags are reserved
NER_RAN: dict[str, Any] = {"ran": True, "reason": None}
NER_DISABLED: dict[str, Any] = {"ran": False, "reason": "disabled"}


def primary_subtag(tag: str | None) -> str | None:
    """The lower-cased primary language subtag of a BCP 47 tag; None when the tag is missing,
    empty or undetermined."""
    if not isinstance(tag, str):
        return None
    primary = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    return None if primary in ("", _UNDETERMINED) else primary


def served_languages(values: Iterable[str]) -> tuple[str, ...]:
    """The setting's entries, lower-cased; ValueError unless each is a primary language subtag
    (2 or 3 letters, ISO 639) or `*`, and there is at least one."""
    languages = tuple(value.strip().lower() for value in values)
    wrong = [value for value in languages if value != ANY and not _PRIMARY.fullmatch(value)]
    if wrong or not languages:
        raise ValueError(
            f"languages must be primary language subtags such as en,de or * (got {', '.join(wrong) or 'none'}); "
            "to turn NER off set NEWSCLEAN_NER_ENABLED=false"
        )
    return languages


def ner_status(tag: str | None, served: Collection[str]) -> dict[str, Any]:
    """The envelope's `ner` record for an article tagged `tag`, with a model serving `served`."""
    primary = primary_subtag(tag)
    if primary is None or ANY in served or primary in served:
        return dict(NER_RAN)
    return {"ran": False, "reason": "language", "language": tag}
