"""Topic checks at start: the worker's own topics are created if missing, the input topics must
exist (a typo in NEWSCLEAN_INPUT_TOPICS should stop the worker, not leave it idle). This is also
the worker's first contact with Kafka, so an unreachable broker or refused credentials stop it
here, at once, with a message that says which."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams.config import ConfigError, Settings
from streams.kafka.security import client_options

MiB = 1024 * 1024


class StartupError(RuntimeError):
    """Kafka could not be reached or refused us; the message names the cause (never a secret)."""


def topic_record_bytes(settings: Settings) -> int:
    """max.message.bytes of the topics the worker creates: an envelope carries the cleaned body
    and the removed paragraphs besides the rest of the input, a dead letter the input in base64."""
    return 2 * settings.pipeline.limits.max_message_bytes + MiB


def enrich_topic(settings: Settings) -> str:
    """The enrich stage's topic (NER on): `clean` sends each outcome bound for the output there,
    keyed by uri, and the `enrich` agent finishes it (streams.worker.drafts)."""
    return f"{settings.app_id}-enrich"


def enrich_record_bytes(settings: Settings) -> int:
    """max.message.bytes of the enrich topic: an envelope without its entities plus the original
    input, which a dead letter written there needs."""
    return topic_record_bytes(settings) + settings.pipeline.limits.max_message_bytes



class _Collect(logging.Handler):
    """aiokafka logs why a connection failed (e.g. SaslAuthenticationFailed) and then raises a
    bare "Unable to bootstrap"; the logged reason is what a person needs to see."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


INPUT_TOPIC_WAIT_S = 5.0  # how long a missing input topic is waited for at start


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> None:
    collect = _Collect()
    aiokafka_log = logging.getLogger("aiokafka")
    aiokafka_log.addHandler(collect)
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=int(timeout_s * 1000))
    try:
        try:
            await asyncio.wait_for(admin.start(), timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise StartupError(_connect_failure(settings, exc, collect.messages)) from None
        await _ensure(admin, settings)
    finally:
        aiokafka_log.removeHandler(collect)
        await admin.close()


async def _ensure(admin: AIOKafkaAdminClient, settings: Settings) -> None:
    existing = set(await admin.list_topics())
    if not settings.input_pattern:
        # A topic created moments ago may not be in the answering broker's metadata yet (seen
        # in the first minute of a fresh broker): ask again for a while before calling it missing.
        deadline = time.monotonic() + INPUT_TOPIC_WAIT_S
        while (missing := [t for t in settings.input_topics if t not in existing]) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # polling the broker's metadata, bounded by the deadline
            existing = set(await admin.list_topics())
        if missing:
            raise ConfigError(f"input topic(s) {', '.join(missing)} do not exist on {settings.broker_url}")
    sized = {"max.message.bytes": str(topic_record_bytes(settings))}
    # Records carry the article's event time as their timestamp, and time-based retention goes by
    # record timestamps: a backfill of articles older than retention.ms would be deleted at the
    # next retention check, before anyone read it. So the output topic is compacted only (one
    # record per uri is kept), and the internal topic is stamped with its append time.
    wanted = [
        # one partition: the feed stage's cross-source state is read and written in one order
        NewTopic(f"{settings.app_id}-feed", 1, 1, topic_configs={"message.timestamp.type": "LogAppendTime", **sized}),
        NewTopic(f"{settings.app_id}-by-source", settings.partitions, 1,
                 topic_configs={"message.timestamp.type": "LogAppendTime", **sized}),
        NewTopic(settings.output_topic, settings.partitions, 1, topic_configs={"cleanup.policy": "compact", **sized}),
        *([NewTopic(enrich_topic(settings), settings.partitions, 1,
                    topic_configs={"message.timestamp.type": "LogAppendTime",
                                   "max.message.bytes": str(enrich_record_bytes(settings))})]
          if settings.ner_enabled else []),
        NewTopic(settings.dlq_topic, 1, 1, topic_configs=sized),
    ]
    await create_missing(admin, wanted, existing)


def _connect_failure(settings: Settings, exc: BaseException, logged: list[str]) -> str:
    who = f"{settings.security_protocol}"
    if settings.security_protocol.startswith("SASL"):
        who += f", {settings.sasl_mechanism} as user {settings.sasl_username!r}"
    causes = [m for m in logged if "Authentication" in m or "SSL" in m or "Unable connect" in m]
    cause = causes[-1] if causes else (str(exc) or type(exc).__name__)
    hint = " (check NEWSCLEAN_SASL_USERNAME / NEWSCLEAN_SASL_PASSWORD)" if "Authentication" in cause else ""
    return f"cannot connect to Kafka at {settings.broker_url} ({who}): {cause}{hint}"


async def create_missing(admin: AIOKafkaAdminClient, wanted: list[NewTopic], existing: set[str]) -> None:
    """Create the topics of `wanted` not in `existing`; one created meanwhile by another worker
    or replay is fine."""
    for topic in wanted:
        if topic.name not in existing:
            try:
                await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
