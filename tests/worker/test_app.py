"""`streams.worker.app` without a broker: serializers, web views, crash handling."""

from __future__ import annotations

import subprocess
import sys
from streams.config import Settings
from streams.worker.app import EX_SOFTWARE, Newsclean


def test_app_every_topic_and_the_table_carry_raw_bytes(newsclean):
    conf = newsclean.app.conf
    assert (conf.key_serializer, conf.value_serializer) == ("raw", "raw")
    changelog = newsclean.seen.changelog_topic
    for topic in (newsclean.input, newsclean.by_source, newsclean.output, newsclean.dlq, changelog):
        assert (topic.key_serializer, topic.value_serializer) == ("raw", "raw"), topic
    assert (newsclean.seen.key_serializer, newsclean.seen.value_serializer) == ("raw", "raw")


def test_app_table_and_router_web_views_are_off(newsclean):
    conf = newsclean.app.conf
    assert not (conf.web_tables_enabled or conf.web_router_enabled or conf.web_graph_enabled or conf.web_stats_enabled)


async def test_app_agent_crash_stops_the_worker_instead_of_committing(monkeypatch):
    crashes = []
    newsclean = Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=crashes.append)
    commits = []
    monkeypatch.setattr(newsclean.app.consumer, "on_task_error", lambda exc: commits.append(exc))
    agent = next(iter(newsclean.app.agents.values()))
    await newsclean.app._on_agent_error(agent, RuntimeError("boom"))
    await newsclean.app._on_agent_error(agent, RuntimeError("again"))
    assert [str(c) for c in crashes] == ["boom"] and commits == []


def test_app_a_stop_after_a_crash_that_hangs_ends_in_a_hard_exit():
    """Whatever the graceful stop waits on, the process ends with EX_SOFTWARE after the grace."""
    child = "\n".join([
        "import signal, time",
        "from streams.worker.app import _stop_this_process",
        "signal.signal(signal.SIGTERM, lambda *_: None)",  # a graceful stop that never ends
        "_stop_this_process(RuntimeError('boom'), grace_s=0.5)",
        "time.sleep(60)",
    ])
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=50)
    assert done.returncode == EX_SOFTWARE, done.stderr[-2000:]
    assert "did not stop within" in done.stderr and "most recent call first" in done.stderr  # the stuck stack
