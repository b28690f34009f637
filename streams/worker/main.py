"""The worker's entry point: `newsclean worker` (`run_worker`), and the app for Faust's own
command line, `faust -A streams.worker.main worker`, built once on first access (`newsclean()`)."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from typing import Any

import faust

from streams import logs
from streams.config import ConfigError, Settings, from_env
from streams.core.gazetteer import GazetteerError
from streams.kafka.topics import StartupError, ensure_topics
from streams.nlp.extractor import EntityExtractor, load_extractor
from streams.nlp.model import ModelMissing
from streams.worker.app import EX_SOFTWARE, Newsclean

log = logging.getLogger("newsclean")


def build(settings: Settings | None = None) -> Newsclean:
    settings = settings or from_env()
    extractor = load_extractor(settings.ner) if settings.ner_enabled else None
    return Newsclean(settings, extractor)


def run_worker() -> int:
    """Run until SIGTERM/SIGINT (exit 0), an agent crash (70) or a startup failure (2: bad
    configuration, 3: Kafka unreachable or refusing our credentials)."""
    logs.configure("INFO")  # first, so that a configuration error is a JSON line too
    try:
        settings = from_env()
        logs.configure(settings.log_level)
        asyncio.run(ensure_topics(settings))
        newsclean = build(settings)  # loads the model: a missing one stops the worker here
        # What is loaded now (libraries, gazetteer, place index) lives as long as the process:
        # out of the collector's reach, a full collection no longer walks it (it did in 30-60 ms
        # pauses, the latency tail's share).
        gc.freeze()
    except (ConfigError, ModelMissing, GazetteerError) as exc:
        log.critical("invalid configuration: %s", exc)
        return 2
    except StartupError as exc:
        log.critical("cannot start: %s", exc)
        return 3
    worker = faust.Worker(newsclean.app, loglevel=settings.log_level, quiet=True, override_logging=False)
    worker.spinner = None  # its terminal escapes would break the JSON lines
    try:
        worker.execute_from_commandline()  # raises SystemExit when the worker has stopped
    except SystemExit as stopped:
        status = stopped.code if isinstance(stopped.code, int) else 1
    else:
        status = 0
    finally:
        if isinstance(newsclean.extractor, EntityExtractor):
            newsclean.extractor.close()  # the NER processes, before interpreter exit (see streams.cli)
    return EX_SOFTWARE if newsclean.crashed is not None else status


@functools.cache
def newsclean() -> Newsclean:
    """The process's one app, from the environment, built (model included) on first call."""
    return build()


def __getattr__(name: str) -> Any:
    # `faust -A streams.worker.main worker` looks up `app`: importing this module (tests, tools)
    # never reads the environment or loads a model; the first look-up builds the one app.
    if name == "app":
        return newsclean().app
    raise AttributeError(name)
