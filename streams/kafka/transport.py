"""The Faust app newsclean runs on: its own transport (`IdempotentProducer`, the
`streams.kafka.consumer.ReleasingConsumer`) and an agent-crash hook in place of Faust's
handler, which commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver

from streams.config import Settings
from streams.kafka.consumer import ReleasingConsumer


# Bytes of records aiokafka gathers into one batch per partition (its default: 16 KiB). aiokafka
# sends one request at a time per broker and a send into a full batch waits until that batch is
# sent, so with 16 KiB an agent's batch of 32 articles (3-8 KB each) went out as several requests,
# one broker round trip after the other. A record larger than this still goes alone. Well under
# the broker's default `message.max.bytes` (1 MiB): a batch a topic refuses as too large would
# turn every record in it into a dead letter.
BATCH_BYTES = 256 * 1024


class IdempotentProducer(aiokafka_driver.Producer):
    """acks=all with idempotence, always. Faust enables idempotence only inside transactions
    (`processing_guarantee="exactly_once"`, which we do not use); without it a retried batch
    can be written twice or out of order. Batches of up to `BATCH_BYTES`."""

    def _settings_extra(self) -> dict[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True, "max_batch_size": BATCH_BYTES}


class Transport(aiokafka_driver.Transport):
    Producer = IdempotentProducer
    Consumer = ReleasingConsumer


class KafkaApp(faust.App):
    """faust.App on the transport above (the broker URL scheme is not consulted: newsclean
    speaks Kafka only), handing a crashed agent to `on_agent_crash` instead of Faust's default
    handler, which commits."""

    on_agent_crash: Callable[[Any, BaseException], Awaitable[None]] | None = None

    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Transport:
        return Transport(self.conf.broker_producer, self)

    async def _on_agent_error(self, agent: Any, exc: BaseException) -> None:
        if self.on_agent_crash is not None:
            await self.on_agent_crash(agent, exc)


def faust_credentials(settings: Settings) -> Any:
    """The client security settings as Faust credentials (aiokafka's form: `streams.kafka.security`)."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    ssl_context = None
    if settings.security_protocol.endswith("SSL"):
        ssl_context = faust.auth.ssl.create_default_context(
            purpose=faust.auth.ssl.Purpose.SERVER_AUTH, cafile=settings.ssl_cafile or None
        )
        if settings.ssl_certfile:
            ssl_context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context)
