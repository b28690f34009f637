import orjson
import pytest

from streams.core.languages import ner_status, primary_subtag, served_languages
from streams.core.models import Entity, MemoryStore, Mention
from streams.core.pipeline import Prepared, Processed, enrich, prepare, process
from streams.core.settings import PipelineSettings
from streams.schemas import validator


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        (" de-CH ", "de"),
        ("zh-Hant-TW", "zh"),
        ("nb", "nb"),
        ("und", None),
        ("UND", None),
        ("", None),
        ("  ", None),
        (None, None),
        (12, None),
    ],
)
def test_languages_primary_subtag(tag, expected):
    assert primary_subtag(tag) == expected


def test_languages_served_languages_are_validated_and_lower_cased():
    assert served_languages(["EN", " de "]) == ("en", "de")
    assert served_languages(["*"]) == ("*",)
    for wrong in (["english"], ["e"], ["en-GB"], []):
        with pytest.raises(ValueError):
            served_languages(wrong)


@pytest.mark.parametrize(
    ("tag", "served", "expected"),
    [
        ("en-GB", ("en",), {"ran": True, "reason": None}),
        ("EN", ("en",), {"ran": True, "reason": None}),
        (None, ("en",), {"ran": True, "reason": None}),  # untagged: the deployment's own language
        ("und", ("en",), {"ran": True, "reason": None}),
        ("de", ("en",), {"ran": False, "reason": "language", "language": "de"}),
        ("zh-Hans", ("en", "de"), {"ran": False, "reason": "language", "language": "zh-Hans"}),
        ("de-AT", ("en", "de"), {"ran": True, "reason": None}),
        ("sv", ("*",), {"ran": True, "reason": None}),
    ],
)
def test_languages_ner_status(tag, served, expected):
    assert ner_status(tag, served) == expected


class _Recording:
    """Tags every article with one entity and records which headlines it was given."""

    def __init__(self, languages):
        self.languages = languages
        self.seen: list[str] = []

    def extract_many(self, items):
        self.seen += [item[0] for item in items]  # (headline, paragraphs, metadata)
        return [[Entity("Oslo", "GPE", (Mention("Oslo", 0, 4, "headline"),))] for _ in items]


def _raw(n: int, language: str | None) -> bytes:
    doc = {"uri": f"urn:lang:{n}", "version": "1", "versionCreated": f"2026-03-02T06:{n:02d}:00Z",
           "headlines": [{"role": "main", "value": f"Oslo story {n}"}],
           "bodies": [{"role": "main", "contentType": "text/plain", "value": f"Paragraph {n} about Oslo."}]}
    if language is not None:
        doc["language"] = language
    return orjson.dumps(doc)


LANGUAGES = ["en", "en-GB", "DE", "nb-NO", None, "zh-Hant", "und"]


def _prepared() -> list[Prepared]:
    store = MemoryStore()
    return [prepare(_raw(n, tag), {"file": "t", "line": n + 1}, store, PipelineSettings()) for n, tag in enumerate(LANGUAGES)]


def test_languages_enrich_runs_the_model_only_on_served_languages():
    extractor = _Recording(("en",))
    enrichments = enrich(extractor, _prepared())
    assert extractor.seen == ["Oslo story 0", "Oslo story 1", "Oslo story 4", "Oslo story 6"]
    assert [bool(e.entities) for e in enrichments] == [True, True, False, False, True, False, True]
    assert [e.ner for e in enrichments] == [
        {"ran": True, "reason": None},
        {"ran": True, "reason": None},
        {"ran": False, "reason": "language", "language": "DE"},
        {"ran": False, "reason": "language", "language": "nb-NO"},
        {"ran": True, "reason": None},
        {"ran": False, "reason": "language", "language": "zh-Hant"},
        {"ran": True, "reason": None},
    ]


def test_languages_enrich_with_no_served_article_does_not_call_the_model():
    extractor = _Recording(("fi",))
    enrichments = enrich(extractor, _prepared()[2:4])
    assert extractor.seen == [] and all(e.entities == [] for e in enrichments)


def test_languages_enrich_without_an_extractor_says_disabled():
    assert [e.ner for e in enrich(None, _prepared()[:2])] == [{"ran": False, "reason": "disabled"}] * 2


def test_languages_envelopes_carry_the_ner_record_and_match_the_schema():
    messages = [(_raw(n, tag), {"file": "t", "line": n + 1}) for n, tag in enumerate(["en", "de"])]
    english, german = process(messages, MemoryStore(), PipelineSettings(), _Recording(("en",)))
    assert isinstance(english, Processed) and isinstance(german, Processed)
    assert english.envelope["ner"] == {"ran": True, "reason": None} and english.envelope["entities"]
    assert german.envelope["ner"] == {"ran": False, "reason": "language", "language": "de"}
    assert german.envelope["entities"] == []
    assert not german.envelope["article"].get("places") and [p["name"] for p in english.envelope["article"]["places"]] == ["Oslo"]
    for outcome in (english, german):
        assert not list(validator("envelope.schema.json").iter_errors(outcome.envelope))


def test_languages_schema_refuses_entities_when_ner_did_not_run():
    [english] = process([(_raw(0, "en"), {"file": "t", "line": 1})], MemoryStore(), PipelineSettings(), _Recording(("en",)))
    envelope = {**english.envelope, "ner": {"ran": False, "reason": "language", "language": "de"}}
    assert list(validator("envelope.schema.json").iter_errors(envelope))
    envelope = {**english.envelope, "ner": {"ran": False, "reason": "language"}}  # language missing
    assert list(validator("envelope.schema.json").iter_errors(envelope))
