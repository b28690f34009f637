from datetime import datetime, timedelta, timezone

import pytest

from streams.core.boilerplate import find_boilerplate
from streams.core.source_table import article_id, pack_entries, source_prefix, unpack_entries
from streams.core.settings import DedupSettings
from streams.core.fingerprint import key_paragraph
from streams.core.models import Article, MemoryStore, Paragraph

SETTINGS = DedupSettings()
START = datetime(2031, 5, 4, 8, tzinfo=timezone.utc)
TOWNS = "Ashby Brill Corfe Dunmow Eyam Frome Goole Hythe Ilkley Jarrow Keld Lydd Marske Nairn Olney Penryn"
TOWNS = TOWNS.split()
THINGS = "bandstand lido clocktower ferry pier footbridge orchard library mill chapel quay market".split()
LISTEN = "Listen to this story"
BACKGROUND = (
    "The harbour authority was created in the nineteenth century to manage the docks, and it has "
    "since taken over the lighthouses, the pilot boats and the dredging of the estuary channel that "
    "keeps the port open to larger ships."
)


def content(number: int) -> str:
    town, thing = TOWNS[number % len(TOWNS)], THINGS[number // len(TOWNS) % len(THINGS)]
    # a figure that is a fact (a quantity): the line has no template, only its exact text can recur
    return f"Volunteers in {town} repaired the old {thing} before the fair, helped by {100 + number} pupils."


def article(
    number: int, *lines: str, source: str = "Fenland Echo", hours: float | None = None, version: str = "1"
) -> Article:
    texts = [content(number), *lines]
    when = START + timedelta(hours=number if hours is None else hours)
    paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
    return Article(f"urn:test:{source}:{number}", version, when, source, "A headline", paragraphs, {})


def judge(store: MemoryStore, item: Article, settings: DedupSettings = SETTINGS, priming: bool = False, **context):
    keys = [key_paragraph(p.text) for p in item.paragraphs]
    candidates = [position for position, key in enumerate(keys) if key.normalised]
    removed = find_boilerplate(item, item.paragraphs, keys, candidates, store, settings, priming=priming, **context)
    for removal in removed.values():
        assert removal.reason == "boilerplate" and removal.of is None and len(removal.fingerprint) == 16
    return set(removed)


def test_boilerplate_line_seen_in_an_earlier_article_goes():
    store = MemoryStore()
    assert judge(store, article(1, LISTEN)) == set()
    assert judge(store, article(2, LISTEN)) == {1}
    assert judge(store, article(3, "Listen  to this story!")) == {1}


def test_boilerplate_is_judged_per_source():
    store = MemoryStore()
    judge(store, article(1, LISTEN, source="Fenland Echo"))
    assert judge(store, article(2, LISTEN, source="Wolds Gazette")) == set()
    assert judge(store, article(3, LISTEN, source="Fenland Echo")) == {1}


def test_boilerplate_new_version_of_a_uri_is_not_evidence():
    store = MemoryStore()
    judge(store, article(1, LISTEN))
    assert judge(store, article(1, LISTEN, hours=5, version="2")) == set()


def test_boilerplate_background_paragraph_reused_by_a_running_story_stays():
    store = MemoryStore()
    for number in (1, 2, 3):
        assert judge(store, article(number, BACKGROUND)) == set()
    # a fourth article with three earlier ones: now it is furniture
    assert judge(store, article(4, BACKGROUND)) == {1}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Words by Ann Lee; checks by Bo Park", "Words by Dev Rao; checks by Cy Moss"),
        ("See also: Tram fares frozen for a year", "See also: New bridge opens to cyclists"),
        ("3 min read", "12 min read"),
    ],
)
def test_boilerplate_line_varying_in_names_headlines_or_figures_goes(first, second):
    store = MemoryStore()
    assert judge(store, article(1, first)) == set()
    assert judge(store, article(2, second)) == {1}


def test_boilerplate_counts_only_earlier_articles():
    store = MemoryStore()
    judge(store, article(2, LISTEN))
    assert judge(store, article(1, LISTEN)) == set()  # arrives late: the other one is later news


def test_boilerplate_reprocessing_gives_the_same_answers_and_state():
    store = MemoryStore()
    stream = [article(n, LISTEN if n % 2 else "Share this page", BACKGROUND) for n in range(12)]
    first = [judge(store, item) for item in stream]
    snapshot = dict(store.data)
    assert [judge(store, item) for item in stream] == first
    assert [judge(store, item) for item in stream[-4:]] == first[-4:]  # the tail after a crash
    assert store.data == snapshot


def test_boilerplate_priming_lets_first_occurrences_go():
    store = MemoryStore()
    stream = [article(1, LISTEN, BACKGROUND), article(2, LISTEN), article(3, BACKGROUND), article(4)]
    for item in stream:
        judge(store, item, priming=True)
    assert [judge(store, item) for item in stream] == [{1}, {1}, set(), set()]


def test_boilerplate_evidence_beyond_the_horizon_is_ignored():
    store = MemoryStore()
    judge(store, article(1, LISTEN, hours=0))
    assert judge(store, article(2, LISTEN, hours=24 * 7 + 1)) == set()
    store = MemoryStore()
    judge(store, article(1, LISTEN, hours=0))
    assert judge(store, article(2, LISTEN, hours=24 * 7 - 1)) == {1}


def fingerprint_keys(store: MemoryStore) -> list[str]:
    return [key for key in store.data if len(key.partition(":")[2]) == 16]


def test_boilerplate_state_is_bounded_by_the_horizon():
    store = MemoryStore()
    sizes = []
    for number in range(200):  # one article every six hours: fifty days
        judge(store, article(number, LISTEN, hours=6 * number))
        sizes.append(len(fingerprint_keys(store)))
    # the horizon (7 days) plus grace and one bucket holds 29 articles: one content key each
    assert max(sizes[60:]) <= 29 + 2
    assert sizes[-1] == sizes[-50]
    assert content(0) not in {key for key in store.data}
    prefix = source_prefix("Fenland Echo")
    # expiry index: buckets are event hours; none from the first forty days is left
    buckets = {int(key.split(":t")[1].split(".")[0]) for key in store.data if key.startswith(f"{prefix}:t")}
    first_hour = int(START.timestamp()) // 3600
    assert buckets and min(buckets) >= first_hour + 24 * 40


def test_boilerplate_old_timestamps_behave_like_new_ones():
    results, shapes = [], []
    for start in (datetime(1999, 1, 1, tzinfo=timezone.utc), datetime(2031, 5, 4, tzinfo=timezone.utc)):
        store = MemoryStore()
        stream = [
            Article(f"urn:t:{n}", "1", start + timedelta(hours=9 * n), "Fenland Echo", "H",
                    (Paragraph(0, content(n)), Paragraph(1, LISTEN if n % 3 else "Share this page")), {})
            for n in range(60)
        ]
        results.append([judge(store, item) for item in stream])
        shapes.append((len(store.data), sum(len(v) for v in store.data.values())))
    assert results[0] == results[1]
    assert shapes[0] == shapes[1]


def test_boilerplate_article_older_than_the_horizon_is_judged_but_not_recorded():
    store = MemoryStore()
    judge(store, article(1, LISTEN, hours=24 * 30))
    before = dict(store.data)
    judge(store, article(2, "An old line", hours=0))
    assert store.data == before


def test_boilerplate_values_stay_small_and_capped():
    store = MemoryStore()
    for number in range(40):
        judge(store, article(number, LISTEN, "Share this page"))
    for key in fingerprint_keys(store):
        assert len(key) == 25
        assert len(store.data[key]) <= 7 * SETTINGS.max_entries
        assert len(key) + len(store.data[key]) <= 64
    full = [key for key in fingerprint_keys(store) if len(store.data[key]) == 7 * SETTINGS.max_entries]
    assert len(full) >= 2  # the two recurring lines (and their shapes)


def test_boilerplate_cap_keeps_the_oldest_evidence_for_reprocessing():
    store = MemoryStore()
    stream = [article(number, BACKGROUND) for number in range(10)]
    first = [judge(store, item) for item in stream]
    assert first[3] == {1}
    assert judge(store, stream[3]) == {1}  # its three earlier articles were not evicted


def test_boilerplate_entries_round_trip():
    entries = [(1_900_000_000, 5, 0), (1_900_000_060, (1 << 22) - 1, 1), (1_900_000_061, 7, 3)]
    assert unpack_entries(pack_entries(entries)) == entries
    assert len(pack_entries(entries)) == 21


@pytest.mark.parametrize("year", [1901, 2200])
def test_boilerplate_survives_dates_outside_the_stored_range(year):
    store = MemoryStore()
    when = datetime(year, 1, 1, tzinfo=timezone.utc)
    items = [Article(f"urn:y:{n}", "1", when + timedelta(days=n), "Fenland Echo", "H", (Paragraph(0, LISTEN),), {})
             for n in (1, 2)]
    results = [judge(store, item) for item in items]  # one pinned instant: the uri hash breaks the tie
    assert results[0] == set() and results[1] <= {0}
    assert fingerprint_keys(store)


# --- templates, related stories and the edge zone, through the store ---

PEOPLE = ["Ann Lee", "Bo Park", "Cy Moss", "Dee Ray", "Eli Fox", "Fay Orr", "Gil Day", "Hal Roe", "Ivo Tan", "Jo Kerr"]
CITIES = ["Rome", "Oslo", "Lima", "Kyiv", "Doha", "Bern"]


def story(number: int, paragraphs: int = 5) -> list[str]:
    """Paragraphs that no other story carries (each holds a quantity, so it has no template)."""
    return [f"{content(number)} Section {part} of the report counted {1000 + 17 * number + part} visitors." for part in range(paragraphs)]


def judge_texts(store: MemoryStore, number: int, texts: list[str], source: str = "Fenland Echo", **kwargs):
    when = START + timedelta(hours=number)
    paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
    item = Article(f"urn:test:{source}:{number}", "1", when, source, "A headline", paragraphs, {})
    return judge(store, item, **kwargs)


def contributor(number: int) -> str:
    names = PEOPLE[number % 10 :] + PEOPLE[: number % 10]
    return (
        f"Additional reporting by {names[0]} in {CITIES[number % 6]} and {names[1]} in {CITIES[(number + 1) % 6]}; "
        f"writing by {names[2]}; editing by {names[3]}. Our reporters follow the newsroom code, and "
        "every correction we make is listed on the corrections page with the date it was made"
    )


def test_boilerplate_long_contributor_line_with_changing_slots_goes_after_a_few_sightings():
    store = MemoryStore()
    assert len(contributor(1).split()) > 30  # no length cut-off
    for number in (1, 2):
        judge_texts(store, number, [*story(number), contributor(number)])
    # a weak skeleton (few slots in a long line) needs two earlier sightings at the edge
    for number in range(3, 7):
        assert judge_texts(store, number, [*story(number), contributor(number)]) == {5}


def test_boilerplate_strong_template_goes_on_its_second_sighting():
    store = MemoryStore()
    credit = "Reporting by {} and {}; Editing by {}"
    assert judge_texts(store, 1, [*story(1), credit.format(*PEOPLE[:3])]) == set()
    assert judge_texts(store, 2, [*story(2), credit.format(*PEOPLE[3:6])]) == {5}


def test_boilerplate_caption_with_a_changing_photo_credit_goes():
    store = MemoryStore()
    caption = "The harbour from the air, taken for the picture desk of this paper. Photograph: {}/Pool"
    for number in (1, 2):
        judge_texts(store, number, [caption.format(PEOPLE[number]), *story(number)])
    for number in range(3, 6):
        assert judge_texts(store, number, [caption.format(PEOPLE[number]), *story(number)]) == {0}


@pytest.mark.parametrize(
    "line",
    [
        "Shares in {name} Holdings rose {n}.5% to {m}p in early trading.",  # market moves
        "{name} Rovers beat {other} Town {n}-1 at home on Saturday.",  # match results
        "{name} said on Monday that the {noun} would be finished before the winter.",  # shared structure, its own facts
    ],
)
def test_boilerplate_content_lines_sharing_a_skeleton_stay(line):
    store = MemoryStore()
    nouns = ["bridge", "school", "ferry", "library", "museum", "depot", "clinic", "stadium"]
    for number in range(8):
        text = line.format(name=PEOPLE[number].split()[1], other=PEOPLE[number - 1].split()[1], n=number + 2,
                           m=100 + 13 * number, noun=nouns[number])
        # the line sits at the edge (the lead) of every story
        assert judge_texts(store, number, [text, *story(number)]) == set()


def test_boilerplate_prose_with_a_name_changed_inside_a_story_stays():
    store = MemoryStore()
    for number in range(6):
        line = f"Volunteers from {CITIES[number]} repaired the old bandstand before the fair, helped by the school."
        texts = story(number, 3) + [line] + story(100 + number, 3)
        assert judge_texts(store, number, texts) == set()


def test_boilerplate_short_quote_reused_by_follow_ups_stays():
    store = MemoryStore()
    quote = '"We will rebuild the pier," said the harbour master.'
    assert judge_texts(store, 1, [*story(1, 2), quote, *story(101, 3)]) == set()
    assert judge_texts(store, 2, [*story(2, 3), quote, *story(102, 2)]) == set()
    assert judge_texts(store, 3, [*story(3, 2), quote, *story(103, 3)]) == set()


def test_boilerplate_short_line_at_the_edge_goes_on_its_second_sighting():
    store = MemoryStore()
    assert judge_texts(store, 1, [*story(1), "Sign up for the weekend briefing"]) == set()
    assert judge_texts(store, 2, [*story(2), "Sign up for the weekend briefing"]) == {5}


def test_boilerplate_republished_copy_keeps_its_whole_body():
    store = MemoryStore()
    lead = "Ferry fares to rise."  # a short lead: alone it would read like a furniture line
    body = [lead, *story(1, 4)]
    assert judge_texts(store, 1, [LISTEN, *body]) == set()
    assert judge_texts(store, 2, [LISTEN, *story(2)]) == {0}  # furniture seen before goes
    # the outlet republishes story 1 under a new uri: its furniture goes, its body stays
    assert judge_texts(store, 3, [LISTEN, *body]) == {0}
    # and the copy added no evidence: a third story quoting the lead mid-story keeps it
    assert judge_texts(store, 4, [*story(4, 3), lead, *story(104, 3)]) == set()


def test_boilerplate_excluded_article_is_no_evidence():
    store = MemoryStore()
    judge_texts(store, 1, [*story(1), "Sign up for the weekend briefing"])
    original = article_id("urn:test:Fenland Echo:1")
    assert judge_texts(store, 2, [*story(2), "Sign up for the weekend briefing"], excluded={original}) == set()


def test_boilerplate_feedwide_evidence_lets_a_first_sighting_go():
    store = MemoryStore()
    tagline = "Distributed by the agency wire service."
    fingerprint = key_paragraph(tagline).fingerprint
    assert judge_texts(store, 1, [*story(1), tagline], feedwide={fingerprint}) == {5}
    assert judge_texts(store, 2, [*story(2), tagline + " Again."], feedwide={fingerprint}) == set()


def test_boilerplate_live_entries_equal_their_rebuild_from_the_index():
    # Entries are spliced into the stored bytes live and repacked by `rebuild`: a line carried
    # by more articles than the cap (drops), primed history, a reprocessed article and an
    # article older than its neighbours must give the same bytes both ways.
    from streams.core.source_table import persisted_key, rebuild

    store = MemoryStore()
    lines = [LISTEN, "Sign up for our newsletter", BACKGROUND]
    for number in range(4):
        judge(store, article(number, *lines), priming=True)
    order = [5, 6, 4, 7, 8, 9, 8, 10, 3, 11, 12]
    for number in order:
        judge(store, article(number, *lines[: 1 + number % 3]))
    fingerprints = {k: v for k, v in store.data.items() if len(k.partition(":")[2]) == 16}
    derived = MemoryStore()
    rebuild({k: v for k, v in store.data.items() if persisted_key(k)}, SETTINGS, derived)
    assert {k: v for k, v in derived.data.items() if len(k.partition(":")[2]) == 16} == fingerprints
    assert max(len(v) for v in fingerprints.values()) == 7 * SETTINGS.max_entries  # the cap was reached
