"""A newsclean worker as a child process: what the demo, the integration tests and the benchmarks
start, kill and restart. Readiness is the worker's own /ready endpoint, never a sleep."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WorkerProcess:
    """`env` holds NEWSCLEAN_* settings; the web port is chosen here unless given. `command` is
    the worker's argv, `newsclean worker` by default."""

    def __init__(self, env: Mapping[str, str], log_path: Path, command: Sequence[str] | None = None) -> None:
        self.env = {**os.environ, "NEWSCLEAN_WEB_ENABLED": "true", **env}
        self.env.setdefault("NEWSCLEAN_WEB_PORT", str(free_port()))
        self.port = int(self.env["NEWSCLEAN_WEB_PORT"])
        self.log_path = log_path
        self.command = list(command or [sys.executable, "-m", "streams.cli", "worker"])
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode} before it was ready:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)  # polling a readiness endpoint; the wait is bounded by `timeout`
        raise TimeoutError(f"worker not ready within {timeout}s:\n{self.log_tail()}")

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM: the worker finishes in-flight work, commits and exits."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def wait(self, timeout: float) -> int:
        """The exit status once the worker has exited on its own; TimeoutError if it has not."""
        assert self.proc is not None, "not started"
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"worker still running after {timeout}s:\n{self.log_tail()}") from None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed or committed."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
