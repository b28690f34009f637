import ast
import base64
from pathlib import Path

import orjson
import pytest

from streams.core.models import MemoryStore
from streams.core.pipeline import PipelineSettings, Processed, Rejected, process
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
