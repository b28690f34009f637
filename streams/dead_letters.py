"""Dead letters for what the pipeline or Kafka refused, shared by the worker and the replay:
`rejection` (an exception while processing -> its reason), `refused` (a record Kafka refused as
too large)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

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
        log.error("internal error on %s", origin, exc_info=exc)
        reason, detail = "internal_error", f"{type(exc).__name__}: {str(exc)[:500]}"
    return Rejected(reason, dead_letter(raw, reason, detail, origin, now(), key))


def now() -> datetime:
    return datetime.now(timezone.utc)


def refused(what: str, size: int, exc: BaseException, reason: str = "too_large") -> tuple[str, str]:
    return reason, f"Kafka refused {what} of {size} bytes as too large ({exc!r}); raise the topic's max.message.bytes"
