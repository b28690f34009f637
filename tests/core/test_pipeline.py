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
