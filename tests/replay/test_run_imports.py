"""The replay runs on raw aiokafka clients: importing it must not load Faust (nor the worker)."""

from __future__ import annotations

import subprocess
import sys


def test_run_replay_does_not_import_faust():
    probe = ("import sys, streams.replay, streams.replay.cli, streams.replay.run; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faust', 'mode') or m.startswith('streams.worker')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
