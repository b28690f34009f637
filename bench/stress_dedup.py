"""A synthetic stress set for the dedup core: furniture families dev does not have, tables, and
content lines that share one skeleton. No evaluation text: prose is made-up words.

    .venv/bin/python bench/stress_dedup.py [--articles N] [--seed S]

Every article gets gold labels per paragraph (keep, or remove as repeat / furniture). Sources:
- credits: "Reporting by <names>; Editing by <name>" (short, names change) and "<n> min read";
- contributors: contributor lines of 35-50 words whose names and places change, and captions
  whose photo credit changes;
- dated: "Updated <time> GMT, <day> <month> <year>" and "Read more: <another headline>";
- markets: one "Shares in <company> rose <x>% to <y>p ..." line per story (content sharing a
  skeleton) and market tables;
- sports: "<team> beat <team> <a>-<b> at <ground> on <day>." (content) and league tables;
- quotes: "<Name> said on <day> that <prose>" lines (content sharing a structure).
Controls: a follow-up story that reuses a short quote of an earlier story of its source, a
republished copy (same source, new uri, its whole body), background paragraphs reused by two
follow-ups. Faults: the body printed twice, a line pasted again, a near repeat with a typo.

Prints recall by furniture family and false removals by control group, cold and warm
(primed with the same stream), and writes bench/out/stress.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.core.dedup import deduplicate  # noqa: E402
from streams.core.settings import DedupSettings  # noqa: E402
from streams.core.models import Article, MemoryStore, Paragraph  # noqa: E402

LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
WEIGHTS = [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0,
           1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1]
START = datetime(2031, 3, 2, 6, tzinfo=timezone.utc)
MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = ["".join(self.rng.choices(LETTERS, weights=WEIGHTS, k=self.rng.randint(2, 9))) for _ in range(3000)]
        self.names = [w.capitalize() for w in self.words[:400]]

    def name(self) -> str:
        return f"{self.rng.choice(self.names)} {self.rng.choice(self.names)}"

    def sentence(self, low: int, high: int) -> str:
        words = self.rng.choices(self.words[400:], k=self.rng.randint(low, high))
        words[0] = words[0].capitalize()
        if len(words) > 6:
            words[self.rng.randrange(2, len(words))] = self.rng.choice(self.names)
        return " ".join(words) + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence(8, 20) for _ in range(self.rng.randint(1, 2)))

    def headline(self) -> str:
        words = self.rng.choices(self.words[400:], k=self.rng.randint(4, 7))
        return " ".join([self.rng.choice(self.names), *words])


def furniture(maker: Maker, family: str, when: datetime) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(top lines, bottom lines), each (text, family)."""
    rng = maker.rng
    if family == "credits":
        names = " and ".join(maker.name() for _ in range(rng.randint(1, 2)))
        return [(f"{rng.randint(1, 9)} min read", "reading_time")], [(f"Reporting by {names}; Editing by {maker.name()}", "credit")]
    if family == "contributors":
        places = [rng.choice(maker.names) for _ in range(2)]
        line = (
            f"Additional reporting by {maker.name()} in {places[0]} and {maker.name()} in {places[1]}; "
            f"writing by {maker.name()}; editing by {maker.name()}. Our reporters follow the "
            "standards of the newsroom code, and every correction we make is listed on the "
            "corrections page with the date it was made"
        )
        caption = f"The scene from the air, taken for the picture desk of this paper. Photograph: {maker.name()}/{rng.choice(['Pool', 'Agency', 'Handout'])}"
        return [(caption, "caption")], [(line, "long_contributor")]
    if family == "dated":
        stamp = f"Updated {when.hour:02d}:{when.minute:02d} GMT, {when.day} {MONTHS[when.month - 1]} {when.year}"
        return [(stamp, "dateline_stamp")], [(f"Read more: {maker.headline()}", "read_more")]
    if family == "markets":
        return [], [("Market data are delayed by at least fifteen minutes and are for information only.", "exact_line")]
    if family == "sports":
        return [("Follow every match of the season live on our app", "exact_line")], []
    return [], [("Send your views to the letters desk of this paper by post or online", "exact_line")]


def content_lines(maker: Maker, family: str) -> list[str]:
    """Lines that belong to the story although a source prints their skeleton again and again."""
    rng = maker.rng
    if family == "markets":
        return [f"Shares in {rng.choice(maker.names)} Holdings {rng.choice(['rose', 'fell'])} {rng.randint(1, 19)}.{rng.randint(1, 9)}% to {rng.randint(40, 990)}p in early trading."]
    if family == "sports":
        teams = rng.sample(maker.names, 3)
        return [f"{teams[0]} beat {teams[1]} {rng.randint(1, 5)}-{rng.randint(0, 1)} at {teams[2]} Park on {rng.choice(DAYS)}."]
    if family == "quotes":
        return [f"{maker.name()} said on {rng.choice(DAYS)} that {maker.sentence(8, 14).lower()}"]
    return []


def table(maker: Maker, family: str) -> list[str]:
    rng = maker.rng
    rows = rng.randint(10, 60)
    if family == "markets":
        return [f"{rng.choice(maker.names)} {rng.choice(['up', 'down'])} {rng.randint(1, 99)}.{rng.randint(0, 9)}% at {rng.randint(40, 9000):,}p" for _ in range(rows)]
    if family == "sports":
        return [f"{place}. {rng.choice(maker.names)} {rng.randint(20, 38)} {rng.randint(0, 30)} {rng.randint(0, 10)} {rng.randint(0, 20)} {rng.randint(10, 99)}" for place in range(1, rows + 1)]
    return [f"{rng.choice(maker.names)}: {rng.choice(['sunny', 'cloudy', 'showers'])}, {rng.randint(-5, 30)}C" for _ in range(rows)]


FAMILIES = ["credits", "contributors", "dated", "markets", "sports", "quotes"]


def stream(articles: int, seed: int) -> list[tuple[Article, list[str], str]]:
    """(article, label per paragraph, control group). Labels: "keep", "repeat", or a furniture family."""
    maker = Maker(seed)
    rng = maker.rng
    history: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)  # source -> (uri, body) of originals
    out: list[tuple[Article, list[str], str]] = []
    for number in range(articles):
        family = FAMILIES[number % len(FAMILIES)]
        source = f"The {family.title()} Gazette"
        when = START + timedelta(minutes=23 * number)
        uri = f"urn:stress:{seed}:{number}"
        earlier = history[source]
        group = "plain"
        choice = rng.random()
        if earlier and choice < 0.08:  # the same story republished by its outlet under a second uri
            group, (_, body) = "republished", rng.choice(earlier)
            body = list(body)
        else:
            body = [maker.sentence(6, 12)] + [maker.paragraph() for _ in range(rng.randint(3, 7))]
            if earlier and choice < 0.2:  # a follow-up reusing a short quote, mid-story
                group = "followup_quote"
                quote = next((p for p in rng.choice(earlier)[1][1:] if len(p.split()) < 30), None)
                if quote:
                    body.insert(2, quote)
            elif earlier and choice < 0.3:
                group = "background"
                background = rng.choice(earlier)[1][-1]
                body.insert(len(body) // 2, background)
            lines = content_lines(maker, family)
            if lines:
                body.insert(rng.randint(1, len(body)), lines[0])
            if family in ("markets", "sports", "quotes") and rng.random() < 0.3:
                rows = table(maker, family)
                at = rng.randint(1, len(body))
                body[at:at] = rows
                group = "table" if group == "plain" else group
        if group in ("plain", "table"):
            history[source].append((uri, body))  # later stories reuse originals, not reuses
        labels = ["keep"] * len(body)
        texts = list(body)
        fault = rng.random()
        if fault < 0.15:
            texts += texts[1:]
            labels += ["repeat"] * (len(texts) - len(labels))
        elif fault < 0.3:
            texts.append(rng.choice(texts))
            labels.append("repeat")
        elif fault < 0.4:
            victim = rng.choice([t for t in texts if len(t) > 40] or texts)
            at = rng.randrange(5, len(victim) - 2) if len(victim) > 8 else 0
            texts.append(victim[:at] + victim[at + 1 :])
            labels.append("repeat")
        top, bottom = furniture(maker, family, when)
        if rng.random() < 0.7:
            texts = [t for t, _ in top] + texts + [t for t, _ in bottom]
            labels = [f for _, f in top] + labels + [f for _, f in bottom]
        paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
        out.append((Article(uri, "1", when, source, "Headline", paragraphs, {}), labels, group))
    return out


def score(items, primed: bool) -> dict:
    settings, store = DedupSettings(), MemoryStore()
    if primed:
        for article, _, _ in items:
            deduplicate(article, store, settings, priming=True)
    found, total, false = Counter(), Counter(), Counter()
    keep_by_group = Counter()
    for article, labels, group in items:
        removed = {r.index for r in deduplicate(article, store, settings).removed}
        seen: set[str] = set()
        for paragraph, label in zip(article.paragraphs, labels):
            duplicate = paragraph.text in seen  # a table row that repeats an earlier row is a repeat
            seen.add(paragraph.text)
            if label == "keep" and not duplicate:
                keep_by_group[group] += 1
                false[group] += paragraph.index in removed
            elif label != "keep":
                total[label] += 1
                found[label] += paragraph.index in removed
    recall = sum(found.values()) / max(sum(total.values()), 1)
    removals = sum(found.values()) + sum(false.values())
    return {
        "precision": round(sum(found.values()) / max(removals, 1), 4),
        "recall": round(recall, 4),
        "recall_by_class": {k: round(found[k] / total[k], 3) for k in sorted(total)},
        "false_removals_by_group": {g: f"{false[g]}/{keep_by_group[g]}" for g in sorted(keep_by_group)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    items = stream(args.articles, args.seed)
    report = {"articles": args.articles, "seed": args.seed, "cold": score(items, False), "warm": score(items, True)}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stress.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
