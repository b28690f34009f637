"""Local single-node Apache Kafka broker (KRaft broker+controller) for development and tests.

Jars: `streams.dev.kafka_jars`. Each broker instance lives in
`.kafka/broker-<port>/` (server.properties, log4j2.properties, data/, broker.pid,
broker.log), so a test broker on another port never disturbs the one on 9092.
CLI: `newsclean broker start|stop|status|fetch|clean` (see `main`).
"""

from __future__ import annotations

import argparse
import asyncio
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

from streams.dev.broker_config import DEFAULT_PORT, HOST, BrokerSettings, random_cluster_id, render_log4j, render_server_properties
from streams.dev.kafka_jars import JAVA_HINT, BrokerError, default_home, fetch_jars, require_tool

JAVA_OPTS = ("-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    port: int
    pid: int | None  # our broker process, None when not running
    reachable: bool  # some broker on 127.0.0.1:port answers a metadata request
    log: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


def _settings(port: int | None, home: Path | None, **extra) -> BrokerSettings:
    port = port or int(os.environ.get("NEWSCLEAN_BROKER_PORT", DEFAULT_PORT))
    return BrokerSettings(home=home or default_home(), port=port, **extra)


# ---------------------------------------------------------------- storage


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
