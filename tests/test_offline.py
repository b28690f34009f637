import orjson

from streams.cli import main

ARTICLE = {
    "uri": "urn:newsclean:test:offline",
    "version": "1",
    "versionCreated": "2026-03-02T06:00:00Z",
    "bodies": [{"role": "main", "contentType": "text/plain", "value": "Only paragraph."}],
}


def test_offline_clean_writes_one_envelope_per_valid_line_and_reports_bad_ones(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_NER_ENABLED", "false")
    second = {**ARTICLE, "uri": "urn:newsclean:test:offline2"}
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(ARTICLE) + b"\nnot json\n\n" + orjson.dumps(second) + b"\n")
    out, dlq = tmp_path / "out.jsonl", tmp_path / "dlq.jsonl"
    assert main(["clean", str(src), "-o", str(out), "--dlq", str(dlq)]) == 0
    envelopes = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [e["article"]["uri"] for e in envelopes] == [ARTICLE["uri"], second["uri"]]
    [dead] = [orjson.loads(line) for line in dlq.read_bytes().splitlines()]
    assert dead["reason"] == "not_json" and dead["input"] == {"file": str(src), "line": 2}
    assert f"{src}:2: not_json" in capsys.readouterr().err


def test_offline_clean_accepts_a_pretty_printed_object(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_NER_ENABLED", "false")
    src = tmp_path / "one.json"
    src.write_bytes(orjson.dumps(ARTICLE, option=orjson.OPT_INDENT_2))
    out = tmp_path / "out.jsonl"
    assert main(["clean", str(src), "-o", str(out)]) == 0
    [envelope] = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert envelope["article"]["bodies"][0]["value"] == "Only paragraph."


def test_offline_clean_passes_non_text_items_and_gives_untimed_items_the_previous_time(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLEAN_NER_ENABLED", "false")
    picture = {"uri": "urn:newsclean:test:pic", "type": "picture"}
    untimed = {k: v for k, v in ARTICLE.items() if k != "versionCreated"}
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(orjson.dumps(d) for d in (picture, ARTICLE, {**untimed, "uri": "urn:newsclean:test:u"})))
    out = tmp_path / "out.jsonl"
    assert main(["clean", str(src), "-o", str(out)]) == 0
    envelopes = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [e["status"] for e in envelopes] == ["passed", "cleaned", "cleaned"]
    assert [e["event_time_source"] for e in envelopes] == ["fallback", "versionCreated", "fallback"]
    assert envelopes[0]["event_time"] == "1970-01-01T00:00:00Z"
    assert envelopes[2]["event_time"] == envelopes[1]["event_time"]
    assert "wrote 3 (1 passed without cleaning), skipped 0" in capsys.readouterr().err
    monkeypatch.setenv("NEWSCLEAN_NON_TEXT", "skip")
    assert main(["clean", str(src), "-o", str(out)]) == 0
    assert [orjson.loads(line)["status"] for line in out.read_bytes().splitlines()] == ["cleaned", "cleaned"]
    assert "skipped 1" in capsys.readouterr().err
