"""Near-duplicate links: `feedwide.observe` on a `MemoryStore`, and the sketch underneath."""

from __future__ import annotations

import random

import pytest

from streams.core.feedwide import observe
from streams.core.settings import FeedSettings
from streams.core.fingerprint import kgram_hashes
from streams.core.links import Record, containment, shingles, sketch_of
from streams.core.models import ArticleWrites, MemoryStore

from .made_up import article, paragraph, story, typo

SETTINGS = FeedSettings()
ORIGINAL = story(1)


def link_of(*articles, settings: FeedSettings = SETTINGS):
    """The findings of the last article after observing all of them in order on one store."""
    store = MemoryStore()
    findings = [observe(a, store, settings) for a in articles]
    return findings[-1]


def test_links_copy_with_a_dateline_links_to_the_original():
    copy = [f"LONDON (Wire) - {ORIGINAL[0]}", *ORIGINAL[1:]]
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:b:1", 90, "Beta", copy))
    assert found.link is not None and found.link.uri == "urn:a:1"
    assert found.link.similarity >= 0.9
    assert found.context.copies == ("urn:a:1",)


def test_links_copy_with_paragraphs_cut_links():
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:b:1", 30, "Beta", ORIGINAL[:4]))
    assert found.link is not None and found.link.uri == "urn:a:1" and found.link.similarity == 1.0


def test_links_copy_with_paragraphs_merged_links():
    merged = [" ".join(ORIGINAL[i : i + 2]) for i in range(0, len(ORIGINAL), 2)]
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:b:1", 30, "Beta", merged))
    assert found.link is not None and found.link.uri == "urn:a:1"


def test_links_html_copy_of_a_plain_original_links():
    quoted = [p.replace(" ", " it's ", 1) for p in ORIGINAL]  # apostrophes become &#8217; in the HTML copy
    found = link_of(article("urn:a:1", 0, "Alpha", quoted), article("urn:b:1", 30, "Beta", quoted, html=True))
    assert found.link is not None and found.link.uri == "urn:a:1" and found.link.similarity == 1.0


def test_links_copy_with_a_typo_and_its_own_furniture_links():
    copy = ["Sign up for the Beta morning briefing.", typo(ORIGINAL[0]), *ORIGINAL[1:], "Copyright Beta Media."]
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:b:1", 30, "Beta", copy))
    assert found.link is not None and found.link.uri == "urn:a:1"
    assert 0.7 <= found.link.similarity < 1.0


def test_links_an_update_of_the_same_uri_never_links():
    second = [*ORIGINAL[:3], ORIGINAL[3] + " Officials confirmed the figure on Tuesday.", *ORIGINAL[4:]]
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:a:1", 60, "Alpha", second, version="2"))
    assert found.link is None and found.context.copies == ()


def test_links_a_story_reusing_background_paragraphs_never_links():
    follow_up = story(2, 6)
    follow_up[3:3] = ORIGINAL[2:4]  # two background paragraphs of the earlier story
    found = link_of(article("urn:a:1", 0, "Alpha", ORIGINAL), article("urn:a:2", 60, "Alpha", follow_up))
    assert found.link is None


def test_links_unrelated_stories_never_link():
    store = MemoryStore()
    links = [observe(article(f"urn:x:{n}", n, f"Source {n % 5}", story(100 + n)), store, SETTINGS).link
             for n in range(60)]
    assert links == [None] * 60


def test_links_an_article_processed_again_finds_what_it_found_the_first_time():
    store = MemoryStore()
    original = article("urn:a:1", 0, "Alpha", ORIGINAL)
    copy = article("urn:b:1", 30, "Beta", ORIGINAL[:5])
    later = article("urn:c:1", 40, "Gamma", ORIGINAL[1:])
    observe(original, store, SETTINGS)
    first = observe(copy, store, SETTINGS)
    observe(later, store, SETTINGS)
    keys = dict(store.data)
    # at-least-once: the copy is processed again after a later article was recorded
    again = observe(copy, store, SETTINGS)
    assert again == first and again.link.uri == "urn:a:1"
    assert store.data == keys  # recorded once: nothing new written
    # and the original never links to its own record, nor to the later copies
    assert observe(original, store, SETTINGS).link is None


def test_links_the_earliest_earlier_copy_wins_and_later_ones_are_never_targets():
    store = MemoryStore()
    second = observe(article("urn:b:1", 20, "Beta", ORIGINAL), store, SETTINGS)
    # the original arrives after its copy but is earlier in event time: it cannot link to a later article
    first = observe(article("urn:a:1", 0, "Alpha", ORIGINAL), store, SETTINGS)
    third = observe(article("urn:c:1", 40, "Gamma", ORIGINAL), store, SETTINGS)
    assert second.link is None and first.link is None
    assert third.link.uri == "urn:a:1"
    assert third.context.copies == ("urn:a:1", "urn:b:1")


def test_links_too_short_a_body_neither_links_nor_is_linked():
    line = ["Shares rose sharply in early trading today."]
    found = link_of(article("urn:a:1", 0, "Alpha", line), article("urn:b:1", 5, "Beta", line))
    assert found.link is None


def test_links_horizon_expiry_drops_whole_buckets():
    settings = FeedSettings(feed_horizon_hours=12, feed_bucket_hours=3, feed_expiry_grace_hours=1)
    store = MemoryStore()
    observe(article("urn:a:1", 0, "Alpha", ORIGINAL), store, settings)
    first_bucket = {key for key in store.data if key != "feed:meta"}
    assert first_bucket and all(key.startswith(("feed:r", "feed:b", "feed:l")) for key in first_bucket)
    # within the horizon the copy links
    assert observe(article("urn:b:1", 11 * 60, "Beta", ORIGINAL), store, settings).link.uri == "urn:a:1"
    # 17 hours on, the bucket of the original (0-3 h) ends before watermark - horizon - grace: gone whole
    late = observe(article("urn:c:1", 17 * 60, "Gamma", ORIGINAL), store, settings)
    assert not first_bucket & set(store.data)
    assert late.link.uri == "urn:b:1"  # the copy at 11 h is still within the horizon


def test_links_containment_is_exact_when_the_sketch_holds_every_shingle():
    words = paragraph(random.Random(4), 3).lower().rstrip(".").split()
    a = sketch_of(shingles([" ".join(words)], 5), 1000)
    half = sketch_of(shingles([" ".join(words[: len(words) // 2])], 5), 1000)
    assert a.complete and containment(half.values, a.sample, a.complete) == 1.0
    shared = set(half.values.tolist()) & set(a.values.tolist())
    assert containment(a.values, half.sample, half.complete) == len(shared) / len(a.values)


def test_links_containment_estimates_on_the_range_the_sample_covers():
    words = " ".join(story(5)).lower().split()
    whole = sketch_of(shingles([" ".join(words)], 5), 16)
    half = sketch_of(shingles([" ".join(words[: len(words) // 2])], 5), 1000)
    assert not whole.complete
    covered = [value for value in half.values.tolist() if value <= whole.sample[-1]]
    assert covered  # the test's premise: some of the half falls in the range the 16 values cover
    assert containment(half.values, whole.sample, whole.complete) == len(set(covered) & set(whole.sample)) / len(covered)


@pytest.mark.parametrize("words", [0, 1, 4, 5, 6, 400])
def test_links_shingles_are_the_mixed_rolled_kgram_hashes_of_the_words(words):
    """The vectorised windows equal `fingerprint.kgram_hashes` (rolled one word at a time)
    through splitmix64's finaliser, across paragraph boundaries, as one distinct ascending set."""
    text = paragraph(random.Random(words), 30).lower().rstrip(".").split()[:words]
    paragraphs = [" ".join(text[:3]), " ".join(text[3:])]
    mask = (1 << 64) - 1

    def mix(value: int) -> int:
        value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & mask
        value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & mask
        return value ^ (value >> 31)

    expected = sorted({mix(value) for value in kgram_hashes(text, 5)})
    assert len(text) == words and shingles(paragraphs, 5).tolist() == expected


def test_links_sketch_bins_keep_each_bins_smallest_value():
    hashes = shingles([" ".join(story(6)).lower()], 5).tolist()
    sketch = sketch_of(shingles([" ".join(story(6)).lower()], 5), 128)
    values = sorted({value & 0xFFFFFFFF for value in hashes})
    assert sketch.sample == tuple(values[:128]) and sketch.complete == (len(values) <= 128)
    assert len(sketch.bands) == 32 and sketch.values.tolist() == values


def test_links_record_round_trips_through_bytes():
    sketch = sketch_of(shingles([" ".join(story(3)).lower()], 5), 128)
    record = Record(1_772_431_200, 2**63 + 5, 77, "urn:ü:1", sketch.bands, sketch.sample, sketch.complete, (1, 2**64 - 1))
    assert Record.unpack(record.pack()) == record


def test_links_an_update_of_a_syndicated_original_does_not_link_to_its_reprint():
    store = MemoryStore()
    observe(article("urn:a:1", 0, "Alpha", ORIGINAL), store, SETTINGS)
    reprint = observe(article("urn:b:1", 10, "Beta", ORIGINAL), store, SETTINGS)
    update = observe(article("urn:a:1", 60, "Alpha", [*ORIGINAL, "A sentence added later."], version="2"), store, SETTINGS)
    assert reprint.link.uri == "urn:a:1"
    assert update.link is None
    assert update.context.copies == ("urn:b:1",)  # the reprint's sightings are still no evidence against it


def test_links_an_update_of_a_copy_still_links_to_the_copys_original():
    store = MemoryStore()
    observe(article("urn:a:1", 0, "Alpha", ORIGINAL), store, SETTINGS)
    observe(article("urn:b:1", 10, "Beta", ORIGINAL), store, SETTINGS)
    update = observe(article("urn:b:1", 60, "Beta", ORIGINAL[:-1], version="2"), store, SETTINGS)
    assert update.link.uri == "urn:a:1"


@pytest.mark.parametrize("minutes", [30, 400], ids=["same-bucket", "next-bucket"])
def test_links_a_crash_that_cuts_an_articles_writes_leaves_what_reprocessing_repairs(minutes):
    from streams.core.feedwide import state_view

    tagline = "Distributed by the Continental Wire service."
    history = [article("urn:a:1", 0, "Alpha", [*ORIGINAL, tagline]), article("urn:c:1", 5, "Gamma", [*story(9), tagline])]
    copy = article("urn:b:1", minutes, "Beta", [*ORIGINAL[:5], tagline])
    after = article("urn:d:1", minutes + 10, "Delta", [*ORIGINAL[1:], tagline])
    before = MemoryStore()
    for one in history:
        observe(one, before, SETTINGS)
    whole = MemoryStore()
    whole.data = dict(before.data)
    expected = [observe(copy, whole, SETTINGS), observe(after, whole, SETTINGS)]
    base = MemoryStore()
    base.data = dict(before.data)
    writes = ArticleWrites(base)  # held, never committed: the crash cuts its writes below
    observe(copy, writes, SETTINGS)
    assert len(writes.pending) > 10
    for cut in range(len(writes.pending) + 1):
        crashed = MemoryStore()
        crashed.data = dict(before.data)
        for key, value in list(writes.pending.items())[:cut]:
            crashed.set(key, value) if value is not None else crashed.delete(key)
        again = [observe(copy, crashed, SETTINGS), observe(after, crashed, SETTINGS)]
        assert again == expected, cut
        assert state_view(crashed.data) == state_view(whole.data), cut


def test_links_a_cut_reprint_links_to_the_story_it_copies_not_to_where_its_background_came_from():
    background = " ".join(story(60, 3))  # one long background paragraph, first printed in an earlier story
    earlier = [*story(61, 4), background]
    follow_up = [story(62, 1)[0], background, *story(63, 3)]
    store = MemoryStore()
    observe(article("urn:a:1", 0, "Alpha", earlier), store, SETTINGS)
    observe(article("urn:a:2", 60, "Alpha", follow_up), store, SETTINGS)
    reprint = observe(article("urn:b:1", 90, "Beta", follow_up[:2]), store, SETTINGS)  # the lead and the background
    assert reprint.link.uri == "urn:a:2"
    assert reprint.context.copies == ("urn:a:2",)
