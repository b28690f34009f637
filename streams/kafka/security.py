"""Client security from the settings (NEWSCLEAN_SECURITY_PROTOCOL, NEWSCLEAN_SASL_*,
NEWSCLEAN_SSL_*), as aiokafka options (the replay, the admin clients); the worker's Faust form of the same
settings is `streams.kafka.transport.faust_credentials`."""

from __future__ import annotations

from streams.config import Settings


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
