"""Feed boilerplate: the rolling hash table of one source's recent paragraphs, on a `SeenStore`.

State is per source (the worker partitions articles by source), so every key starts with a short
hash of the source and a decision only sees that source's evidence: results do not depend on how
sources are spread over workers or partitions.

The table's keys, entries and expiry are `source_table`'s.

Decision: a paragraph is boilerplate when enough distinct *other, unrelated* articles of its
source carried it (or its template) before: entries of another uri whose (event time, id) is
below the current article's and at most `horizon` older. Entries written while priming count on
both sides of the current time within the horizon: they stand for history read in advance.
- Table rows (`templates.table_rows`) are never boilerplate.
- Related articles are no evidence: an earlier story that carried one of our long paragraphs (a
  running story), the original of a copy (it carried most of our sentences), and `excluded`
  (the feed-wide stage's linked original). A copy records nothing its original carried, so
  republishing a story never makes its paragraphs recur.
- The bar depends on where the line sits. The edge zone is the run of lines at the top or the
  bottom of the article with at most `edge_allowance` line without any evidence between them and
  the edge (a standfirst, a line new to the source). There, a shorter line needs
  `short_min_articles` earlier article that carried it *at an edge too* (the entry's edge bit),
  and a template `template_min_articles` such article (strong template) or two (weak). Inside
  the story, and for long paragraphs anywhere, `inner_min_articles` / `long_min_articles`
  articles (3): a quote, a fact or a background paragraph reused by one or two follow-ups is
  content.
- `feedwide` fingerprints (lines other sources carried) count as one more earlier article.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence


from .fingerprint import ParagraphKey
from .models import Article, Paragraph, Removal, SeenStore
from .source_table import (
    EDGE,
    META,
    PRIMED,
    Entry,
    accessors,
    article_id,
    entry_added,
    expire,
    pack_entry,
    read_entries,
    record_article,
    source_prefix,
)
from .evidence import SENTENCE_WORDS, bare_edge_zone, decide, edge_zone, skips_unevidenced
from .templates import lead_in_keys, skeleton_keys
from .settings import DedupSettings


def find_boilerplate(
    article: Article,
    paragraphs: Sequence[Paragraph],
    keys: Sequence[ParagraphKey],
    candidates: Sequence[int],
    store: SeenStore,
    settings: DedupSettings,
    *,
    priming: bool = False,
    excluded: Collection[int] = (),
    feedwide: Collection[int] = (),
) -> dict[int, Removal]:
    """Decide which `candidates` (positions) are boilerplate, and record the whole article.

    Every non-empty paragraph is recorded, removed copies included, so the evidence does not
    depend on this article's own decisions. Each fingerprint is read and written once.
    `excluded`: article ids (`article_id`) whose entries are no evidence for this article (a
    linked original of a copy). `feedwide`: fingerprints (exact or template) that the feed-wide
    stage saw in other sources; each counts as one more earlier article.
    """
    prefix = source_prefix(article.source)
    me = article_id(article.uri)
    # entries hold u32 seconds: dates before 1970 or after 2106 are pinned to the ends
    seconds = min(max(int(article.event_time.timestamp()), 0), 0xFFFFFFFF)
    meta, cutoff, meta_value = expire(store, prefix, seconds, settings)
    horizon = settings.horizon_seconds
    record = seconds >= cutoff  # an article older than the horizon would expire at once
    get, put = accessors(store)
    head = prefix + ":"

    templates: dict[int, tuple[tuple[int, bool], ...]] = {}  # position -> (fingerprint, strong)
    # fingerprint -> earlier articles carrying it (at an edge?), in the order they are recorded
    evidence: dict[int, dict[int, bool]] = {}
    store_keys: dict[int, str] = {}
    stored: dict[int, tuple[bytes, list[Entry]]] = {}  # fingerprint -> its value and entries, if seen before
    carriers: list[int] = []  # the fingerprints with any evidence (few: most lines are new)

    def fetch(fingerprint: int) -> None:
        # the key is the fingerprint's 16 hex digits: to_bytes().hex() is the fastest way to them
        store_keys[fingerprint] = store_key = head + fingerprint.to_bytes(8, "big").hex()
        value = get(store_key)
        if value is None:
            evidence[fingerprint] = {}
            return
        entries, found = read_entries(value, me, seconds, horizon)
        stored[fingerprint] = (value, entries)
        evidence[fingerprint] = found
        if found:
            carriers.append(fingerprint)

    for position, key in enumerate(keys):
        if not key.normalised:
            continue
        if key.fingerprint not in evidence:
            fetch(key.fingerprint)
        found = lead_in_keys(paragraphs[position].text)
        if found:
            templates[position] = found
            if found[0][0] not in evidence:
                fetch(found[0][0])

    # Skeletons (a regular expression over the whole line) only where furniture can sit: short
    # lines, and lines near an edge of the article by what is known so far. A line in the middle
    # of the story is matched by its exact text only, so prose never meets another's skeleton.
    allowance = settings.edge_allowance
    if carriers:
        seen = []
        for p in candidates:
            has_evidence = bool(evidence[keys[p].fingerprint])
            if not has_evidence and p in templates:
                has_evidence = any(evidence[f] for f, _ in templates[p])
            seen.append(has_evidence)
        near = edge_zone(seen, allowance)
    else:  # nothing seen before: the zone is the first and last lines
        near = bare_edge_zone(len(candidates), allowance)
    for order, position in enumerate(candidates):
        if near[order] or keys[position].words <= SENTENCE_WORDS:
            found = skeleton_keys(paragraphs[position].text)
            if found and found[0][0] not in evidence:
                templates[position] = found + templates.get(position, ())
                fetch(found[0][0])

    if carriers or feedwide or not skips_unevidenced(settings):
        removed, copied, edges = decide(
            paragraphs, keys, candidates, templates, evidence, carriers, set(excluded), set(feedwide), settings
        )
    else:  # no line has any evidence: nothing can go, and the edge zone is the one found above
        removed, copied = {}, set(excluded)
        edges = [p for p, at_edge in zip(candidates, near) if at_edge]
    at_edge: set[int] = set()  # fingerprints this article carries at one of its edges
    for position in edges:
        at_edge.add(keys[position].fingerprint)
        if position in templates:
            for fingerprint, _ in templates[position]:
                at_edge.add(fingerprint)

    added: list[int] = []
    entry_writes: list[tuple[str, bytes]] = []
    copies: set[int] = set()  # what this article holds as a copy of its original: not recorded
    if copied and carriers:  # without evidence no line is shared with an original
        for position, key in enumerate(keys):
            if key.normalised and copied & evidence[key.fingerprint].keys():
                copies.add(key.fingerprint)
                copies.update(fingerprint for fingerprint, _ in templates.get(position, ()))
    else:
        copied = set()  # nothing this article carries was carried by what it copies
    if record:
        keep_oldest = max(settings.short_min_articles, settings.long_min_articles, settings.inner_min_articles)
        primed = PRIMED if priming else 0
        inner, edge = (seconds, me, primed), (seconds, me, primed | EDGE)
        first_sightings = (pack_entry(*inner), pack_entry(*edge))
        cap = settings.max_entries
        for fingerprint, store_key in store_keys.items():
            if copied and (fingerprint in copies or copied & evidence[fingerprint].keys()):
                continue  # a copy adds no evidence for what its original carried
            at = fingerprint in at_edge
            seen_before = stored.get(fingerprint)
            if seen_before is None:  # the common case: a paragraph never seen in this source
                entry_writes.append((store_key, first_sightings[at]))
                added.append(fingerprint)
                continue
            updated = entry_added(*seen_before, edge if at else inner, first_sightings[at], keep_oldest, cap)
            if updated is not None:
                entry_writes.append((store_key, updated))
                added.append(fingerprint)

        # A crash keeps a prefix of these writes (one changelog partition, in order), and the
        # batch is processed again. So the index record goes before the entries it lists (an
        # entry is never kept without it; reprocessing adds back the cut entries under a new
        # record), and the bucket joins the live range even when reprocessing adds nothing (its
        # entries and index survived, the meta write after them did not).
        bucket = seconds // settings.bucket_seconds
        meta[1], meta[2] = min(meta[1], bucket), max(meta[2], bucket)
        if added:
            record_article(store, prefix, bucket, (seconds, me, primed), added, at_edge)
            for entry_key, value in entry_writes:
                put(entry_key, value)
    new_meta = META.pack(*meta)
    if new_meta != meta_value:
        put(f"{prefix}:meta", new_meta)
    return removed
