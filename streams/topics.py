"""Topic checks at start: the worker's own topics are created if missing, the input topics must
exist (a typo in NEWSCLEAN_INPUT_TOPICS should stop the worker, not leave it idle)."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from .config import ConfigError, Settings


def client_options(settings: Settings) -> dict:
    """aiokafka connection options for the configured security; shared by every raw client."""
    options: dict = {"bootstrap_servers": settings.bootstrap_servers, "security_protocol": settings.security_protocol}
    if settings.security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password,
        )
    if settings.security_protocol.endswith("SSL"):
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile or None,
            certfile=settings.ssl_certfile or None,
            keyfile=settings.ssl_keyfile or None,
        )
    return options


async def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> None:
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        if not settings.input_pattern:
            missing = [t for t in settings.input_topics if t not in existing]
            if missing:
                raise ConfigError(f"input topic(s) {', '.join(missing)} do not exist on {settings.broker_url}")
        wanted = [
            NewTopic(f"{settings.app_id}-by-source", settings.partitions, 1),
            NewTopic(settings.output_topic, settings.partitions, 1, topic_configs={"cleanup.policy": "compact,delete"}),
            NewTopic(settings.dlq_topic, 1, 1),
        ]
        for topic in wanted:
            if topic.name not in existing:
                try:
                    await admin.create_topics([topic])
                except TopicAlreadyExistsError:  # another worker created it first
                    pass
    finally:
        await admin.close()
