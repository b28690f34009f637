"""Feed-wide lines and what links do to boilerplate evidence, through `pipeline.prepare` (the
offline path: the feed stage inline, on the same store as the per-source state)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.core.envelope import Origin
from streams.core.feedwide import FeedContext, FeedFindings, Link, observe
from streams.core.settings import FeedSettings, PipelineSettings
from streams.core.models import MemoryStore
from streams.core.pipeline import Prepared, prepare

from .made_up import T0, article, raw, story

SETTINGS = PipelineSettings()
TAGLINE = "Distributed by the Continental Wire service."


class Feed:
    """One store, articles in stream order, a minute apart unless told."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.minute = 0

    def send(self, uri: str, source: str, paragraphs: list[str], minutes: int | None = None, **kw) -> Prepared:
        self.minute = self.minute + 1 if minutes is None else minutes
        outcome = prepare(raw(uri, T0 + timedelta(minutes=self.minute), source, paragraphs, **kw),
                          Origin(file="t", line=1), self.store, SETTINGS)
        assert isinstance(outcome, Prepared)
        return outcome


def removed(prepared: Prepared) -> list[str]:
    return [r.text for r in prepared.result.removed]


def test_feedwide_tagline_of_two_other_sources_goes_at_its_first_sighting_in_a_new_source():
    feed = Feed()
    assert removed(feed.send("urn:0:1", "Alpha", [*story(0), TAGLINE])) == []
    assert removed(feed.send("urn:1:1", "Beta", [*story(1), TAGLINE])) == []
    # each source's second sighting is its own recurrence: per source, one earlier article is evidence
    assert removed(feed.send("urn:2:1", "Alpha", [*story(2), TAGLINE])) == [TAGLINE]
    assert removed(feed.send("urn:3:1", "Beta", [*story(3), TAGLINE])) == [TAGLINE]
    gamma = feed.send("urn:c:1", "Gamma", [*story(4), TAGLINE])
    assert removed(gamma) == [TAGLINE]  # Gamma never printed it: two other sources use it as furniture
    assert gamma.result.removed[0].reason == "boilerplate"
    assert len(gamma.result.kept) == len(story(4))


def test_feedwide_a_line_other_sources_each_printed_once_is_content():
    # one statement quoted word for word by several outlets, each in its own story of the event
    quote = '"We are cooperating fully with the investigators," the company said.'
    feed = Feed()
    for n, source in enumerate(("Alpha", "Beta", "Gamma", "Delta")):
        assert removed(feed.send(f"urn:{n}:1", source, [*story(30 + n), quote])) == []


def test_feedwide_lines_that_differ_in_their_figures_are_two_facts():
    feed = Feed()
    for n, source in enumerate(("Alpha", "Alpha", "Beta", "Beta")):
        feed.send(f"urn:{n}:1", source, [*story(40 + n), f"Leeds North: Labour {12345 + n * 101:,}"])
    assert removed(feed.send("urn:c:1", "Gamma", [*story(50), "Leeds North: Labour 11,002"])) == []


def test_feedwide_one_source_printing_a_line_many_times_is_no_feed_wide_evidence():
    feed = Feed()
    for n in range(4):
        feed.send(f"urn:a:{n}", "Alpha", [*story(10 + n), TAGLINE])
    assert removed(feed.send("urn:b:1", "Beta", [*story(20), TAGLINE])) == []


def test_feedwide_a_syndicated_copys_paragraphs_never_become_feed_wide_lines():
    short = [p.split(". ")[0].rstrip(".") + "." for p in story(5, 8)]  # short paragraphs: under the line limit
    feed = Feed()
    feed.send("urn:a:1", "Alpha", short)
    copies = [feed.send(f"urn:{source}:1", source, short) for source in ("Beta", "Gamma", "Delta", "Epsilon")]
    assert all(c.findings.link.uri == "urn:a:1" for c in copies)
    assert all(removed(c) == [] for c in copies)  # every copy keeps its whole body
    # a later story of another source quoting one of its lines keeps it: only the original carried it
    quoting = feed.send("urn:z:1", "Zeta", [*story(6), short[2]])
    assert quoting.findings.link is None and removed(quoting) == []


def test_feedwide_a_linked_copy_still_loses_a_tagline_carried_by_other_sources():
    feed = Feed()
    for n, source in enumerate(("Alpha", "Beta", "Alpha", "Beta")):
        feed.send(f"urn:{n}:1", source, [*story(n), TAGLINE])
    original = feed.send("urn:c:1", "Gamma", story(7))
    copy = feed.send("urn:d:1", "Delta", [*story(7), TAGLINE])
    assert copy.findings.link.uri == original.article.uri
    assert removed(copy) == [TAGLINE]


def test_feedwide_an_outlets_second_copy_of_a_story_keeps_its_whole_body_but_loses_its_furniture():
    furniture = "Sign up for the Alpha morning briefing."
    lead = "Ministers met late into the night."  # short: one earlier article of a source is evidence
    body = [lead, *story(7)]
    feed = Feed()
    feed.send("urn:a:1", "Alpha", [*story(8), furniture])
    first = feed.send("urn:a:2", "Alpha", [*body, furniture])
    second = feed.send("urn:a:3", "Alpha", [*body, furniture])  # republished under a second uri
    assert removed(first) == [furniture]
    assert second.findings.link.uri == "urn:a:2"
    assert removed(second) == [furniture]


def test_feedwide_without_the_link_the_same_outlets_copy_would_lose_its_short_lead():
    # the evidence rule the link overrides: a short paragraph seen once before in the source goes
    lead = "Ministers met late into the night."
    feed = Feed()
    feed.send("urn:a:2", "Alpha", [lead, *story(7)])
    other = feed.send("urn:a:3", "Alpha", [lead, *story(9)])
    assert other.findings.link is None and removed(other) == [lead]


def test_feedwide_findings_round_trip_through_the_header_bytes():
    findings = FeedFindings(Link("urn:a:1", 0.9312), FeedContext(("urn:a:1", "urn:b:7"), {0: 1, 12: 2**64 - 1}))
    assert FeedFindings.decode(findings.encode()) == findings
    assert FeedFindings.decode(FeedFindings().encode()) == FeedFindings()


def test_feedwide_the_stage_is_deterministic_for_an_input_order():
    def run() -> list:
        store = MemoryStore()
        out = []
        for n in range(40):
            paragraphs = story(n % 13) if n % 3 else [*story(100 + n), TAGLINE]
            out.append(observe(article(f"urn:s:{n}", n * 7, f"Source {n % 4}", paragraphs), store, FeedSettings()))
        return out, dict(store.data)

    assert run() == run()


def test_feedwide_settings_refuse_inconsistent_values():
    with pytest.raises(ValueError):
        FeedSettings(line_min_sources=3, line_min_articles=2, line_max_entries=6)
    with pytest.raises(ValueError):
        FeedSettings(link_min_similarity=0)
