"""`streams.kafka.security` and the Faust credentials: both clients get the configured security."""

from __future__ import annotations

import ssl

import pytest

from streams.config import Settings
from streams.kafka.security import client_options
from streams.kafka.transport import faust_credentials

SECRET = "s3cr3t-never-logged"


# ---------------------------------------------------------------- security settings


@pytest.mark.parametrize("protocol, mechanism", [("SASL_PLAINTEXT", "SCRAM-SHA-512"), ("SASL_PLAINTEXT", "PLAIN"),
                                                 ("SASL_SSL", "SCRAM-SHA-512")])
def test_security_sasl_settings_reach_both_clients(protocol, mechanism):
    settings = Settings(security_protocol=protocol, sasl_mechanism=mechanism, sasl_username="alice", sasl_password=SECRET)
    credentials = faust_credentials(settings)
    assert (credentials.protocol.value, credentials.mechanism.value, credentials.username) == (protocol, mechanism, "alice")
    assert (credentials.ssl_context is not None) == protocol.endswith("SSL")
    options = client_options(settings)
    assert (options["security_protocol"], options["sasl_mechanism"], options["sasl_plain_password"]) == (protocol, mechanism, SECRET)
    assert SECRET not in repr(settings) and SECRET not in repr(credentials)


def test_security_ssl_context_verifies_the_broker(tmp_path):
    settings = Settings(security_protocol="SSL")
    context = faust_credentials(settings).context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert client_options(settings)["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert faust_credentials(Settings()) is None and client_options(Settings())["security_protocol"] == "PLAINTEXT"
