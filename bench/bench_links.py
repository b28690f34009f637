"""Near-duplicate links: the similarity threshold's measurement, and the feed stage's cost.

    .venv/bin/python bench/bench_links.py [--articles N] [--seed S]

1. Threshold (`FeedSettings.link_min_similarity`). The containment of an article's shingles in an
   earlier article's, exact (full shingle sets) and as the feed stage estimates it (bottom-k
   sketch), and whether LSH makes the pair a candidate at all, for:
   - dev (`../shared/eval/dev`, read at run time, never copied): syndicated copies against their
     original; updates against their first version (never linked: same uri, shown for scale);
     `background_reuse` stories and every other story against the earlier article they are most
     contained in; each figure for both halves of the stream (the threshold is set on the first,
     checked on the second);
   - reprints generated from the dev texts the way reprints are edited (dateline added,
     paragraphs cut, paragraphs merged, HTML with typographic entities, a typo, the reprinter's
     own furniture, all at once) and stories that take one or two background paragraphs of an
     earlier one;
   - the same edits on made-up texts (bench_dedup's Zipf vocabulary): data no rule was designed on.
2. Cost: CPU per article of `feedwide.observe` (the whole feed stage: shingles, sketch, LSH
   look-ups, line evidence, recording) against `deduplicate` on the same articles in the same
   run, and link-index bytes per article at steady state, over a stream several horizons long.
Prints the tables and writes bench/out/links.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402

from bench_dedup import START, paragraph, vocabulary  # noqa: E402
from streams.core.dedup import deduplicate  # noqa: E402
from streams.core.settings import DedupSettings, FeedSettings, Limits  # noqa: E402
from streams.core.feedwide import observe  # noqa: E402
from streams.core.fingerprint import key_paragraph  # noqa: E402
from streams.core.links import MIN_SHARED_BANDS, containment, shingles, sketch_of  # noqa: E402
from streams.core.models import Article, MemoryStore, Paragraph  # noqa: E402
from streams.core.ninjs import decode, parse_article  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval" / "dev"
SETTINGS = FeedSettings()


def body(article: Article) -> tuple[frozenset[int], object]:
    """The article's shingle hashes as a set, and its sketch."""
    seen: set[int] = set()
    texts = []
    for p in article.paragraphs:
        key = key_paragraph(p.text)
        if key.normalised and key.fingerprint not in seen:
            seen.add(key.fingerprint)
            texts.append(key.normalised)
    hashes = shingles(texts, SETTINGS.link_shingle_words)
    return frozenset(hashes.tolist()), sketch_of(hashes, SETTINGS.link_sketch_size)


def similarity(later: Article, earlier: Article) -> dict[str, float]:
    a, sa = body(later)
    b, sb = body(earlier)
    exact = len(a & b) / len(a) if a else 0.0
    shared = len(set(sa.bands) & set(sb.bands))
    return {"exact": exact, "estimate": containment(sa.values, sb.sample, sb.complete),
            "candidate": float(bool(sa.bands) and shared >= min(MIN_SHARED_BANDS, len(sa.bands)))}


def summary(values: list[dict[str, float]]) -> dict[str, object]:
    if not values:
        return {"n": 0}
    exact = sorted(v["exact"] for v in values)
    estimate = sorted(v["estimate"] for v in values)
    return {"n": len(values), "exact_min": exact[0], "exact_median": statistics.median(exact), "exact_max": exact[-1],
            "estimate_min": estimate[0], "estimate_median": statistics.median(estimate), "estimate_max": estimate[-1],
            "candidates": sum(v["candidate"] for v in values) / len(values)}


# ------------------------------------------------------------------ reprint edits


def as_article(uri: str, source: str, when, paragraphs: list[str], html: bool = False) -> Article:
    return parse_article(decode(_raw(uri, source, when, paragraphs, html), Limits()), None, Limits())


def _raw(uri: str, source: str, when, paragraphs: list[str], html: bool = False) -> bytes:
    if html:
        value = "".join("<p>" + p.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&#8217;") + "</p>\n"
                        for p in paragraphs)
        content = "text/html"
    else:
        value, content = "\n\n".join(paragraphs), "text/plain"
    return orjson.dumps({"uri": uri, "version": "1", "type": "text", "versionCreated": when.isoformat().replace("+00:00", "Z"),
                         "headlines": [{"role": "main", "value": "h"}],
                         "bodies": [{"role": "main", "contentType": content, "value": value}],
                         "altIds": [{"role": "source", "value": source}]})


def typo(rng: random.Random, texts: list[str]) -> list[str]:
    out = list(texts)
    at = rng.randrange(len(out))
    text = out[at]
    pos = rng.randrange(len(text))
    out[at] = text[:pos] + "q" + text[pos + 1 :]
    return out


def all_at_once(rng: random.Random, texts: list[str]) -> list[str]:
    """Dateline, the last third cut, paragraphs merged in pairs, a typo, the reprinter's furniture."""
    kept = [f"PARIS (Wire) - {texts[0]}", *texts[1 : max(2, len(texts) - len(texts) // 3)]]
    merged = [" ".join(kept[i : i + 2]) for i in range(0, len(kept), 2)]
    return [FURNITURE[0], *typo(rng, merged), *FURNITURE[1:]]


FURNITURE = ["Sign up for our morning briefing.", "Copyright 2026 The Reprinter. All rights reserved.",
             "Share this story", "Follow us for live updates."]

EDITS = {
    "dateline": lambda rng, t: [f"LONDON (Wire) - {t[0]}", *t[1:]],
    "cut_third": lambda rng, t: t[: max(2, len(t) - len(t) // 3)],
    "cut_half": lambda rng, t: t[: max(2, (len(t) + 1) // 2)],
    "merged": lambda rng, t: [" ".join(t[i : i + 2]) for i in range(0, len(t), 2)],
    "typo": typo,
    "own_furniture": lambda rng, t: [FURNITURE[0], *t, *FURNITURE[1:]],
    "all_at_once": lambda rng, t: all_at_once(rng, t),
}


def reprints(docs: list[tuple[str, list[str]]], rng: random.Random) -> dict[str, list[dict[str, float]]]:
    """Copies (each edit, and HTML) and background reuse, each against its original."""
    out: dict[str, list[dict[str, float]]] = {name: [] for name in [*EDITS, "html", "reuse_1", "reuse_2"]}
    for number, (source, texts) in enumerate(docs):
        if len(texts) < 3:
            continue
        original = as_article(f"urn:o:{number}", source, START, texts)
        later = START + timedelta(hours=2)
        for name, edit in EDITS.items():
            out[name].append(similarity(as_article(f"urn:c:{number}", "Reprinter", later, edit(rng, texts)), original))
        out["html"].append(similarity(as_article(f"urn:h:{number}", "Reprinter", later, texts, html=True), original))
        other = docs[(number + 1) % len(docs)][1]
        for reused in (1, 2):
            borrowed = rng.sample(texts, min(reused, len(texts)))
            story = [*other[: len(other) // 2], *borrowed, *other[len(other) // 2 :]]
            out[f"reuse_{reused}"].append(similarity(as_article(f"urn:r:{number}", source, later, story), original))
    return out


# ------------------------------------------------------------------ dev


def dev_measurements() -> dict[str, object] | None:
    if not (EVAL / "raw.jsonl").exists():
        return None
    raws = (EVAL / "raw.jsonl").read_bytes().splitlines()
    golds = [json.loads(line) for line in (EVAL / "gold.jsonl").read_text().splitlines()]
    articles = [parse_article(decode(raw, Limits()), None, Limits()) for raw in raws]
    first_of = {}
    for number, article in enumerate(articles):
        first_of.setdefault(article.uri, number)
    halves: dict[str, dict[str, list]] = {"first_half": {}, "second_half": {}}
    for number, (article, gold) in enumerate(zip(articles, golds)):
        half = halves["first_half" if number < len(articles) // 2 else "second_half"]
        if gold.get("syndicated_from"):
            group = "syndicated"
            value = similarity(article, articles[first_of[gold["syndicated_from"]]])
        elif first_of[article.uri] != number:
            group = "update"
            value = similarity(article, articles[first_of[article.uri]])
        else:
            group = "background_reuse" if "background_reuse" in gold.get("controls", []) else "other"
            earlier = [similarity(article, articles[i]) for i in range(number) if articles[i].uri != article.uri]
            if not earlier:
                continue
            value = max(earlier, key=lambda v: v["exact"])
        half.setdefault(group, []).append(value)
    docs = [(a.source, [p.text for p in a.paragraphs]) for a, g in zip(articles, golds)
            if not g.get("syndicated_from") and first_of[a.uri] == articles.index(a)]
    return {"halves": {h: {g: summary(v) for g, v in groups.items()} for h, groups in halves.items()},
            "reprints_of_dev_texts": {k: summary(v) for k, v in reprints(docs, random.Random(3)).items()}}


def end_to_end(seed: int = 5) -> dict[str, object] | None:
    """The dev stream with reprints and reuse stories mixed in, through `pipeline.process` (the
    feed stage inline, as offline): links found, false links, and paragraphs removed from reprints
    beyond their own furniture. Reprints: a random reprint edit of a dev story (see EDITS, or HTML)
    under another source and uri, 5 minutes to 20 hours later; reuse stories: a follow-up of the same
    source, with text of its own around one or two paragraphs of the story."""
    from streams.core.pipeline import Processed, process
    from streams.core.settings import PipelineSettings

    if not (EVAL / "raw.jsonl").exists():
        return None
    rng = random.Random(seed)
    made_up_words = vocabulary(rng)
    made_up_weights = list(accumulate(1 / rank for rank in range(1, len(made_up_words) + 1)))
    docs = [orjson.loads(line) for line in (EVAL / "raw.jsonl").read_bytes().splitlines()]
    golds = [json.loads(line) for line in (EVAL / "gold.jsonl").read_text().splitlines()]
    stream: list[tuple[float, bytes, str]] = []  # (event seconds, raw, kind)
    sources = sorted({d["altIds"][0]["value"] for d in docs})
    for doc, gold in zip(docs, golds):
        when = time_of(doc)
        stream.append((when, orjson.dumps(doc), "dev"))
        texts = [p["text"] for p in gold["input_paragraphs"] if p["keep"]]
        if gold.get("syndicated_from") or doc["version"] != "1" or len(texts) < 3:
            continue
        source = doc["altIds"][0]["value"]
        if rng.random() < 0.4:
            name = rng.choice([*EDITS, "html"])
            copy = texts if name == "html" else EDITS[name](rng, texts)
            other = rng.choice([s for s in sources if s != source])
            later = when + rng.uniform(300, 72000)
            stream.append((later, raw_of(f"{doc['uri']}-reprint", other, later, [*copy, f"Reprinted by {other}."],
                                         html=name == "html"), "reprint:" + doc["uri"]))
        elif rng.random() < 0.3:
            # a follow-up: text of its own (made-up words) around one or two paragraphs of this story
            story = [paragraph(rng, made_up_words, made_up_weights) for _ in range(rng.randint(4, 8))]
            borrowed = rng.sample(texts, rng.randint(1, 2))
            later = when + rng.uniform(300, 72000)
            stream.append((later, raw_of(f"{doc['uri']}-reuse", source, later, [*story[:2], *borrowed, *story[2:]]), "reuse"))
    stream.sort(key=lambda item: item[0])
    family = {g["uri"]: g["syndicated_from"] for g in golds if g.get("syndicated_from")}
    outcomes = process([(raw, {"file": "e2e", "line": n}) for n, (_, raw, _) in enumerate(stream)], MemoryStore(),
                       PipelineSettings(), None)
    found = missed = false = removed_from_copies = 0
    wrong: list[tuple[str, str]] = []
    for (_, raw, kind), outcome in zip(stream, outcomes):
        assert isinstance(outcome, Processed)
        link = outcome.envelope["duplicate_of"]
        if kind.startswith("reprint:"):
            original = kind.split(":", 1)[1]
            right = bool(link) and family.get(link["uri"], link["uri"]) == original  # as score.py links
            found += right
            missed += not link
            false += bool(link) and not right
            own = {*FURNITURE, FURNITURE[0]}
            removed_from_copies += sum(not r["text"].startswith("Reprinted by") and r["text"] not in own
                                       for r in outcome.envelope["removed"])
            if link and not right:
                wrong.append((kind, link["uri"]))
        elif link and (kind != "dev" or not golds_syndicated(golds, outcome.envelope["article"]["uri"])):
            false += 1
            wrong.append((kind + " " + outcome.envelope["article"]["uri"], link["uri"]))
    reprints = sum(kind.startswith("reprint:") for _, _, kind in stream)
    return {"articles": len(stream), "reprints": reprints, "reuse_stories": sum(k == "reuse" for _, _, k in stream),
            "linked_right": found, "missed": missed, "false_links": false,
            "precision": found / max(found + false, 1), "recall": found / max(reprints, 1),
            "reprint_paragraphs_removed_beyond_own_furniture": removed_from_copies, "wrong_links": wrong[:10]}


def golds_syndicated(golds: list[dict], uri: str) -> bool:
    return any(g["uri"] == uri and g.get("syndicated_from") for g in golds)


def time_of(doc: dict) -> float:
    from datetime import datetime

    return datetime.fromisoformat(doc["versionCreated"].replace("Z", "+00:00")).timestamp()


def raw_of(uri: str, source: str, seconds: float, paragraphs: list[str], html: bool = False) -> bytes:
    from datetime import datetime, timezone

    return _raw(uri, source, datetime.fromtimestamp(int(seconds), timezone.utc), paragraphs, html)


def made_up_docs(count: int, seed: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = list(accumulate(1 / rank for rank in range(1, len(words) + 1)))
    return [(f"Outlet {n % 8}", [paragraph(rng, words, weights) for _ in range(rng.randint(3, 9))]) for n in range(count)]


# ------------------------------------------------------------------ cost


def feed(count: int, seed: int) -> list[Article]:
    """A feed at one article a minute over several horizons: 8 outlets, a wire tagline, and one
    article in ten a reprint of one an hour or so earlier."""
    rng = random.Random(seed)
    docs = made_up_docs(count, seed)
    out: list[Article] = []
    for number, (source, texts) in enumerate(docs):
        when = START + timedelta(minutes=number)
        if number > 60 and rng.random() < 0.1:
            original = out[number - rng.randint(10, 60)]
            texts = [p.text for p in original.paragraphs]
            source = f"Outlet {(int(original.source.split()[1]) + 1) % 8}"
        if rng.random() < 0.06:
            texts = [*texts, "Additional reporting by the wire desk."]
        paragraphs = tuple(Paragraph(i, t) for i, t in enumerate(texts))
        out.append(Article(f"urn:bench:links:{number}", "1", when, source, "h", paragraphs, {}))
    return out


def cost(count: int, seed: int) -> dict[str, object]:
    items = feed(count, seed)
    store = MemoryStore()
    sizes = []
    started = time.process_time()
    for number, article in enumerate(items):
        observe(article, store, SETTINGS)
        if number % 500 == 499:
            sizes.append(sum(len(k) + len(v) for k, v in store.data.items() if k.startswith("feed:")))
    feed_s = time.process_time() - started
    dedup_store, dedup = MemoryStore(), DedupSettings()
    started = time.process_time()
    for article in items:
        deduplicate(article, dedup_store, dedup)
    dedup_s = time.process_time() - started
    # at steady state the store holds the articles of the live buckets: horizon + grace + < one bucket
    per_hour = 60
    live_hours = SETTINGS.feed_horizon_hours + SETTINGS.feed_expiry_grace_hours + SETTINGS.feed_bucket_hours
    steady = sizes[len(sizes) // 2 :]
    kinds: dict[str, int] = {}
    for key, value in store.data.items():
        kind = {"r": "records", "b": "bands", "l": "lines"}.get(key[5:6], "meta") if key.startswith("feed:") else "other"
        kinds[kind] = kinds.get(kind, 0) + len(key) + len(value)
    live_articles = sum(1 for key in store.data if key.startswith("feed:r") and "." in key)
    return {
        "articles": count, "span_hours": count / per_hour,
        "live_articles_at_end": live_articles,
        "bytes_per_live_article_at_end": {kind: size / live_articles for kind, size in sorted(kinds.items())},
        "feed_stage_us_per_article": 1e6 * feed_s / count, "dedup_us_per_article": 1e6 * dedup_s / count,
        "feed_over_dedup": feed_s / dedup_s,
        "feed_stage_articles_per_s_one_core": count / feed_s,
        "store_bytes_max": max(sizes),
        "bytes_per_live_article_max": max(steady) / (per_hour * SETTINGS.feed_horizon_hours),
        "bytes_per_live_article_at_most_bound": max(sizes) / (per_hour * min(live_hours, count / per_hour)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = {"threshold": SETTINGS.link_min_similarity, "dev": dev_measurements(),
               "reprints_of_made_up_texts": {k: summary(v) for k, v in
                                             reprints(made_up_docs(300, args.seed), random.Random(args.seed)).items()},
               "end_to_end": [end_to_end(seed) for seed in range(5, 10)], "cost": cost(args.articles, args.seed)}
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "links.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
