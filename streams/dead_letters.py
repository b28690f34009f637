"""Every dead letter the shell writes, in one place (the record format is
`streams.core.envelope.dead_letter`; the core rejects invalid input itself): `rejection` (an
exception while processing -> its reason), `refusal` (a record Kafka refused as too large),
`excerpt` (a dead letter too large for the dead-letter topic)."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timezone
from typing import Any

from streams.core.envelope import Origin, dead_letter
from streams.core.ninjs import InvalidInput
from streams.core.settings import Limits
from streams.core.pipeline import Rejected
from streams.deadline import ArticleTimeout

log = logging.getLogger("newsclean")
DLQ_EXCERPT_BYTES = 64 * 1024  # original bytes kept in a dead letter the DLQ topic refused as too large


def rejection(raw: bytes, exc: Exception, limits: Limits, origin: Origin, key: bytes | None) -> Rejected:
    """The dead letter of a message the pipeline could not process: invalid, over the time
    limit, or an unexpected error (`internal_error`: a bug, logged with its traceback)."""
    if isinstance(exc, InvalidInput):
        reason, detail = exc.reason, exc.detail
    elif isinstance(exc, ArticleTimeout):
        reason, detail = "too_slow", f"processing took longer than max_article_seconds={limits.max_article_seconds}"
    else:
        log.error("internal error on %s", origin, exc_info=exc, extra=dict(origin))
        reason, detail = "internal_error", f"{type(exc).__name__}: {str(exc)[:500]}"
    return Rejected(reason, dead_letter(raw, reason, detail, origin, now(), key))


def refusal(raw: bytes, what: str, size: int, exc: BaseException, origin: Origin, key: bytes | None,
            reason: str = "too_large") -> Rejected:
    """The dead letter of a message whose record (`what`: the article, the envelope) Kafka refused."""
    detail = f"Kafka refused {what} of {size} bytes as too large ({exc!r}); raise the topic's max.message.bytes"
    return Rejected(reason, dead_letter(raw, reason, detail, origin, now(), key))


def excerpt(record: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """A dead letter too large for the dead-letter topic: keep the start of the original; the whole
    message stays on its input topic at the offset the record names."""
    original = base64.b64decode(record["original"])
    return {**record, "original": base64.b64encode(original[:DLQ_EXCERPT_BYTES]).decode("ascii"),
            "detail": f"{record['detail']} [original truncated to {DLQ_EXCERPT_BYTES} of {len(original)} bytes: "
                      f"the dead-letter topic refused the whole record ({exc!r})]"}


def now() -> datetime:
    return datetime.now(timezone.utc)
