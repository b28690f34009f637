from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.dedup import deduplicate
from streams.core.settings import DedupSettings
from streams.core.models import Article, MemoryStore, Paragraph

START = datetime(2031, 9, 1, 6, tzinfo=timezone.utc)
STANDFIRST = "A small island school has won a national award for its rooftop garden."
READING = "4 min read"
BODY = [
    "Pupils at Skerry primary school grow beans, kale and strawberries on the flat roof of the "
    "gym, which was strengthened for the purpose last year.",
    "The judges praised the way the harvest is shared with the care home next door.",
    '"The children do the watering rota themselves," said head teacher Morag Innes.',
    "The garden will open to visitors on the first Saturday of every month during the summer.",
]
SHARE = "Share this article"


def make(number: int, texts: list[str], source: str = "Isles Courier", version: str = "1") -> Article:
    paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
    when = START + timedelta(minutes=30 * number)
    return Article(f"urn:test:dedup:{number}", version, when, source, "Headline", paragraphs, {})


def kept_texts(result) -> list[str]:
    return [paragraph.text for paragraph in result.kept]


def test_dedup_seed_like_article_comes_out_with_every_paragraph_once():
    texts = [STANDFIRST, READING, *BODY, *BODY[1:]]
    result = deduplicate(make(1, texts), MemoryStore(), DedupSettings())
    # cold: the reading-time line is new to this source, so it stays (see the README)
    assert kept_texts(result) == [STANDFIRST, READING, *BODY]
    assert [(r.index, r.of, r.reason) for r in result.removed] == [
        (6, 3, "repeat"), (7, 4, "repeat"), (8, 5, "repeat"),
    ]


def test_dedup_removes_furniture_seen_before_and_its_copies():
    store = MemoryStore()
    deduplicate(make(1, [STANDFIRST, SHARE, BODY[0]]), store, DedupSettings())
    result = deduplicate(make(2, [SHARE, BODY[1], BODY[2], SHARE]), store, DedupSettings())
    assert kept_texts(result) == [BODY[1], BODY[2]]
    assert [r.reason for r in result.removed] == ["boilerplate", "boilerplate"]
    assert result.removed[0].fingerprint == result.removed[1].fingerprint


def test_dedup_priming_is_calling_it_on_history():
    store = MemoryStore()
    history = [make(n, [f"Story {word} opens.", SHARE]) for n, word in enumerate(["one", "two", "three"])]
    for item in history:
        deduplicate(item, store, DedupSettings(), priming=True)
    assert kept_texts(deduplicate(history[0], store, DedupSettings())) == ["Story one opens."]


def test_dedup_keeps_a_syndicated_copy_under_another_source_whole():
    store = MemoryStore()
    deduplicate(make(1, [STANDFIRST, *BODY]), store, DedupSettings())
    copy = make(2, [STANDFIRST, *BODY], source="Mainland Herald")
    assert deduplicate(copy, store, DedupSettings()).removed == ()


def test_dedup_keeps_an_update_of_the_same_uri_whole():
    store = MemoryStore()
    deduplicate(make(1, [STANDFIRST, *BODY]), store, DedupSettings())
    update = Article("urn:test:dedup:1", "2", START + timedelta(hours=3), "Isles Courier", "Headline",
                     tuple(Paragraph(i, t) for i, t in enumerate([STANDFIRST, *BODY, "It won again."])), {})
    assert deduplicate(update, store, DedupSettings()).removed == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"max_entries": 3},  # must exceed long_min_articles
        {"inner_min_articles": 5},
        {"kgram_words": 0},
        {"horizon_days": 0},
        {"partial_min_containment": 1.5},
    ],
)
def test_dedup_settings_reject_inconsistent_values(changes):
    with pytest.raises(ValueError):
        DedupSettings(**changes)


def test_dedup_settings_derive_seconds():
    defaults = DedupSettings()
    seconds = (defaults.horizon_seconds, defaults.expiry_grace_seconds, defaults.bucket_seconds)
    assert seconds == (7 * 86400, 3600, 3600)


POOL = [STANDFIRST, READING, SHARE, *BODY, "Tickets are free.", "Tickets are fre.", BODY[0] + " (Wire)"]


@st.composite
def streams(draw):
    items = []
    for number in range(draw(st.integers(min_value=1, max_value=5))):
        texts = draw(st.lists(st.sampled_from(POOL), min_size=0, max_size=12))
        source = draw(st.sampled_from(["Isles Courier", "Mainland Herald"]))
        items.append(make(number, texts, source))
    return items


@settings(max_examples=150, deadline=None)
@given(streams())
def test_dedup_properties(stream):
    store = MemoryStore()
    for item in stream:
        result = deduplicate(item, store, DedupSettings())
        kept = [p.index for p in result.kept]
        removed = [r.index for r in result.removed]
        # kept and removed split the input; kept paragraphs are the input objects, in order
        assert sorted(kept + removed) == [p.index for p in item.paragraphs]
        assert all(any(k is p for p in item.paragraphs) for k in result.kept)
        assert kept == sorted(kept)
        by_index = {p.index: p.text for p in item.paragraphs}
        for removal in result.removed:
            assert removal.text == by_index[removal.index]
            assert 0.0 <= removal.similarity <= 1.0
            if removal.reason == "boilerplate":
                assert removal.of is None and len(removal.fingerprint) == 16
            else:  # the first copy stays and comes first
                assert removal.of in kept and removal.of < removal.index and removal.fingerprint is None


@settings(max_examples=60, deadline=None)
@given(streams())
def test_dedup_is_deterministic_and_reprocessing_changes_nothing(stream):
    one, other = MemoryStore(), MemoryStore()
    first = [deduplicate(item, one, DedupSettings()) for item in stream]
    assert [deduplicate(item, other, DedupSettings()) for item in stream] == first
    assert one.data == other.data
    assert [deduplicate(item, one, DedupSettings()) for item in stream] == first
    assert one.data == other.data


SCRIPT = """
import json, sys
from datetime import datetime, timezone
from streams.core.dedup import deduplicate
from streams.core.settings import DedupSettings
from streams.core.models import Article, MemoryStore, Paragraph
texts = json.loads(sys.argv[1])
article = Article("urn:t", "1", datetime(2031, 1, 1, tzinfo=timezone.utc), "S", "H",
                  tuple(Paragraph(i, t) for i, t in enumerate(texts)), {})
result = deduplicate(article, MemoryStore(), DedupSettings())
print(json.dumps([[r.index, r.reason, r.of, r.similarity] for r in result.removed]))
"""


def test_dedup_results_do_not_depend_on_the_process_hash_seed():
    import json
    import os
    import subprocess
    import sys

    merged = BODY[1] + " " + BODY[2].replace("rota", "rotas")  # a partial repeat near the threshold
    texts = [STANDFIRST, *BODY, BODY[0], merged, BODY[3] + " (Wire)"]
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT, json.dumps(texts)], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())  # something was removed, the same way each time


class _Changelog(MemoryStore):
    """A store that notes every write in order, as the table's changelog receives them."""

    __slots__ = ("writes",)

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, bytes | None]] = []

    def set(self, key: str, value: bytes) -> None:
        super().set(key, value)
        self.writes.append((key, value))

    def delete(self, key: str) -> None:
        super().delete(key)
        self.writes.append((key, None))


def _fingerprint_entries(store: MemoryStore) -> dict[str, bytes]:
    return {k: v for k, v in store.data.items() if len(k.partition(":")[2]) == 16}


@settings(max_examples=300, deadline=None)
@given(streams(), st.integers(min_value=0), st.booleans())
def test_dedup_a_crash_after_any_write_leaves_nothing_that_expiry_cannot_find(stream, cut, coalesced):
    """A SIGKILL keeps a prefix of a batch's changelog records; the batch is then processed
    again. Whatever the cut, once the horizon has passed the state holds exactly what an
    uninterrupted run holds: no entry survives without the index record that expires it."""
    dedup = DedupSettings()
    recorded = _Changelog()
    for item in stream:
        deduplicate(item, recorded, dedup)
    writes = recorded.writes
    if coalesced:  # one record per key, at the place of its last write (streams.worker.state.TableStore.apply)
        last: dict[str, bytes | None] = {}
        for key, value in writes:
            last.pop(key, None)
            last[key] = value
        writes = list(last.items())
    survived = MemoryStore()
    for key, value in writes[: cut % (len(writes) + 1)]:
        survived.set(key, value) if value is not None else survived.delete(key)
    reference = MemoryStore()
    later = [Article(f"urn:test:dedup:late:{n}", "1", START + timedelta(days=30), source, "Later",
                     (Paragraph(0, "A line from a month later."),), {})
             for n, source in enumerate(["Isles Courier", "Mainland Herald"])]
    for store in (survived, reference):
        for item in [*stream, *later]:  # the batch again after the restart, then a month on
            deduplicate(item, store, dedup)
    assert _fingerprint_entries(survived) == _fingerprint_entries(reference)
