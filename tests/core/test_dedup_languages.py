"""Dedup on text other than English: CJK without spaces, German/Nordic letters (hand-written text)."""

from datetime import datetime, timedelta, timezone

from streams.core.dedup import deduplicate
from streams.core.settings import DedupSettings
from streams.core.models import Article, MemoryStore, Paragraph

START = datetime(2031, 9, 1, 6, tzinfo=timezone.utc)

ZH = [
    "市政府今天宣布，从下个月起，全市公共汽车将延长夜间运营时间，方便晚归的市民出行。",
    "交通局负责人表示，新方案经过半年的调研，参考了市民的意见和客流数据。",
    "据介绍，首批调整的线路共有十二条，主要覆盖火车站、医院和大学城等区域。",
    "有市民对此表示欢迎，认为这将明显改善夜间出行难的问题。",
]
JA = [
    "市は三日、来年度から市内の全ての小学校で給食費を無料にすると発表した。",
    "市長は記者会見で「子育て世帯の負担を減らしたい」と述べた。",
    "対象となる児童は約二万人で、年間の費用はおよそ十億円に上る見込みだ。",
]
DE = [
    "Die Hauptstraße bleibt wegen der Bauarbeiten bis Ende März für den Durchgangsverkehr gesperrt.",
    "Anwohner dürfen die Straße weiterhin nutzen, müssen aber mit längeren Wartezeiten rechnen.",
]
NO = [
    "Ferja mellom Ålesund og Hareid går som normalt igjen etter at streiken ble avsluttet i går kveld.",
    "Sjåførene får økt lønn fra første januar, opplyser forbundet i en pressemelding.",
]


def make(number: int, texts: list[str], source: str = "Stadtblatt") -> Article:
    paragraphs = tuple(Paragraph(index, text) for index, text in enumerate(texts))
    return Article(f"urn:test:lang:{number}", "1", START + timedelta(minutes=30 * number), source, "", paragraphs, {})


def removals(result) -> list[tuple[int, str, int | None]]:
    return [(r.index, r.reason, r.of) for r in result.removed]


def test_dedup_chinese_exact_repeat_is_removed():
    result = deduplicate(make(1, [*ZH, ZH[1]]), MemoryStore(), DedupSettings())
    assert removals(result) == [(4, "repeat", 1)]


def test_dedup_chinese_near_repeat_with_a_typo_is_removed():
    typo = ZH[0].replace("延长", "延常")  # one character wrong
    result = deduplicate(make(1, [*ZH, typo]), MemoryStore(), DedupSettings())
    assert removals(result) == [(4, "near_repeat", 0)]
    assert 0.9 < result.removed[0].similarity < 1


def test_dedup_chinese_near_repeat_with_an_appended_tag_is_removed():
    tagged = ZH[2] + "（完）"
    result = deduplicate(make(1, [*ZH, tagged]), MemoryStore(), DedupSettings())
    assert removals(result) == [(4, "near_repeat", 2)]


def test_dedup_chinese_distinct_paragraphs_are_all_kept():
    result = deduplicate(make(1, ZH), MemoryStore(), DedupSettings())
    assert result.removed == ()


def test_dedup_chinese_body_repeated_with_other_paragraph_breaks_is_removed():
    merged = ZH[1] + ZH[2]  # the second copy of the body joins two paragraphs
    result = deduplicate(make(1, [*ZH, ZH[0], merged, ZH[3]]), MemoryStore(), DedupSettings())
    assert [index for index, _, _ in removals(result)] == [4, 5, 6]
    assert [p.text for p in result.kept] == ZH


def test_dedup_japanese_near_repeat_is_removed():
    slip = JA[2].replace("二万人", "ニ万人")  # katakana ni for the kanji two: an OCR slip
    result = deduplicate(make(1, [*JA, slip]), MemoryStore(), DedupSettings())
    assert removals(result) == [(3, "near_repeat", 2)]


def test_dedup_chinese_long_background_paragraph_needs_as_many_articles_as_english():
    settings = DedupSettings()
    store = MemoryStore()
    background = ZH[0] + ZH[1]  # a long paragraph that a running story repeats
    for number in range(settings.long_min_articles - 1):
        deduplicate(make(number, [f"第{number}条新闻的导语内容各不相同，讲述当天的最新进展。", background]), store, settings)
    result = deduplicate(make(9, ["今天的导语讲述了不同的内容和最新的进展情况。", background]), store, settings)
    assert result.removed == ()  # two earlier articles: not yet boilerplate


def test_dedup_chinese_short_furniture_line_seen_before_is_removed():
    store = MemoryStore()
    furniture = "本文来源：城市晚报"
    deduplicate(make(1, [ZH[0], furniture]), store, DedupSettings())
    result = deduplicate(make(2, [ZH[1], ZH[2], furniture]), store, DedupSettings())
    assert removals(result) == [(2, "boilerplate", None)]


def test_dedup_german_sharp_s_and_ss_meet():
    variant = DE[1].replace("Straße", "STRASSE")  # equal once case-folded: "ß" folds to "ss"
    result = deduplicate(make(1, [*DE, variant]), MemoryStore(), DedupSettings())
    assert removals(result) == [(2, "near_repeat", 1)]  # `repeat` is kept for equal-as-written texts
    assert result.removed[0].similarity == 1.0


def test_dedup_norwegian_letters_are_kept_apart_and_a_slip_is_near():
    # "å" and "a" are different letters: a one-letter change is a slip, not an equal text
    slip = NO[0].replace("Ålesund", "Alesund")
    result = deduplicate(make(1, [*NO, slip]), MemoryStore(), DedupSettings())
    assert removals(result) == [(2, "near_repeat", 0)]
    assert result.removed[0].similarity < 1
