"""Local single-node Apache Kafka broker (KRaft broker+controller) for development and tests.

Jars come from Maven Central through Maven into a cached, git-ignored folder
(`<repo>/.kafka/lib`, or `$NEWSCLEAN_KAFKA_HOME/lib`). Each broker instance lives in
`.kafka/broker-<port>/` (server.properties, log4j2.properties, data/, broker.pid,
broker.log), so a test broker on another port never disturbs the one on 9092.
CLI: `newsclean broker start|stop|status|fetch|clean` (see `main`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Coroutine, TypeVar

KAFKA_VERSION = "4.1.2"
# kafka_2.13 4.1.2 resolves slf4j-api 1.7.36 and brings no logging backend. Kafka's own
# distribution pairs it with log4j 2.24.3 and the SLF4J 1.x bridge (log4j-slf4j-impl);
# the SLF4J 2 bridge (log4j-slf4j2-impl) is invisible to slf4j-api 1.7 and would mute the broker.
LOG4J_VERSION = "2.24.3"
SLF4J_BRIDGE = "log4j-slf4j-impl"
REQUIRED_JARS = (f"kafka_2.13-{KAFKA_VERSION}.jar", f"log4j-api-{LOG4J_VERSION}.jar",
                 f"log4j-core-{LOG4J_VERSION}.jar", f"{SLF4J_BRIDGE}-{LOG4J_VERSION}.jar", "slf4j-api-1.7.36.jar")
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
JAVA_OPTS = ("-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true")
JAVA_HINT = "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"
MVN_HINT = "install Apache Maven (e.g. `apt-get install maven`) to fetch the Kafka jars"
DEFAULT_PORT = 9092
HOST = "127.0.0.1"
MiB = 1024 * 1024
T = TypeVar("T")


class BrokerError(RuntimeError):
    """A broker operation failed; the message says what is missing or what to do."""


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


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    port: int
    pid: int | None  # our broker process, None when not running
    reachable: bool  # some broker on 127.0.0.1:port answers a metadata request
    log: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


def default_home() -> Path:
    env = os.environ.get("NEWSCLEAN_KAFKA_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".kafka"


def _settings(port: int | None, home: Path | None, **extra) -> BrokerSettings:
    port = port or int(os.environ.get("NEWSCLEAN_BROKER_PORT", DEFAULT_PORT))
    return BrokerSettings(home=home or default_home(), port=port, **extra)


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BrokerError(f"`{name}` not found on PATH: {hint}")
    return path


# ---------------------------------------------------------------- jars


def render_pom() -> str:
    deps = [("org.apache.kafka", "kafka_2.13", KAFKA_VERSION)] + [
        ("org.apache.logging.log4j", a, LOG4J_VERSION) for a in ("log4j-api", "log4j-core", SLF4J_BRIDGE)]
    body = "".join(f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
                   f"<version>{v}</version></dependency>" for g, a, v in deps)
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>local.newsclean</groupId><artifactId>kafka-runtime</artifactId><version>1</version>"
            f"<packaging>pom</packaging><dependencies>{body}</dependencies></project>\n")


def jars_present(lib: Path) -> bool:
    return all((lib / name).is_file() for name in REQUIRED_JARS)


def fetch_jars(home: Path | None = None) -> bool:
    """Download the Kafka + log4j2 jars into `<home>/lib`; False (and no Maven) when already there."""
    lib = (home or default_home()) / "lib"
    if jars_present(lib):
        return False
    require_tool("java", JAVA_HINT)
    mvn = require_tool("mvn", MVN_HINT)
    pom, partial = lib.with_name("pom.xml"), lib.with_name("lib.partial")
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(render_pom())
    shutil.rmtree(partial, ignore_errors=True)
    print(f"fetching kafka_2.13 {KAFKA_VERSION} + log4j {LOG4J_VERSION} from Maven Central ...", flush=True)
    done = subprocess.run([mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(pom),
                           f"{DEPENDENCY_PLUGIN}:copy-dependencies", "-DincludeScope=runtime",
                           f"-DoutputDirectory={partial}"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        said = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).strip()
        tail = "\n".join(said.splitlines()[-15:])
        raise BrokerError(f"mvn could not fetch the Kafka jars (is Maven Central reachable?); mvn said:\n{tail}")
    if not jars_present(partial):
        raise BrokerError(f"mvn finished but {partial} lacks one of {REQUIRED_JARS}")
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)  # a half-done fetch never looks complete
    return True


# ---------------------------------------------------------------- configuration


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


def _java(s: BrokerSettings, main_class: str, *args: str) -> list[str]:
    return [require_tool("java", JAVA_HINT), *JAVA_OPTS,
            f"-Dlog4j2.configurationFile={s.instance / 'log4j2.properties'}",
            "-cp", str(s.home / "lib" / "*"), main_class, *args]


def format_storage(s: BrokerSettings) -> None:
    """Format the KRaft storage once; refuse data formatted with other quorum/SCRAM settings."""
    marker = s.instance / "format.json"
    # the SCRAM credential lives in the formatted metadata, so a changed one needs a new format
    scram = s.scram_user and f"{s.scram_user[0]}:{hashlib.sha256(s.scram_user[1].encode()).hexdigest()[:12]}"
    wanted = {"controller_port": s.cport, "scram_user": scram}
    if (s.instance / "data" / "meta.properties").exists() and marker.exists():
        if json.loads(marker.read_text()) != wanted:
            raise BrokerError(f"{s.instance} was formatted with {marker.read_text().strip()}, not {wanted}; "
                              f"run `newsclean broker clean --port {s.port}` first")
        return
    shutil.rmtree(s.instance / "data", ignore_errors=True)
    args = ["format", "--standalone", "-t", random_cluster_id(), "-c", str(s.instance / "server.properties")]
    if s.scram_user:
        args += ["--add-scram", "SCRAM-SHA-512=[name={},password={}]".format(*s.scram_user)]
    done = subprocess.run(_java(s, "kafka.tools.StorageTool", *args),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BrokerError(f"kafka StorageTool format failed:\n{(done.stdout + done.stderr).strip()[-2000:]}")
    marker.write_text(json.dumps(wanted) + "\n")


# ---------------------------------------------------------------- process control


def _is_our_broker(pid: int, s: BrokerSettings) -> bool:
    # guards against a recycled pid: it must be a live kafka.Kafka run on our server.properties
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and b"kafka.Kafka" in cmdline and str(s.instance / "server.properties").encode() in cmdline


def _read_pid(s: BrokerSettings) -> int | None:
    try:
        pid = int((s.instance / "broker.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if _is_our_broker(pid, s) else None


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # a zombie only when this very process started the broker
    except ChildProcessError:
        pass


async def probe(bootstrap: str, timeout: float = 3.0) -> bool:
    """True when `bootstrap` answers a metadata request that lists at least one broker."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return bool(client.cluster.brokers())  # empty until the broker has registered and is unfenced
    except Exception:  # refused, timed out, not ready: all mean "not reachable yet"
        return False
    finally:
        await client.close()


def is_reachable(port: int, timeout: float = 3.0) -> bool:
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # refused connections are expected while probing
    try:
        return _run_blocking(probe(f"{HOST}:{port}", timeout))
    finally:
        quiet.setLevel(level)


def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: the CLI or other sync code
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:  # inside a loop (an async test): a loop of its own in a thread
        return pool.submit(asyncio.run, coro).result()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def log_tail(s: BrokerSettings, lines: int = 30) -> str:
    # indented lines are stack frames and config dumps: they would push the cause out of view
    parts = [f"--- tail of {path} (indented lines left out)\n" + "\n".join(
                 [line for line in path.read_text(errors="replace").splitlines() if not line[:1].isspace()][-lines:])
             for path in (s.instance / "broker.out", s.instance / "broker.log")
             if path.exists() and path.stat().st_size]
    return "\n".join(parts) or f"(no log in {s.instance})"


def start(port: int | None = None, *, home: Path | None = None, timeout: float = 90.0, **extra) -> BrokerStatus:
    """Start the broker detached and wait until it answers metadata requests.

    `extra`: controller_port, sasl_port, scram_user=(name, password), plain_user=(name, password).
    Already running and reachable: a no-op that says so.
    """
    s = _settings(port, home, **extra)
    require_tool("java", JAVA_HINT)
    if pid := _read_pid(s):
        if (s.instance / "server.properties").read_text() != render_server_properties(s):
            print("note: the running broker has other settings; stop it to apply new ones", file=sys.stderr)
        _await_ready(s, timeout, alive=lambda: _is_our_broker(pid, s))  # it may still be starting
        print(f"broker already running on {HOST}:{s.port} (pid {pid})")
        return status(s.port, home=s.home)
    if is_reachable(s.port, timeout=1.0):
        raise BrokerError(f"a Kafka broker not started from {s.instance} already answers on {HOST}:{s.port}")
    if busy := [p for p in (s.port, s.cport, s.sasl_port) if p and not _port_free(p)]:
        raise BrokerError(f"port(s) {busy} on {HOST} already in use; choose another --port/--controller-port")
    fetch_jars(s.home)
    s.instance.mkdir(parents=True, exist_ok=True)
    (s.instance / "server.properties").write_text(render_server_properties(s))
    (s.instance / "log4j2.properties").write_text(render_log4j(s.instance / "broker.log"))
    format_storage(s)
    began = time.monotonic()
    with open(s.instance / "broker.out", "ab") as out:  # JVM-level output; Kafka logs to broker.log
        proc = subprocess.Popen(_java(s, "kafka.Kafka", str(s.instance / "server.properties")),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # detached: outlives this CLI and its Ctrl-C
    (s.instance / "broker.pid").write_text(f"{proc.pid}\n")
    try:
        # poll() rather than /proc: right after fork the child's cmdline is still python's
        _await_ready(s, timeout, alive=lambda: proc.poll() is None)
    except BrokerError:
        _terminate(proc.pid, s, grace=10.0)
        raise
    print(f"broker ready on {HOST}:{s.port} (pid {proc.pid}) in {time.monotonic() - began:.1f}s; "
          f"log: {s.instance / 'broker.log'}")
    return status(s.port, home=s.home)


def _await_ready(s: BrokerSettings, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise BrokerError(f"the broker process exited during startup\n{log_tail(s)}")
        if is_reachable(s.port, timeout=2.0):
            return
        time.sleep(0.5)  # polling another process: there is nothing to wait on but time
    raise BrokerError(f"broker not ready on {HOST}:{s.port} within {timeout:.0f}s\n{log_tail(s)}")


def _terminate(pid: int, s: BrokerSettings, grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not _is_our_broker(pid, s):
                return
            time.sleep(0.1)
        print(f"broker pid {pid} still alive {wait:.0f}s after {sig.name}", file=sys.stderr)


def stop(port: int | None = None, *, home: Path | None = None, timeout: float = 30.0) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL. False when no broker of ours was running."""
    s = _settings(port, home)
    pid = _read_pid(s)
    (s.instance / "broker.pid").unlink(missing_ok=True)
    if pid is None:
        print(f"no broker running from {s.instance}")
        return False
    _terminate(pid, s, grace=timeout)
    print(f"broker on {HOST}:{s.port} (pid {pid}) stopped")
    return True


def status(port: int | None = None, *, home: Path | None = None) -> BrokerStatus:
    s = _settings(port, home)
    return BrokerStatus(port=s.port, pid=_read_pid(s), reachable=is_reachable(s.port), log=s.instance / "broker.log")


def clean(port: int | None = None, *, home: Path | None = None, jars: bool = False) -> None:
    """Stop the broker if running and remove its directory (data, logs); `jars` drops the jars too."""
    s = _settings(port, home)
    if _read_pid(s):
        stop(s.port, home=s.home)
    shutil.rmtree(s.instance, ignore_errors=True)
    print(f"removed {s.instance}")
    if jars:
        for name in ("lib", "lib.partial"):
            shutil.rmtree(s.home / name, ignore_errors=True)
        print(f"removed the jars in {s.home / 'lib'}")


# ---------------------------------------------------------------- CLI


def _user(text: str) -> tuple[str, str]:
    name, _, password = text.partition(":")
    # these characters would break the SCRAM format argument or the JAAS line
    if not name or not password or re.search(r'[\s"\\,=\[\]]', text):
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD without spaces, quotes, backslashes, , = [ ]")
    return name, password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsclean broker", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "start": "format storage if needed, start detached, wait until it answers metadata requests",
        "stop": "SIGTERM, then SIGKILL after --timeout seconds",
        "status": "running? pid, port, reachable? (exit 0 only when reachable)",
        "fetch": "download the Kafka jars with Maven (a no-op when present)",
        "clean": "stop, then remove the broker's data and logs",
    }
    for name, help_text in commands.items():
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--port", type=int, help=f"env NEWSCLEAN_BROKER_PORT, default {DEFAULT_PORT}")
    start_ = sub.choices["start"]
    start_.add_argument("--controller-port", type=int, help="KRaft controller port (default: port + 1)")
    start_.add_argument("--sasl-port", type=int, help="add a SASL_PLAINTEXT listener (SCRAM-SHA-512, PLAIN)")
    start_.add_argument("--scram-user", type=_user, metavar="NAME:PASSWORD", help="SCRAM-SHA-512 user")
    start_.add_argument("--plain-user", type=_user, metavar="NAME:PASSWORD", help="PLAIN user")
    start_.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    sub.choices["stop"].add_argument("--timeout", type=float, default=30.0, help="seconds to wait after SIGTERM")
    sub.choices["clean"].add_argument("--jars", action="store_true", help="also remove the downloaded jars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch":
            began = time.monotonic()
            lib = default_home() / "lib"
            print(f"fetched the Kafka jars into {lib} in {time.monotonic() - began:.1f}s" if fetch_jars()
                  else f"Kafka jars already present in {lib}")
        elif args.command == "start":
            if (args.scram_user or args.plain_user) and not args.sasl_port:
                raise BrokerError("--scram-user/--plain-user need --sasl-port")
            start(args.port, timeout=args.timeout, controller_port=args.controller_port,
                  sasl_port=args.sasl_port, scram_user=args.scram_user, plain_user=args.plain_user)
        elif args.command == "stop":
            stop(args.port, timeout=args.timeout)
        elif args.command == "status":
            st = status(args.port)
            state = f"running (pid {st.pid})" if st.running else "not running from this checkout"
            print(f"broker {HOST}:{st.port}: {state}, {'reachable' if st.reachable else 'not reachable'}; "
                  f"log: {st.log}")
            return 0 if st.reachable else 1
        elif args.command == "clean":
            clean(args.port, jars=args.jars)
    except BrokerError as err:
        print(f"newsclean broker {args.command}: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
