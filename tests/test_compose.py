"""docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON Schema as vendored
by check-jsonschema (a test dependency, used for that file only), then checked for what the
deployment relies on.
"""

import copy
import fnmatch
import importlib.metadata
import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml

from streams.dev import kafka_jars
from streams.config import from_env

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
WORKER_ENV = SERVICES["worker"]["environment"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _compose_validator() -> jsonschema.protocols.Validator:
    # located, not imported: only the data file is needed, not check-jsonschema's CLI
    vendored = "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(Path(importlib.metadata.distribution("check-jsonschema").locate_file(vendored)).read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def test_compose_matches_the_compose_spec_schema():
    _compose_validator().validate(COMPOSE)


@pytest.mark.parametrize(("path", "value"), [
    (("worker", "heathcheck"), {"test": ["CMD", "true"]}),  # misspelt key
    (("worker", "depends_on", "kafka", "condition"), "service_ready"),
    (("kafka", "ports"), "127.0.0.1:9092:19092"),  # a list is required
])
def test_compose_schema_rejects_broken_files(path, value):
    broken = copy.deepcopy(COMPOSE)
    node = broken["services"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

    assert not _compose_validator().is_valid(broken)


def test_compose_services_and_images():
    assert set(SERVICES) == {"kafka", "topics", "worker"}
    assert SERVICES["kafka"]["image"] == SERVICES["topics"]["image"] == f"apache/kafka:{kafka_jars.KAFKA_VERSION}"
    assert SERVICES["worker"]["build"] == "."
    assert SERVICES["worker"]["command"] == ["worker"]


def test_compose_kafka_is_a_single_kraft_node():
    env = SERVICES["kafka"]["environment"]

    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert len(env["CLUSTER_ID"]) == 22
    for key in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env[f"KAFKA_{key}"] == 1
    assert any(v.endswith(":/var/lib/kafka/data") for v in SERVICES["kafka"]["volumes"])
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"


def test_compose_worker_reaches_the_advertised_listener():
    advertised = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    internal = SERVICES["kafka"]["environment"]["KAFKA_INTER_BROKER_LISTENER_NAME"]

    settings = from_env({k: str(v) for k, v in WORKER_ENV.items()})

    assert settings.bootstrap_servers == [a.split("://", 1)[1] for a in advertised if a.startswith(f"{internal}://")]


@pytest.mark.parametrize(("service", "needs"), [
    ("topics", {"kafka": "service_healthy"}),
    ("worker", {"kafka": "service_healthy", "topics": "service_completed_successfully"}),
])
def test_compose_startup_order(service, needs):
    depends = SERVICES[service]["depends_on"]

    assert {name: spec["condition"] for name, spec in depends.items()} == needs


@pytest.mark.parametrize("service", ["kafka", "worker"])
def test_compose_long_running_services_have_healthchecks(service):
    check = SERVICES[service]["healthcheck"]

    assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1
    assert check["retries"] >= 3 and check["start_period"]


def test_compose_worker_healthcheck_asks_its_own_ready_endpoint():
    test = " ".join(SERVICES["worker"]["healthcheck"]["test"])

    assert f"127.0.0.1:{WORKER_ENV['NEWSCLEAN_WEB_PORT']}/ready" in test
    assert WORKER_ENV["NEWSCLEAN_WEB_HOST"] == "0.0.0.0"


def test_compose_topics_service_creates_the_worker_topics():
    script = "\n".join(SERVICES["topics"]["command"])
    created = set(re.findall(r"(newsclean-[a-z]+):\d+", script))

    assert "kafka-topics.sh" in script and "--if-not-exists" in script
    assert created == {WORKER_ENV["NEWSCLEAN_INPUT_TOPICS"], WORKER_ENV["NEWSCLEAN_OUTPUT_TOPIC"],
                       WORKER_ENV["NEWSCLEAN_DLQ_TOPIC"]}


@pytest.mark.parametrize("name", ["NEWSCLEAN_BROKER_URL", "NEWSCLEAN_INPUT_TOPICS", "NEWSCLEAN_OUTPUT_TOPIC",
                                  "NEWSCLEAN_DLQ_TOPIC", "NEWSCLEAN_APP_ID"])
def test_compose_worker_is_configured(name):
    assert WORKER_ENV[name]


def test_compose_dockerfile_builds_the_worker_from_existing_paths():
    steps = _instructions(DOCKERFILE)
    copies = [shlex.split(args)[:-1] for op, args in steps if op == "COPY"]

    assert steps[0] == ("FROM", "python:3.11-slim")
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repo"
    run = " ".join(args for op, args in steps if op == "RUN")
    assert "--require-hashes -r requirements/model.txt" in run
    assert ("ENTRYPOINT", '["newsclean"]') in steps and ("CMD", '["worker"]') in steps


def test_compose_dockerignore_keeps_local_state_out_but_not_the_sources():
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line and not line.startswith("#")]
    copied = [s for op, args in _instructions(DOCKERFILE) if op == "COPY" for s in shlex.split(args)[:-1]]

    assert {".git", ".venv", ".kafka"} <= set(patterns)
    for source in copied:
        assert not any(fnmatch.fnmatch(source.rstrip("/"), p) for p in patterns), source
