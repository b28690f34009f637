"""`streams.worker.app` without a broker: serializers, web views, crash handling."""

from __future__ import annotations

from streams.config import Settings
from streams.worker.app import Newsclean


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
