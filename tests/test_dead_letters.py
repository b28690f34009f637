"""`streams.dead_letters`: the reasons and details of dead letters."""

from __future__ import annotations

import pytest

from streams.core.ninjs import InvalidInput
from streams.core.settings import Limits
from streams.dead_letters import rejection
from streams.deadline import ArticleTimeout


@pytest.mark.parametrize("exc, reason, detail", [
    (InvalidInput("not_json", "bad"), "not_json", "bad"),
    (ArticleTimeout(), "too_slow", "max_article_seconds=10.0"),
    (KeyError("bodies"), "internal_error", "KeyError: 'bodies'"),
])
def test_dead_letters_rejection_names_the_reason_and_the_limit(exc, reason, detail):
    rejected = rejection(b"raw", exc, Limits(), {"topic": "t", "partition": 0, "offset": 3}, b"k")
    assert rejected.reason == reason == rejected.record["reason"]
    assert detail in rejected.record["detail"]
