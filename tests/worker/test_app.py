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


def test_app_enrich_stage_exists_with_ner_on_only(newsclean):
    """NER on: a uri-keyed enrich topic of NEWSCLEAN_PARTITIONS partitions and its agent, raw
    bytes, records up to the frame's size; NER off: neither, and the output's record size."""
    from streams.kafka.topics import enrich_record_bytes, topic_record_bytes
    from tests.support.faust_fakes import Extractor

    assert newsclean.enrich_topic is None
    assert not any(name.endswith(".enrich") for name in newsclean.app.agents)
    assert newsclean.app.conf.producer_max_request_size == topic_record_bytes(newsclean.settings)
    settings = Settings(web_enabled=False, partitions=3, app_id="nc-unit")
    with_model = Newsclean(settings, Extractor(), on_crash=lambda exc: None)
    topic = with_model.enrich_topic
    assert topic.get_topic_name() == "nc-unit-enrich" and topic.partitions == 3
    assert (topic.key_serializer, topic.value_serializer) == ("raw", "raw")
    assert "nc-unit.enrich" in with_model.app.agents
    assert with_model.app.conf.producer_max_request_size == enrich_record_bytes(settings) > topic_record_bytes(settings)
    assert with_model._agents_read("nc-unit-enrich")


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
