"""streams.dev.broker without a JVM: rendered configuration, tool checks, fetch idempotence, CLI errors."""

import base64
import os
import shutil
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from streams.dev import broker, kafka_jars
from streams.dev.broker import BrokerError, BrokerSettings


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def path_with(tmp_path, monkeypatch):
    """PATH reduced to a folder holding only the named real tools (or fake scripts)."""

    def make(*tools: str, fakes: dict[str, str] | None = None) -> Path:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for tool in tools:
            (bin_dir / tool).symlink_to(shutil.which(tool))
        for name, script in (fakes or {}).items():
            (bin_dir / name).write_text(script)
            (bin_dir / name).chmod(0o755)
        monkeypatch.setenv("PATH", str(bin_dir))
        return bin_dir

    return make


@pytest.mark.parametrize(
    ("settings", "listeners", "controller"),
    [
        (dict(), "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093", "127.0.0.1:9093"),
        (dict(port=19092, controller_port=19500), "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19500",
         "127.0.0.1:19500"),
        (dict(port=19092, sasl_port=19094),
         "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,SASL://127.0.0.1:19094", "127.0.0.1:19093"),
    ],
)
def test_broker_server_properties_listeners(tmp_path, settings, listeners, controller):
    s = BrokerSettings(home=tmp_path, **settings)

    props = _props(broker.render_server_properties(s))

    assert props["listeners"] == props["advertised.listeners"] == listeners
    assert props["controller.quorum.bootstrap.servers"] == controller
    assert props["process.roles"] == "broker,controller"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert Path(props["log.dirs"]) == tmp_path / f"broker-{s.port}" / "data"
    assert set(props["listener.security.protocol.map"].split(",")) >= {"PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("auto.create.topics.enable", "true"),
        ("delete.topic.enable", "true"),
        ("offsets.topic.replication.factor", "1"),
        ("transaction.state.log.replication.factor", "1"),
        ("transaction.state.log.min.isr", "1"),
        ("group.initial.rebalance.delay.ms", "0"),
        ("num.partitions", "1"),
    ],
)
def test_broker_server_properties_single_node_settings(tmp_path, key, value):
    assert _props(broker.render_server_properties(BrokerSettings(home=tmp_path)))[key] == value


def test_broker_server_properties_sasl_listener(tmp_path):
    s = BrokerSettings(home=tmp_path, sasl_port=9094, scram_user=("ann", "s1"), plain_user=("bob", "s2"))

    props = _props(broker.render_server_properties(s))

    assert "SASL:SASL_PLAINTEXT" in props["listener.security.protocol.map"].split(",")
    assert props["listener.name.sasl.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,PLAIN"
    assert props["listener.name.sasl.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_bob="s2";')
    assert "ScramLoginModule required;" in props["listener.name.sasl.scram-sha-512.sasl.jaas.config"]


def test_broker_server_properties_without_sasl_has_no_sasl_keys(tmp_path):
    assert "sasl" not in broker.render_server_properties(BrokerSettings(home=tmp_path)).lower()


def test_broker_log4j_writes_to_the_file_only(tmp_path):
    text = broker.render_log4j(tmp_path / "broker.log")

    assert f"appender.file.fileName = {tmp_path / 'broker.log'}" in text
    assert "Console" not in text


def test_broker_pom_lists_kafka_and_a_log4j2_runtime():
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    deps = ET.fromstring(kafka_jars.render_pom()).findall("m:dependencies/m:dependency", ns)

    coords = {(d.find("m:groupId", ns).text, d.find("m:artifactId", ns).text, d.find("m:version", ns).text)
              for d in deps}

    assert ("org.apache.kafka", "kafka_2.13", kafka_jars.KAFKA_VERSION) in coords
    assert kafka_jars.KAFKA_VERSION.startswith("4.")
    assert {a for g, a, v in coords if g == "org.apache.logging.log4j"} == {"log4j-api", "log4j-core",
                                                                            kafka_jars.SLF4J_BRIDGE}


def test_broker_random_cluster_id_is_a_kafka_uuid():
    ids = {broker.random_cluster_id() for _ in range(200)}

    assert len(ids) == 200
    for cluster_id in ids:
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
        assert not cluster_id.startswith("-")


@pytest.mark.parametrize(("tools", "missing"), [((), "`java`"), (("java",), "`mvn`")])
def test_broker_fetch_names_the_missing_tool(tmp_path, path_with, tools, missing):
    path_with(*tools)

    with pytest.raises(BrokerError, match=missing):
        broker.fetch_jars(tmp_path / "kafka")


def test_broker_start_without_java_fails_at_once(tmp_path, path_with):
    path_with()

    with pytest.raises(BrokerError, match="`java` not found on PATH"):
        broker.start(_free_port(), home=tmp_path)


def test_broker_fetch_shows_the_last_lines_of_a_failing_mvn(tmp_path, path_with):
    lines = "".join(f"echo 'line {i}'\n" for i in range(30))
    path_with("java", fakes={"mvn": f"#!/bin/sh\n{lines}echo '[ERROR] Could not transfer artifact' >&2\nexit 1\n"})

    with pytest.raises(BrokerError) as caught:
        broker.fetch_jars(tmp_path / "kafka")

    message = str(caught.value)
    assert "Maven Central" in message and "[ERROR] Could not transfer artifact" in message
    assert "line 29" in message and "line 3\n" not in message
    assert not (tmp_path / "kafka" / "lib").exists()


def test_broker_fetch_is_a_no_op_when_the_jars_are_there(tmp_path, path_with):
    lib = tmp_path / "kafka" / "lib"
    lib.mkdir(parents=True)
    for name in kafka_jars.REQUIRED_JARS:
        (lib / name).touch()
    path_with()  # neither java nor mvn: any attempt to fetch would fail

    assert broker.fetch_jars(tmp_path / "kafka") is False


@pytest.mark.parametrize("dropped", kafka_jars.REQUIRED_JARS)
def test_broker_jars_present_needs_every_required_jar(tmp_path, dropped):
    for name in kafka_jars.REQUIRED_JARS:
        if name != dropped:
            (tmp_path / name).touch()

    assert not kafka_jars.jars_present(tmp_path)


def test_broker_format_refuses_data_formatted_with_other_settings(tmp_path):
    s = BrokerSettings(home=tmp_path, port=19092)
    (s.instance / "data").mkdir(parents=True)
    (s.instance / "data" / "meta.properties").touch()
    (s.instance / "format.json").write_text('{"controller_port": 1, "scram_user": null}')

    with pytest.raises(BrokerError, match="newsclean broker clean --port 19092"):
        broker.format_storage(s)


def test_broker_stop_and_status_without_a_broker(tmp_path, capsys):
    port = _free_port()

    assert broker.stop(port, home=tmp_path) is False
    st = broker.status(port, home=tmp_path)

    assert (st.running, st.pid, st.reachable) == (False, None, False)


def test_broker_stale_pid_file_is_not_our_broker(tmp_path):
    s = BrokerSettings(home=tmp_path, port=_free_port())
    s.instance.mkdir(parents=True)
    (s.instance / "broker.pid").write_text(f"{os.getpid()}\n")  # alive, but not kafka.Kafka

    assert broker.status(s.port, home=tmp_path).pid is None


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["status"], 1, "not reachable"),
        (["stop"], 0, "no broker running"),
        (["start", "--scram-user", "ann:pw"], 1, "need --sasl-port"),
    ],
)
def test_broker_main_exit_codes(tmp_path, monkeypatch, capsys, argv, code, needle):
    monkeypatch.setenv("NEWSCLEAN_KAFKA_HOME", str(tmp_path))
    monkeypatch.setenv("NEWSCLEAN_BROKER_PORT", str(_free_port()))

    assert broker.main(argv) == code
    printed = capsys.readouterr()
    assert needle in printed.out + printed.err


@pytest.mark.parametrize("user", ["nopassword", ":pw", "ann:", 'ann:p"w', "ann:p w", "ann:a=b"])
def test_broker_main_rejects_malformed_users(user, capsys):
    with pytest.raises(SystemExit) as caught:
        broker.main(["start", "--sasl-port", "9094", "--scram-user", user])

    assert caught.value.code == 2
