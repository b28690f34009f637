"""Prometheus metrics of one worker, served at /metrics (README "Operating")."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from streams.core.pipeline import Passed, Processed, Rejected, Skipped


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.articles_in = Counter("newsclean_articles_in", "Input messages read", registry=r)
        self.articles_out = Counter("newsclean_articles_out", "Envelopes written to the output topic", registry=r)
        self.passed = Counter("newsclean_passed", "Valid items written without cleaning (status passed)", ["why"], registry=r)
        self.skipped = Counter("newsclean_skipped", "Valid items not cleaned and not written (NEWSCLEAN_NON_TEXT=skip)", ["why"], registry=r)
        self.dead_lettered = Counter("newsclean_dead_lettered", "Messages sent to the dead-letter topic", ["reason"], registry=r)
        self.tombstones = Counter("newsclean_tombstones", "Tombstones (null values) forwarded to the output topic", registry=r)
        self.paragraphs_removed = Counter("newsclean_paragraphs_removed", "Paragraphs removed", ["reason"], registry=r)
        self.ner_seconds = Histogram(
            "newsclean_ner_seconds", "Entity extraction time per batch", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        # This worker's share of the model's work (the enrich stage spreads it over the workers).
        self.model_articles = Counter("newsclean_model_articles", "Articles whose text this worker sent through the NER model", registry=r)
        self.model_paragraphs = Counter("newsclean_model_paragraphs", "Headlines and kept paragraphs this worker sent through the NER model", registry=r)
        self.model_characters = Counter("newsclean_model_characters", "Characters of the headlines and kept paragraphs this worker sent through the NER model", registry=r)
        self.consumer_lag = Gauge("newsclean_consumer_lag", "Records behind the end of each assigned partition", ["topic", "partition"], registry=r)
        self.table_keys = Gauge("newsclean_seen_table_keys", "Keys in the rolling hash table held by this worker", registry=r)
        self.feed_keys = Gauge("newsclean_feed_table_keys", "Keys in the feed-wide table (links, lines) held by this worker", registry=r)
        self.linked = Counter("newsclean_articles_linked", "Envelopes with a duplicate_of link", registry=r)

    def count(self, outcome: Processed | Skipped | Rejected) -> None:
        if isinstance(outcome, Rejected):
            self.dead_lettered.labels(outcome.reason).inc()
            return
        if isinstance(outcome, Skipped):
            self.skipped.labels(outcome.why).inc()
            return
        self.articles_out.inc()
        if isinstance(outcome, Passed):
            self.passed.labels(outcome.why).inc()
            return
        if outcome.envelope.get("duplicate_of"):
            self.linked.inc()
        for reason in ("repeat", "near_repeat", "boilerplate"):
            removed = outcome.envelope["counts"][reason]
            if removed:
                self.paragraphs_removed.labels(reason).inc(removed)

    def count_model_input(self, headline: str, paragraphs: Sequence[str]) -> None:
        self.model_articles.inc()
        self.model_paragraphs.inc(bool(headline.strip()) + len(paragraphs))
        self.model_characters.inc(len(headline) + sum(map(len, paragraphs)))

    def render(self) -> bytes:
        return generate_latest(self.registry)
