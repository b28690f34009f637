"""Tables and lists are content: every row survives, in articles that also carry real faults
(the body printed twice, a line pasted again, a typo'd copy), which must go. Rows are
generated here, of every size up to 5,000 lines."""

import random
import string
from datetime import datetime, timedelta, timezone

import pytest

from streams.core.dedup import deduplicate
from streams.core.settings import DedupSettings
from streams.core.models import Article, MemoryStore, Paragraph

START = datetime(2031, 5, 6, 22, tzinfo=timezone.utc)
PLACES = "Ashby Brill Corfe Dunmow Eyam Frome Goole Hythe Ilkley Jarrow Keld Lydd Marske Nairn".split()
PARTS = "North South East West Central".split()
TEAMS = "Rovers United Athletic Wanderers Albion Town City Rangers Harriers Villa".split()
LEAD = "Here are the figures as they came in overnight from the counting halls across the region."
CLOSE = "Full coverage of the night, with analysis from our correspondents, continues on the next pages."


def results(rng: random.Random, rows: int) -> list[str]:
    return [f"{rng.choice(PLACES)} {rng.choice(PARTS)}: {rng.choice(['Labour', 'Conservative', 'Green'])} {rng.randint(1000, 40000):,}" for _ in range(rows)]


def scores(rng: random.Random, rows: int) -> list[str]:
    return [f"{a} {rng.randint(0, 5)} {b} {rng.randint(0, 5)}" for a, b in (rng.sample(TEAMS, 2) for _ in range(rows))]


def markets(rng: random.Random, rows: int) -> list[str]:
    return [f"{rng.choice(PLACES)} Holdings {rng.choice(['up', 'down'])} {rng.randint(1, 99) / 10}% at {rng.randint(50, 900)}p" for _ in range(rows)]


def weather(rng: random.Random, rows: int) -> list[str]:
    return [f"{rng.choice(PLACES)}: {rng.choice(['sunny', 'cloudy', 'rain', 'showers'])}, {rng.randint(-5, 30)}C" for _ in range(rows)]


def standings(rng: random.Random, rows: int) -> list[str]:
    return [f"{place}. {rng.choice(PLACES)} {rng.choice(TEAMS)} {rng.randint(20, 38)} {rng.randint(0, 30)} {rng.randint(0, 99)}" for place in range(1, rows + 1)]


def items(rng: random.Random, rows: int) -> list[str]:
    return [f"Item {number}: delivered to the depot" for number in range(1, rows + 1)]


def codes(rng: random.Random, rows: int) -> list[str]:
    # distinct codes that differ in at least two characters (one letter apart reads as a typo)
    return [f"Code {number:05d}{''.join(rng.choices(string.ascii_uppercase, k=3))}" for number in range(rows)]


TABLES = [results, scores, markets, weather, standings, items, codes]


def article(number: int, texts: list[str], source: str = "Shire Evening Post") -> Article:
    paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
    when = START + timedelta(hours=number)
    return Article(f"urn:test:tables:{number}", "1", when, source, "Results", paragraphs, {})


def distinct(rows: list[str]) -> list[str]:
    return list(dict.fromkeys(rows))  # a random table may draw one row twice: that copy is a repeat


@pytest.mark.parametrize("make", TABLES, ids=[make.__name__ for make in TABLES])
@pytest.mark.parametrize("size", [10, 60, 600, 5000])
def test_dedup_tables_keep_every_row_and_lose_their_faults(make, size):
    rng = random.Random(size)
    store, settings = MemoryStore(), DedupSettings()
    # earlier results nights of the same outlet: same skeletons, other figures
    for night in range(3):
        deduplicate(article(night, [LEAD, *distinct(make(rng, size)), CLOSE]), store, settings)
    rows = distinct(make(rng, size))
    pasted = rows[len(rows) // 2]
    typo = CLOSE.replace("analysis", "analyis")
    body = [LEAD, *rows, CLOSE]
    texts = [*body, pasted, *body[: min(len(body), 40)], typo]  # a row pasted again, the body (part) twice, a typo'd copy
    result = deduplicate(article(9, texts), store, settings)
    kept = [paragraph.text for paragraph in result.kept]
    assert kept == body
    assert len(result.removed) == len(texts) - len(body)
    assert {removal.reason for removal in result.removed} <= {"repeat", "near_repeat"}


def test_dedup_tables_rows_that_differ_only_in_numbers_are_two_facts():
    texts = ["Leeds North: Labour 12,345", "Leeds North: Labour 11,002", "Turnout rose 1.5%", "Turnout rose 15%",
             "Group A: 3 points", "Group B: 3 points", "Leeds: -5C", "Leeds: 5C"]
    result = deduplicate(article(1, texts), MemoryStore(), DedupSettings())
    assert result.removed == ()


def test_dedup_tables_a_republished_table_is_still_a_repeat_inside_one_article():
    rng = random.Random(3)
    rows = distinct(results(rng, 200))
    result = deduplicate(article(1, [LEAD, *rows, *rows]), MemoryStore(), DedupSettings())
    assert [p.text for p in result.kept] == [LEAD, *rows]
    assert {r.reason for r in result.removed} == {"repeat"}


def test_dedup_tables_standings_reprinted_unchanged_by_later_stories_stay():
    """A league table that did not move between two reports is printed identically: its rows
    are rows of a table in each article, never furniture."""
    rng = random.Random(5)
    table = distinct(standings(rng, 20))
    store, settings = MemoryStore(), DedupSettings()
    for number in range(5):
        lead = f"Report number {number} from the weekend fixtures, with the table below as it stands."
        result = deduplicate(article(number, [lead, *table]), store, settings)
        assert [p.text for p in result.kept] == [lead, *table]
