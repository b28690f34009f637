"""`streams.worker.main`: startup failures stop the worker with a clear error."""

from __future__ import annotations

import pytest

from streams.worker.main import run_worker


@pytest.mark.parametrize("env, status, message", [
    ({"NEWSCLEAN_SECURITY_PROTOCOL": "TLS"}, 2, "NEWSCLEAN_SECURITY_PROTOCOL"),
    ({"NEWSCLEAN_BROKER_URL": "kafka://127.0.0.1:1"}, 3, "cannot connect to Kafka at kafka://127.0.0.1:1"),
])
def test_main_run_worker_fails_fast_with_a_clear_error(monkeypatch, capsys, env, status, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_worker() == status
    assert message in capsys.readouterr().err


def test_main_faust_entry_point_finds_one_cached_app(monkeypatch):
    # `faust -A streams.worker.main worker` looks the app up by name; every look-up is the same
    # app, built once (the model included, when NER is on).
    from faust.cli.base import find_app

    import streams.worker.main as main

    monkeypatch.setenv("NEWSCLEAN_NER_ENABLED", "false")
    monkeypatch.setenv("NEWSCLEAN_WEB_ENABLED", "false")
    main.newsclean.cache_clear()
    try:
        assert find_app("streams.worker.main") is main.app is main.newsclean().app
    finally:
        main.newsclean.cache_clear()
