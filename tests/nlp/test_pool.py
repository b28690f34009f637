"""The NER process pool (`NEWSCLEAN_NER_PROCESSES`) must give exactly the in-thread entities."""

import json
from pathlib import Path

import pytest

from streams.nlp.extractor import load_extractor

from streams.nlp.settings import NerSettings
from streams.nlp.pool import CHUNK_CHARS, split

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def articles() -> list[tuple[str, list[str]]]:
    out = []
    for line in (EXAMPLES / "articles.jsonl").read_text().splitlines():
        doc = json.loads(line)
        out.append((doc["headlines"][0]["value"], doc["bodies"][0]["value"].split("\n\n")))
    seed = json.loads((EXAMPLES / "seed-article.json").read_text())
    out.append((seed["headlines"][0]["value"], seed["bodies"][0]["value"].split("\n\n")))
    out.append(("FOOTBALL - KETTERING SIGN STRIKER PIETER VAN DER BERG", ["", "Daesh and ISIL were named.", "  "]))
    return out


@pytest.fixture(scope="module")
def in_thread():
    return load_extractor(NerSettings(processes=0, cache_size=0))


@pytest.mark.parametrize("processes", [1, 2])
def test_pool_gives_the_in_thread_entities(in_thread, processes):
    items = articles()
    expected = in_thread.extract_many(items)
    assert any(expected)
    pooled = load_extractor(NerSettings(processes=processes))
    try:
        assert pooled.nlp is None and pooled.pool is not None
        assert pooled.extract_many(items) == expected  # one batch, split over the processes
        assert [pooled.extract(h, p) for h, p in items] == expected  # one article at a time (from the cache)
        assert pooled.extract_many([]) == [] and pooled.extract("", []) == []
    finally:
        pooled.close()


def test_pool_cuts_one_long_article_into_chunks_for_every_process_with_the_same_entities(in_thread):
    """One article alone (an idle worker's batch): its paragraphs go to every model process, in
    chunks of about `CHUNK_CHARS`, and the entities, offsets included, are those of one process."""
    paragraphs = [p for _, body in articles() for p in body if p.strip()]
    long_article = [("Ministers meet in Brussels", paragraphs)]
    expected = in_thread.extract_many(long_article)
    assert len(expected[0]) > 10
    body = "\n\n".join(paragraphs)
    assert all(body[m.start:m.end] == m.text for e in expected[0] for m in e.mentions if m.field == "body")
    pooled = load_extractor(NerSettings(processes=2, cache_size=0))
    try:
        chunks = []
        submit = pooled.pool.turns.submit
        pooled.pool.turns.submit = lambda chunk: (chunks.append(chunk), submit(chunk))[1]
        assert pooled.extract_many(long_article) == expected
        total = sum(len(p) for p in paragraphs) + len("Ministers meet in Brussels")
        assert len(chunks) >= max(2, total // CHUNK_CHARS)  # many chunks, so an arriving article waits for one
        assert all(sum(map(len, chunk)) < CHUNK_CHARS + max(map(len, paragraphs)) for chunk in chunks)
        assert [t for chunk in chunks for t in chunk][1:] == paragraphs  # in order, nothing cut
    finally:
        pooled.close()


def test_pool_serves_callers_in_several_threads_at_once_with_the_in_thread_entities(in_thread):
    from concurrent.futures import ThreadPoolExecutor

    items = articles()
    expected = in_thread.extract_many(items)
    pooled = load_extractor(NerSettings(processes=2, cache_size=0))
    try:
        with ThreadPoolExecutor(4) as callers:
            results = list(callers.map(lambda item: pooled.extract_many([item])[0], items * 2))
        assert results == expected * 2
    finally:
        pooled.close()


def test_pool_restarts_after_a_child_dies(in_thread):
    items = articles()[:3]
    pooled = load_extractor(NerSettings(processes=1, cache_size=0))
    try:
        for process in list(pooled.pool.executor._processes.values()):
            process.kill()
            process.join()
        assert pooled.extract_many(items) == in_thread.extract_many(items)
    finally:
        pooled.close()


@pytest.mark.parametrize(("lengths", "parts", "expected"), [
    ([10, 10], 2, [[10], [10]]),
    ([10, 10, 10, 10], 2, [[10, 10], [10, 10]]),
    ([100, 1, 1], 2, [[100], [1, 1]]),
    ([5], 3, [[5]]),
    ([0, 0, 0], 2, [[0, 0, 0]]),
    ([3, 3, 3], 1, [[3, 3, 3]]),
])
def test_pool_split_keeps_order_and_balances_length(lengths, parts, expected):
    texts = ["x" * n for n in lengths]
    chunks = split(texts, parts)
    assert [[len(t) for t in chunk] for chunk in chunks] == expected
    assert [t for chunk in chunks for t in chunk] == texts


def test_pool_processes_setting_is_read_and_checked():
    from streams.config import ConfigError, from_env

    assert from_env({"NEWSCLEAN_NER_PROCESSES": "0"}).ner.processes == 0
    assert from_env({}).ner.processes == NerSettings().processes
    with pytest.raises(ConfigError, match="processes"):
        from_env({"NEWSCLEAN_NER_PROCESSES": "-1"})
