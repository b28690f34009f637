"""Security through real brokers: SASL (SCRAM-SHA-512 and PLAIN) from NEWSCLEAN_* variables
against the SASL listener of a second local broker (`sasl_broker`); wrong credentials stop the
worker at once with a clear error; the password is never in the worker's log; Faust's table and
router views answer 404; message content is never unpickled or evaluated.

TLS: `tls_broker` is a third broker with an SSL listener and a self-signed certificate made with
keytool (streams/dev/broker.py has no TLS option yet, so this module writes that broker's
server.properties itself); a worker trusting the certificate through NEWSCLEAN_SSL_CAFILE
processes an article, one that does not stops at once with the verification error."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.dev import broker
from streams.dev.process import WorkerProcess

from tests.support.chaos import Tail, free_ports
from tests.support.synthetic import START, article
from tests.support.workers import Pipeline, make_pipeline


async def _sasl_pipeline(sasl_broker, tmp_path, mechanism: str, user: tuple[str, str]) -> Pipeline:
    admin = AIOKafkaAdminClient(bootstrap_servers=sasl_broker.plaintext_servers)
    await admin.start()
    run = uuid.uuid4().hex[:12]
    try:
        await admin.create_topics([NewTopic(f"sasl-in-{run}", 1, 1)])
    finally:
        await admin.close()
    return Pipeline(sasl_broker.bootstrap_servers, f"sasl-in-{run}", f"sasl-out-{run}", f"sasl-dlq-{run}",
                    f"nc-sasl-{run}", tmp_path, extra={
                        "NEWSCLEAN_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                        "NEWSCLEAN_SASL_MECHANISM": mechanism,
                        "NEWSCLEAN_SASL_USERNAME": user[0],
                        "NEWSCLEAN_SASL_PASSWORD": user[1],
                    })


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_security_sasl_worker_processes_an_article(sasl_broker, tmp_path, mechanism):
    user = sasl_broker.scram_user if mechanism.startswith("SCRAM") else sasl_broker.plain_user
    pipeline = await _sasl_pipeline(sasl_broker, tmp_path, mechanism, user)
    try:
        worker = await pipeline.start_worker()
        producer = AIOKafkaProducer(bootstrap_servers=sasl_broker.plaintext_servers)
        await producer.start()
        try:
            await producer.send_and_wait(pipeline.input_topic, article(
                f"urn:sasl:{mechanism}", "1", START, "Secure Desk", "Locked harbour", ["Only through SASL."]))
        finally:
            await producer.stop()
        async with Tail(sasl_broker.plaintext_servers, pipeline.output_topic) as output:
            records = []
            deadline = time.monotonic() + 60
            while not records and time.monotonic() < deadline:
                records = await output.read()
        assert [orjson.loads(r.value)["article"]["uri"] for r in records] == [f"urn:sasl:{mechanism}"]
    finally:
        await pipeline.stop_all()
    assert user[1] not in worker.log_path.read_text(errors="replace")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
async def test_security_wrong_credentials_fail_fast_with_a_clear_error(sasl_broker, tmp_path, mechanism):
    user = (sasl_broker.scram_user if mechanism.startswith("SCRAM") else sasl_broker.plain_user)[0]
    wrong = f"wrong-{uuid.uuid4().hex}"
    pipeline = await _sasl_pipeline(sasl_broker, tmp_path, mechanism, (user, wrong))
    worker = WorkerProcess({"NEWSCLEAN_DATA_DIR": str(tmp_path / "w"), **pipeline.env()}, tmp_path / "w.log").start()
    status = await asyncio.to_thread(worker.wait, 30)  # fails at once, not after retrying for minutes
    log = worker.log_path.read_text(errors="replace")
    assert status == 3, log[-2000:]
    assert "cannot connect to Kafka" in log and "Authentication failed" in log and "NEWSCLEAN_SASL_PASSWORD" in log
    assert wrong not in log


@pytest.fixture
async def plain_worker(bootstrap_servers, new_topic, tmp_path):
    pipeline = make_pipeline(bootstrap_servers, tmp_path, await new_topic(1, "in"), await new_topic(1, "out"),
                             await new_topic(1, "dlq"))
    worker = await pipeline.start_worker()
    yield pipeline, worker
    await pipeline.stop_all()


@pytest.mark.parametrize("path", ["/table/", "/table/seen/", "/table/seen/somekey/", "/router/", "/graph/", "/stats/"])
async def test_security_table_and_router_views_answer_404(plain_worker, path):
    _, worker = plain_worker
    assert await asyncio.to_thread(_status, worker.port, path) == 404
    assert await asyncio.to_thread(_status, worker.port, "/health") == 200


class _Exploit:
    """Unpickling this would create `marker`."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


async def test_security_message_content_is_never_unpickled_or_evaluated(plain_worker, produce, consume, tmp_path):
    pipeline, _ = plain_worker
    marker = tmp_path / "unpickled"
    payloads = [pickle.dumps(_Exploit(str(marker)), protocol=0), pickle.dumps(_Exploit(str(marker))),
                b'{"__faust": {"ns": "os.system"}, "uri": "urn:x", "body_text": "__import__(\'os\').system(\'id\')"}']
    await produce(pipeline.input_topic, [(None, p, None) for p in payloads])
    dead = [orjson.loads(r.value) for r in await consume(pipeline.dlq_topic, 2)]
    assert [d["reason"] for d in dead] == ["not_json", "not_utf8"]
    # a Faust model marker is only an unknown field: dropped from the item and listed, never acted on
    [envelope] = [orjson.loads(r.value) for r in await consume(pipeline.output_topic, 1)]
    assert envelope["unmapped"] == ["__faust"] and "__faust" not in envelope["article"]
    assert envelope["article"]["bodies"][0]["value"] == "__import__('os').system('id')"
    assert not marker.exists()


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# ---------------------------------------------------------------- TLS


STOREPASS = "tls-store-pass"


@pytest.fixture(scope="module")
async def tls_broker(tmp_path_factory):
    """(ssl bootstrap, plaintext bootstrap, CA file): a broker whose SSL listener presents a
    self-signed certificate for 127.0.0.1."""
    home = tmp_path_factory.mktemp("kafka-tls")
    await asyncio.to_thread(broker.fetch_jars)
    (home / "lib").symlink_to(broker.default_home() / "lib")
    port, controller, ssl_port = free_ports(3)
    keystore, ca = home / "broker.p12", home / "ca.pem"
    keytool = ["keytool", "-noprompt", "-storepass", STOREPASS, "-keystore", str(keystore), "-storetype", "PKCS12"]
    subprocess.run([*keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                    "-keypass", STOREPASS, "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    subprocess.run([*keytool, "-exportcert", "-rfc", "-alias", "broker", "-file", str(ca)], check=True, capture_output=True)

    settings = broker.BrokerSettings(home=home, port=port, controller_port=controller)
    props = dict(line.split("=", 1) for line in broker.render_server_properties(settings).splitlines())
    props["listeners"] += f",SSL://127.0.0.1:{ssl_port}"
    props["advertised.listeners"] += f",SSL://127.0.0.1:{ssl_port}"
    props["listener.security.protocol.map"] += ",SSL:SSL"
    props |= {"ssl.keystore.type": "PKCS12", "ssl.keystore.location": str(keystore), "ssl.keystore.password": STOREPASS,
              "ssl.key.password": STOREPASS, "ssl.client.auth": "none"}
    settings.instance.mkdir(parents=True)
    (settings.instance / "server.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    (settings.instance / "log4j2.properties").write_text(broker.render_log4j(settings.instance / "broker.log"))
    await asyncio.to_thread(broker.format_storage, settings)
    with open(settings.instance / "broker.out", "ab") as out:
        process = subprocess.Popen(broker._java(settings, "kafka.Kafka", str(settings.instance / "server.properties")),
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not await broker.probe(f"127.0.0.1:{port}", timeout=2.0):
            assert process.poll() is None and time.monotonic() < deadline, broker.log_tail(settings)
            await asyncio.sleep(0.5)  # polling the broker's startup, bounded by the deadline
        yield f"127.0.0.1:{ssl_port}", f"127.0.0.1:{port}", ca
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


async def test_security_tls_worker_trusting_the_broker_certificate_processes_an_article(tls_broker, tmp_path):
    ssl_servers, plaintext, ca = tls_broker
    run = uuid.uuid4().hex[:12]
    admin = AIOKafkaAdminClient(bootstrap_servers=plaintext)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"tls-in-{run}", 1, 1)])
    finally:
        await admin.close()
    pipeline = Pipeline(ssl_servers, f"tls-in-{run}", f"tls-out-{run}", f"tls-dlq-{run}", f"nc-tls-{run}", tmp_path,
                        extra={"NEWSCLEAN_SECURITY_PROTOCOL": "SSL", "NEWSCLEAN_SSL_CAFILE": str(ca)})
    try:
        await pipeline.start_worker()
        producer = AIOKafkaProducer(bootstrap_servers=plaintext)
        await producer.start()
        try:
            await producer.send_and_wait(pipeline.input_topic, article(
                "urn:tls:1", "1", START, "Secure Desk", "Encrypted harbour", ["Only through TLS."]))
        finally:
            await producer.stop()
        async with Tail(plaintext, pipeline.output_topic) as output:
            records = []
            deadline = time.monotonic() + 60
            while not records and time.monotonic() < deadline:
                records = await output.read()
        assert [orjson.loads(r.value)["article"]["uri"] for r in records] == ["urn:tls:1"]
    finally:
        await pipeline.stop_all()


async def test_security_tls_worker_not_trusting_the_certificate_stops_at_once(tls_broker, tmp_path):
    ssl_servers, _, _ = tls_broker
    env = {"NEWSCLEAN_BROKER_URL": f"kafka://{ssl_servers}", "NEWSCLEAN_INPUT_TOPICS": "tls-anything",
           "NEWSCLEAN_SECURITY_PROTOCOL": "SSL", "NEWSCLEAN_NER_ENABLED": "false", "NEWSCLEAN_DATA_DIR": str(tmp_path / "w")}
    worker = WorkerProcess(env, tmp_path / "w.log").start()
    status = await asyncio.to_thread(worker.wait, 30)
    log = worker.log_path.read_text(errors="replace")
    assert status == 3 and "cannot connect to Kafka" in log and "CERTIFICATE_VERIFY_FAILED" in log, log[-2000:]
