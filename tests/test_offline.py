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


def test_offline_clean_shuts_the_ner_processes_down_before_returning(tmp_path, monkeypatch):
    # Left to the garbage collector at interpreter exit, the pool raced concurrent.futures' own
    # atexit hook, which then wrote to a closed pipe (OSError: Bad file descriptor).
    import streams.nlp.extractor

    closed = []

    class Extractor:
        languages = ("*",)

        def extract_many(self, items):
            return [[] for _ in items]

        def close(self):
            closed.append(True)

    monkeypatch.setattr(streams.nlp.extractor, "load_extractor", lambda settings: Extractor())
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(ARTICLE) + b"\n")
    assert main(["clean", str(src), "-o", str(tmp_path / "out.jsonl")]) == 0
    assert closed == [True]


def test_offline_clean_with_ner_exits_without_a_traceback(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "examples" / "articles.jsonl"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("NEWSCLEAN_")}
    done = subprocess.run([sys.executable, "-m", "streams.cli", "clean", str(examples), "-o", str(tmp_path / "out.jsonl")],
                          capture_output=True, text=True, env={**env, "NEWSCLEAN_NER_PROCESSES": "2"}, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("newsclean: read 8 (JSON Lines")
    assert any(orjson.loads(line)["entities"] for line in (tmp_path / "out.jsonl").read_bytes().splitlines())
