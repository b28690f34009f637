"""Hostile and malformed input through a running worker: each message is either processed
correctly or dead-lettered with a reason that names what was wrong (and the limit, when one
tripped); the valid articles sent between them all come through; the worker stays up and ready.

One worker serves the whole module (started once, fed every case, then read back), with a
time limit of 2 s per article so the slow case trips it quickly."""

from __future__ import annotations

import asyncio
import base64
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import orjson
import pytest
from aiokafka.admin import NewTopic

from streams.schemas import validator

from tests.support.chaos import read_topic
from tests.support.synthetic import START, article
from tests.support.workers import Pipeline

MiB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    value: bytes
    reason: str | None = None  # the dead-letter reason expected; None: an envelope is expected
    detail: str = ""  # a part of the dead letter's detail (the limit's name when one tripped)
    check: Callable[[dict], None] | None = None  # more about the envelope


def _doc(uri: str, **fields) -> dict:
    return {"uri": uri, "version": "1", "versionCreated": "2024-03-01T06:00:00Z",
            "headlines": [{"role": "main", "value": "A headline"}], "altIds": [{"role": "source", "value": "Bad Input Desk"}],
            **fields}


def _plain(uri: str, text: str, **fields) -> bytes:
    return orjson.dumps(_doc(uri, bodies=[{"role": "main", "contentType": "text/plain", "value": text}], **fields))


def _words(n: int, rng: random.Random) -> str:
    return " ".join("".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(n))


def _body_of(envelope: dict) -> str:
    return next(b["value"] for b in envelope["article"]["bodies"] if b.get("role") == "main")


def _unicode_kept(envelope: dict) -> None:
    assert _body_of(envelope).split("\n\n") == [UNICODE_1, UNICODE_2]


def _html_cleaned(envelope: dict) -> None:
    body = _body_of(envelope)
    assert body.split("\n\n") == ["Council <approves> the ferry & the pier.", "Second paragraph stays."]
    assert "alert" not in body and "tracking" not in body and "comment" not in body


NITF = ("<nitf><body><body.head><hedline><hl1>Pier reopens</hl1></hedline></body.head><body.content>"
        "<p>The pier reopened.</p><media><media-object encoding='base64'>AAAA</media-object>"
        "<media-caption>The pier at dawn.</media-caption></media></body.content></body></nitf>")


def _nitf_cleaned(envelope: dict) -> None:
    assert _body_of(envelope).split("\n\n") == ["The pier reopened.", "The pier at dawn."]
    assert envelope["article"]["headlines"] == [{"role": "main", "value": "Pier reopens"}]


def _large_kept(envelope: dict) -> None:
    assert len(_body_of(envelope)) > 5 * MiB


UNICODE_1 = "Zero\u200bwidth\u200c joiners\u200d and \u2066isolates\u2069 stay \U0001F4F0\U0001F30D."
UNICODE_2 = "\u05d4\u05e2\u05d9\u05e8\u05d9\u05d9\u05d4 \u0627\u0644\u0645\u062f\u064a\u0646\u0629 \u202eRTL override\u202c text."
HTML = ("<!-- comment with <p>markup</p> --><script>alert('x')</script><style>p{}</style>"
        "<p>Council &lt;approves&gt; the ferry &amp; the pier.</p><noscript>tracking pixel</noscript>"
        "<p>Second   paragraph\n stays.</p>")
_rng = random.Random(5)
# An embargoed (or mis-dated) article: Kafka 4 refuses records stamped more than an hour ahead.
FUTURE = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)


def _passed(envelope: dict) -> None:
    assert envelope["status"] == "passed" and envelope["removed"] == [] and envelope["entities"] == []
    assert envelope["ner"] == {"ran": False, "reason": "not_text"}


LONG_BODY = list(dict.fromkeys(_words(30, _rng) for _ in range(4000)))


def _long_kept(envelope: dict) -> None:
    assert _body_of(envelope).split("\n\n") == LONG_BODY


def _future_kept(envelope: dict) -> None:
    assert envelope["article"]["versionCreated"] == FUTURE.isoformat().replace("+00:00", "Z")

CASES = [
    Case("invalid_utf8", b"\xff\xfe\xfa not utf-8 at all", "not_utf8"),
    Case("not_json", b"{uri: 'single quotes are not JSON'", "not_json"),
    Case("empty_message", b"", "empty"),
    Case("whitespace_message", b" \r\n\t ", "empty"),
    Case("uri_with_control_character", _plain("urn:bad:\u0007bell", "Text."), "bad_uri", "control character"),
    Case("uri_over_2_kib", _plain("urn:bad:" + "x" * 2100, "Text."), "bad_uri", "2048"),
    Case("json_array", b'["an", "array"]', "not_object", "list"),
    Case("json_string", b'"just a string"', "not_object", "str"),
    Case("json_null", b"null", "not_object"),
    Case("schema_bodies_not_a_list", orjson.dumps(_doc("urn:bad:schema1", bodies="text")), "schema", "bodies"),
    Case("schema_no_uri", orjson.dumps({"headline": "h", "body_text": "Text."}), "schema", "uri"),
    Case("schema_unknown_field_faust_model", orjson.dumps(_doc("urn:bad:faust", body_text="Text.",
                                                              __faust={"ns": "os.system"})), "schema"),
    # valid items without body text are passed on, not dead-lettered (NEWSCLEAN_NON_TEXT=pass)
    Case("empty_body", _plain("urn:ok:empty", "   \n\n  "), check=_passed),
    Case("missing_body", orjson.dumps(_doc("urn:ok:nobody")), check=_passed),
    Case("body_10_mb", _plain("urn:bad:10mb", "word " * (2 * MiB)), "too_large", "max_message_bytes=8388608"),
    Case("body_15_mb_dead_letter_truncated", _plain("urn:bad:15mb", "word " * (3 * MiB)), "too_large", "original truncated"),
    Case("body_6_mb_processed", _plain("urn:ok:6mb", "\n\n".join(_words(40_000, _rng) for _ in range(24))),
         check=_large_kept),
    Case("paragraphs_100000", _plain("urn:bad:100k", "\n".join(f"Paragraph {i}." for i in range(100_000))),
         "too_many_paragraphs", "max_paragraphs=5000"),
    Case("nesting_10000_deep", b'{"uri": "urn:bad:deep", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
         "too_deep", "max_json_depth=64"),
    Case("duplicate_keys", b'{"uri": "urn:bad:dup", "uri": "urn:bad:dup2", "body_text": "Text."}', "duplicate_key", "uri"),
    # 4,000 paragraphs once took longer than the limit (quadratic near-repeat checks); dedup is
    # near-linear now, so such an article is cleaned, not dead-lettered (too_slow: test_app)
    Case("long_article", _plain("urn:ok:long", "\n\n".join(LONG_BODY)), check=_long_kept),
    Case("zero_width_rtl_emoji", _plain("urn:ok:unicode", f"{UNICODE_1}\n\n{UNICODE_2}"), check=_unicode_kept),
    Case("dated_30_days_ahead", _plain("urn:ok:future", "Embargoed until next month.",
                                       versionCreated=FUTURE.isoformat().replace("+00:00", "Z"),
                                       altIds=[{"role": "source", "value": "Embargo Desk"}]), check=_future_kept),
    Case("html_script_style_comments", orjson.dumps(_doc("urn:ok:html", bodies=[
        {"role": "main", "contentType": "text/html", "value": HTML}])), check=_html_cleaned),
    Case("pdf_body", orjson.dumps(_doc("urn:bad:pdf", bodies=[
        {"role": "main", "contentType": "application/pdf", "value": "JVBERi0xLjcKJeLjz9M="}])), "unsupported_body", "application/pdf"),
    Case("nitf_external_entity", orjson.dumps(_doc("urn:bad:xxe", bodies=[{"role": "main", "contentType": "text/vnd.IPTC.NITF",
        "value": '<!DOCTYPE nitf [<!ENTITY x SYSTEM "file:///etc/passwd">]><nitf><body><body.content><p>&x;</p></body.content></body></nitf>'}])),
         "bad_body", "declares entities"),
    Case("nitf_body_without_headline", orjson.dumps({**{k: v for k, v in _doc("urn:ok:nitf").items() if k != "headlines"},
         "bodies": [{"role": "main", "contentType": "application/nitf+xml", "value": NITF}]}), check=_nitf_cleaned),
]


@dataclass
class Run:
    pipeline: Pipeline
    sent: list[tuple[str, int]]  # (case name or "valid", input offset)
    envelopes: dict[int, dict]  # by input offset
    dead: dict[int, dict]
    alive: bool
    ready: bool


@pytest.fixture(scope="module")
async def run(bootstrap_servers, admin, producer, tmp_path_factory) -> Run:
    names = {n: f"bad-{n}-{uuid.uuid4().hex[:12]}" for n in ("in", "out", "dlq")}
    await admin.create_topics([NewTopic(names["in"], 1, 1)])
    pipeline = Pipeline(bootstrap_servers, names["in"], names["out"], names["dlq"], f"nc-bad-{uuid.uuid4().hex[:12]}",
                        tmp_path_factory.mktemp("bad-input"), extra={"NEWSCLEAN_MAX_ARTICLE_SECONDS": "2"})
    worker = await pipeline.start_worker()
    try:
        sent: list[tuple[str, int]] = []
        for n, case in enumerate(CASES):  # a valid article before and after every bad one
            for name, value in ((f"valid-{n}", _valid(n)), (case.name, case.value)):
                sent.append((name, (await (await producer.send(names["in"], value))).offset))
        sent.append(("valid-last", (await (await producer.send(names["in"], _valid(len(CASES))))).offset))
        envelopes, dead = await _collect(bootstrap_servers, names, len(sent), timeout=180)
        alive, ready = worker.running, await asyncio.to_thread(worker.ready)
    finally:
        await pipeline.stop_all()
        await admin.delete_topics(list(names.values()))
    return Run(pipeline, sent, envelopes, dead, alive, ready)


def _valid(n: int) -> bytes:
    return article(f"urn:ok:valid:{n}", "1", START, "Bad Input Desk", f"Story {n}",
                   [f"Story {n} opens with its own words.", "A second paragraph of the story."])


async def _collect(bootstrap: str, names: dict, expected: int, timeout: float) -> tuple[dict, dict]:
    deadline = time.monotonic() + timeout
    while True:
        envelopes = {orjson.loads(r.value)["pipeline"]["input"]["offset"]: orjson.loads(r.value)
                     for r in await read_topic(bootstrap, names["out"])}
        dead = {orjson.loads(r.value)["input"]["offset"]: orjson.loads(r.value) for r in await read_topic(bootstrap, names["dlq"])}
        if len(envelopes.keys() | dead.keys()) >= expected or time.monotonic() > deadline:
            return envelopes, dead
        await asyncio.sleep(1.0)  # polling the topics, bounded by `timeout`


def test_bad_input_worker_stays_up_and_ready(run):
    assert run.alive and run.ready


def test_bad_input_valid_articles_around_bad_ones_all_flow(run):
    valid = [offset for name, offset in run.sent if name.startswith("valid")]
    assert [o for o in valid if o not in run.envelopes] == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_processed_or_dead_lettered_with_its_reason(run, case):
    offset = dict(run.sent)[case.name]
    if case.reason is None:
        assert offset in run.envelopes, run.dead.get(offset)
        assert not list(validator("envelope.schema.json").iter_errors(run.envelopes[offset]))
        case.check(run.envelopes[offset])
        return
    assert offset in run.dead, f"no dead letter; envelope: {offset in run.envelopes}"
    record = run.dead[offset]
    assert (record["reason"], offset not in run.envelopes) == (case.reason, True)
    assert case.detail in record["detail"]
    assert not list(validator("dead-letter.schema.json").iter_errors(record))
    original = base64.b64decode(record["original"])
    if "truncated" in case.detail:
        assert case.value.startswith(original) and len(original) < len(case.value)
    else:
        assert original == case.value
