"""What a local broker instance is configured with (`streams.dev.broker` runs it): its settings
and the files rendered from them, server.properties (KRaft broker+controller, optional SASL
listener) and log4j2.properties."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 9092
HOST = "127.0.0.1"
MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    home: Path
    port: int = DEFAULT_PORT
    controller_port: int | None = None  # None: port + 1
    sasl_port: int | None = None  # adds a SASL_PLAINTEXT listener named SASL
    scram_user: tuple[str, str] | None = None  # SCRAM-SHA-512 (name, password), added at format time
    plain_user: tuple[str, str] | None = None  # PLAIN (name, password), in the listener's JAAS config

    @property
    def cport(self) -> int:
        return self.controller_port or self.port + 1

    @property
    def instance(self) -> Path:
        return self.home / f"broker-{self.port}"




def render_server_properties(s: BrokerSettings) -> str:
    listeners = {"PLAINTEXT": (s.port, "PLAINTEXT"), "CONTROLLER": (s.cport, "PLAINTEXT")}
    if s.sasl_port:
        listeners["SASL"] = (s.sasl_port, "SASL_PLAINTEXT")
    endpoints = ",".join(f"{name}://{HOST}:{port}" for name, (port, _) in listeners.items())
    props = {
        "process.roles": "broker,controller",
        "node.id": 1,
        "controller.quorum.bootstrap.servers": f"{HOST}:{s.cport}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listeners": endpoints,
        "advertised.listeners": endpoints,
        "listener.security.protocol.map": ",".join(f"{n}:{proto}" for n, (_, proto) in listeners.items()),
        "log.dirs": (s.instance / "data").as_posix(),
        "num.partitions": 1,
        "default.replication.factor": 1,
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "offsets.topic.replication.factor": 1,
        "offsets.topic.num.partitions": 4,  # the first group join on a fresh broker is much faster
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 4,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        "log.segment.bytes": 16 * MiB,
        "message.max.bytes": 16 * MiB,  # room for the oversized-input tests; clients raise their own limit
        "num.network.threads": 2,
        "num.io.threads": 4,
    }
    if s.sasl_port:
        plain = f' user_{s.plain_user[0]}="{s.plain_user[1]}"' if s.plain_user else ""
        props |= {
            "listener.name.sasl.sasl.enabled.mechanisms": "SCRAM-SHA-512,PLAIN",
            "listener.name.sasl.scram-sha-512.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.sasl.plain.sasl.jaas.config":
                f"org.apache.kafka.common.security.plain.PlainLoginModule required{plain};",
        }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def render_log4j(log_file: Path) -> str:
    # shutdownHook disabled: Kafka logs its own shutdown, log4j must not close the file first
    return f"""status = warn
shutdownHook = disable
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file.as_posix()}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def random_cluster_id() -> str:
    # as Kafka's Uuid.randomUuid(): 16 random bytes, url-safe base64 unpadded, no leading '-'
    while (text := base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()).startswith("-"):
        pass
    return text
