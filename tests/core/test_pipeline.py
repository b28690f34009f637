import ast
import base64
from pathlib import Path

import orjson
import pytest

from streams.core.models import MemoryStore
from streams.core.pipeline import Processed, Rejected, process
from streams.core.settings import PipelineSettings
from streams.schemas import validator

ARTICLE = {
    "uri": "urn:newsclean:test:pipe",
    "version": "1",
    "versionCreated": "2026-03-02T06:00:00Z",
    "headlines": [{"role": "main", "value": "Ferry strike ends"}],
    "bodies": [{"role": "main", "contentType": "text/plain", "value": "The strike ended on Monday.\n\nFerries sail again."}],
    "altIds": [{"role": "source", "value": "Coast Daily"}],
}


def run(*raws: bytes):
    messages = [(raw, {"file": "t.jsonl", "line": n}) for n, raw in enumerate(raws, start=1)]
    return process(messages, MemoryStore(), PipelineSettings(), extractor=None)


def test_pipeline_envelope_matches_its_schema_and_the_ninjs_schema():
    [outcome] = run(orjson.dumps(ARTICLE))
    assert isinstance(outcome, Processed)
    envelope = outcome.envelope
    assert not list(validator("envelope.schema.json").iter_errors(envelope))
    assert not list(validator("ninjs-schema_3.1.json").iter_errors(envelope["article"]))
    assert envelope["article"]["uri"] == ARTICLE["uri"] and envelope["article"]["version"] == "1"
    assert envelope["article"]["bodies"][0] == {
        "role": "main",
        "contentType": "text/plain",
        "value": "The strike ended on Monday.\n\nFerries sail again.",
    }
    assert outcome.key == ARTICLE["uri"].encode()
    assert outcome.timestamp_ms == 1772431200000
    assert envelope["pipeline"]["input"] == {"file": "t.jsonl", "line": 1}


def test_pipeline_html_body_becomes_plain_paragraphs():
    doc = {**ARTICLE, "bodies": [{"role": "main", "contentType": "text/html", "value": "<p>A &amp; B</p>\n<p>C</p>"}]}
    [outcome] = run(orjson.dumps(doc))
    assert outcome.envelope["article"]["bodies"] == [{"role": "main", "contentType": "text/plain", "value": "A & B\n\nC"}]


def test_pipeline_bad_input_is_rejected_with_original_bytes_and_the_rest_flows():
    bad = b'{"uri": 1}'
    outcomes = run(b"\xff", bad, orjson.dumps(ARTICLE))
    assert [type(o) for o in outcomes] == [Rejected, Rejected, Processed]
    assert [o.reason for o in outcomes[:2]] == ["not_utf8", "schema"]
    for outcome, raw in zip(outcomes, (b"\xff", bad)):
        assert base64.b64decode(outcome.record["original"]) == raw
        assert not list(validator("dead-letter.schema.json").iter_errors(outcome.record))


def test_pipeline_core_imports_no_kafka_or_asyncio():
    forbidden = {"faust", "aiokafka", "asyncio", "mode"}
    core = Path(__file__).resolve().parents[2] / "streams" / "core"
    for path in core.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


# ---------------------------------------------------------------- items that are not cleaned


def _run_with(non_text: str, *raws: bytes):
    from streams.core.settings import InputSettings

    messages = [(raw, {"file": "t.jsonl", "line": n}) for n, raw in enumerate(raws, start=1)]
    return process(messages, MemoryStore(), PipelineSettings(input=InputSettings(non_text=non_text)), extractor=None)


PICTURE = {"uri": "urn:newsclean:test:pic", "type": "picture", "versionCreated": "2026-03-02T07:00:00Z",
           "renditions": [{"name": "web", "href": "https://example.com/p.jpg", "contentType": "image/jpeg"}]}
LEGACY_EVENT = {"uri": "urn:newsclean:test:event", "type": "composite", "headline": "Summit",
                "versioncreated": "2026-03-02T08:00:00+0000", "mimetype": "application/json"}


def test_pipeline_non_text_items_pass_through_as_31_by_default():
    from streams.core.pipeline import Passed

    outcomes = run(orjson.dumps(PICTURE), orjson.dumps(LEGACY_EVENT))
    assert [type(o) for o in outcomes] == [Passed, Passed]
    for outcome, doc in zip(outcomes, (PICTURE, LEGACY_EVENT)):
        envelope = outcome.envelope
        assert not list(validator("envelope.schema.json").iter_errors(envelope))
        assert (envelope["status"], envelope["removed"], envelope["entities"]) == ("passed", [], [])
        assert envelope["ner"] == {"ran": False, "reason": "not_text"}
        assert outcome.key == doc["uri"].encode()
    assert outcomes[0].envelope["article"] == PICTURE and outcomes[0].envelope["input_version"] == "3.1"
    legacy = outcomes[1].envelope
    assert legacy["article"]["headlines"] == [{"role": "main", "value": "Summit"}]
    assert legacy["article"]["versionCreated"] == "2026-03-02T08:00:00+00:00"
    assert legacy["unmapped"] == ["mimetype"] and legacy["input_version"].startswith("1.")
    assert outcomes[1].timestamp_ms == 1772438400000


def test_pipeline_non_text_policy_skip_and_dlq():
    from streams.core.pipeline import Skipped

    [skipped] = _run_with("skip", orjson.dumps(PICTURE))
    assert isinstance(skipped, Skipped) and (skipped.why, skipped.uri) == ("non_text", PICTURE["uri"])
    [rejected] = _run_with("dlq", orjson.dumps(PICTURE))
    assert isinstance(rejected, Rejected) and rejected.reason == "non_text"
    assert base64.b64decode(rejected.record["original"]) == orjson.dumps(PICTURE)


@pytest.mark.parametrize("status", ["withheld", "canceled"])
@pytest.mark.parametrize("policy", ["pass", "skip", "dlq"])
def test_pipeline_kills_are_forwarded_under_their_uri_whatever_the_policy(status, policy):
    from streams.core.pipeline import Passed

    kill = {**ARTICLE, "pubStatus": status, "embargoedUntil": "2026-04-01T00:00:00Z"}
    cleaned, killed = _run_with(policy, orjson.dumps(ARTICLE), orjson.dumps(kill))
    assert isinstance(cleaned, Processed) and isinstance(killed, Passed)
    assert killed.key == cleaned.key == ARTICLE["uri"].encode() and killed.why == status
    assert killed.envelope["article"]["pubStatus"] == status
    assert killed.envelope["article"]["embargoedUntil"] == "2026-04-01T00:00:00Z"


def test_pipeline_kills_are_never_boilerplate_evidence():
    from streams.core.models import MemoryStore
    from streams.core.pipeline import prepare

    store = MemoryStore()
    kill = {**ARTICLE, "pubStatus": "canceled"}
    for n in range(5):
        prepare(orjson.dumps({**kill, "uri": f"urn:kill:{n}"}), {"file": "t", "line": 1}, store, PipelineSettings())
    assert store.data == {}


def test_pipeline_an_item_without_time_takes_the_previous_items_time_offline():
    untimed = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    [first] = run(orjson.dumps(untimed))
    assert first.envelope["event_time_source"] == "fallback" and first.timestamp_ms == 0
    outcomes = run(orjson.dumps(ARTICLE), orjson.dumps({**untimed, "uri": "urn:newsclean:test:later"}))
    assert [o.envelope["event_time_source"] for o in outcomes] == ["versionCreated", "fallback"]
    assert outcomes[1].timestamp_ms == outcomes[0].timestamp_ms
    assert outcomes[1].envelope["event_time"] == outcomes[0].envelope["event_time"]


def test_pipeline_live_fallback_is_the_record_timestamp():
    from datetime import datetime, timezone

    from streams.core.pipeline import Prepared, prepare

    untimed = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    outcome = prepare(orjson.dumps(untimed), {"file": "t", "line": 1}, MemoryStore(), PipelineSettings(), moment)
    assert isinstance(outcome, Prepared)
    assert (outcome.article.event_time, outcome.article.event_time_source) == (moment, "record_timestamp")


def test_pipeline_cleaned_envelope_carries_version_and_unmapped():
    legacy = {"uri": "urn:newsclean:test:legacy", "headline": "H", "body_text": "One.\n\nTwo.", "mimetype": "text/plain",
              "versioncreated": "2026-03-02T06:00:00Z", "associations": {"featureimage": {"uri": "urn:newsclean:test:pic"}}}
    [outcome] = run(orjson.dumps(legacy))
    envelope = outcome.envelope
    assert not list(validator("envelope.schema.json").iter_errors(envelope))
    assert (envelope["status"], envelope["unmapped"]) == ("cleaned", ["mimetype"])
    assert envelope["article"]["associations"] == [{"name": "featureimage", "uri": "urn:newsclean:test:pic"}]
NITF_BODY = (
    '<?xml version="1.0"?><!DOCTYPE nitf SYSTEM "nitf-3-5.dtd"><nitf><body><body.head><hedline><hl1>Ferries sail again'
    "</hl1></hedline></body.head><body.content><p>The strike ended.</p><p>Ferries sail&nbsp;again.</p></body.content>"
    "</body></nitf>"
)


def test_pipeline_richest_body_is_cleaned_and_replaces_every_rendering():
    doc = {**ARTICLE, "bodies": [
        {"role": "text", "contentType": "text/plain", "value": "The strike ended.\nFerries sail again."},
        {"role": "summary", "contentType": "text/plain", "value": "Strike over."},
        {"role": "html5", "contentType": "text/html; charset=utf-8", "value": "<p>The strike ended.</p><p>Ferries <b>sail</b> again.</p>"},
        {"role": "print", "contentType": "application/pdf", "value": "JVBERi0xLjc="},
    ]}
    [outcome] = run(orjson.dumps(doc))
    assert isinstance(outcome, Processed)
    assert outcome.envelope["article"]["bodies"] == [
        {"role": "main", "contentType": "text/plain", "value": "The strike ended.\n\nFerries sail again."},
        doc["bodies"][1],
        doc["bodies"][3],
    ]
    assert not list(validator("envelope.schema.json").iter_errors(outcome.envelope))


def test_pipeline_nitf_body_without_headline_takes_the_hedline():
    doc = {k: v for k, v in ARTICLE.items() if k != "headlines"}
    doc["bodies"] = [{"role": "main", "contentType": "text/vnd.IPTC.NITF", "value": NITF_BODY}]
    [outcome] = run(orjson.dumps(doc))
    assert isinstance(outcome, Processed)
    article = outcome.envelope["article"]
    assert article["headlines"] == [{"role": "main", "value": "Ferries sail again"}]
    assert article["bodies"] == [{"role": "main", "contentType": "text/plain", "value": "The strike ended.\n\nFerries sail\u00a0again."}]
    assert not list(validator("envelope.schema.json").iter_errors(outcome.envelope))


def test_pipeline_nitf_body_keeps_an_existing_headline():
    doc = {**ARTICLE, "bodies": [{"role": "main", "contentType": "application/nitf+xml", "value": NITF_BODY}]}
    [outcome] = run(orjson.dumps(doc))
    assert outcome.envelope["article"]["headlines"] == ARTICLE["headlines"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"role": "main", "contentType": "application/pdf", "value": "JVBERi0xLjc="}, "unsupported_body"),
        ({"role": "main", "contentType": "image/jpeg", "value": "/9j/4AAQ"}, "unsupported_body"),
        ({"role": "main", "contentType": "text/vnd.IPTC.NITF", "value": "<nitf><body>"}, "bad_body"),
        ({"role": "main", "contentType": "text/vnd.IPTC.NITF",
          "value": '<!DOCTYPE nitf [<!ENTITY x SYSTEM "file:///etc/passwd">]><nitf><p>&x;</p></nitf>'}, "bad_body"),
    ],
)
def test_pipeline_unreadable_body_is_dead_lettered(body, reason):
    [outcome] = run(orjson.dumps({**ARTICLE, "bodies": [body]}))
    assert isinstance(outcome, Rejected)
    assert outcome.reason == reason
    assert not list(validator("dead-letter.schema.json").iter_errors(outcome.record))


class _Named:
    """An extractor naming a person, an organisation and a place in every article."""

    languages = ("en",)

    def extract_many(self, items):
        from streams.core.models import Entity, Mention

        return [[Entity("Ana Diaz", "PERSON", (Mention("Ana Diaz", 0, 8, "body"),)),
                 Entity("Coast Ferries", "ORG", (Mention("Coast Ferries", 10, 23, "body"),), aliases=("CF",)),
                 Entity("Leeds", "GPE", (Mention("Leeds", 30, 35, "headline"),), point=(-1.55, 53.8))]
                for _ in items]


def test_pipeline_draft_then_complete_equals_finish():
    """The enrich stage's split: the envelope drafted without entities and completed later is
    the one `finish` builds at once, also when the input already lists one of the entities."""
    from datetime import datetime, timezone

    from streams.core.pipeline import Prepared, complete, draft, enrich, extract, finish, prepare

    at = datetime(2026, 3, 2, 7, tzinfo=timezone.utc)
    listed = {**ARTICLE, "people": [{"name": "Ana Diaz", "rel": "about"}], "language": "en"}
    other_language = {**ARTICLE, "uri": "urn:newsclean:test:de", "language": "de"}
    store, settings = MemoryStore(), PipelineSettings()
    prepared = [prepare(orjson.dumps(doc), {"file": "t.jsonl", "line": n}, store, settings)
                for n, doc in enumerate((ARTICLE, listed, other_language))]
    assert all(isinstance(p, Prepared) for p in prepared)
    extractor = _Named()
    at_once = [finish(p, e, at) for p, e in zip(prepared, enrich(extractor, prepared))]
    drafts = [draft(p, e.ner, at) for p, e in zip(prepared, enrich(extractor, prepared))]
    assert [d.model_input is not None for d in drafts] == [True, True, False]
    assert all(d.envelope["entities"] == [] for d in drafts)
    later = [complete(d, found) for d, found in zip(drafts, extract(extractor, drafts))]
    assert later == at_once
    assert [len(p.envelope["entities"]) for p in later] == [3, 3, 0]
    assert [p["name"] for p in later[1].envelope["article"]["people"]] == ["Ana Diaz"]  # listed once, as the input had it
    assert later[0].envelope["article"]["places"][0]["name"] == "Leeds"
