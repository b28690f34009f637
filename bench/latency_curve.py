"""Latency curve with NER on: end-to-end p50/p95/p99 at several steady rates, with the machine's
other load beside each point; optionally against a baseline checkout in the same run, the two
interleaved rate by rate so both see the same neighbours.

    .venv/bin/python bench/latency_curve.py [--rates 5 10 20 30] [--seconds 30] [--baseline /work/main]

Latency = the output record's broker append time - the wall time just before the send
(`kafka_steps.latency`). Writes JSON to --output (default: stdout only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from streams.core.dedup import DedupSettings  # noqa: E402
from streams.dev.process import WorkerProcess  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
from script import run_against_broker  # noqa: E402


def checkout_worker(root: Path) -> type[WorkerProcess]:
    """A WorkerProcess running the worker of another checkout, with that checkout's venv."""

    class Checkout(WorkerProcess):
        def __init__(self, env, log_path, command=None):
            super().__init__(env, log_path, command=[str(root / ".venv/bin/python"), "-m", "streams.cli", "worker"])

        def start(self) -> WorkerProcess:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self.command, env=self.env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            return self

    return Checkout


async def curve(args) -> dict:
    faulty, _ = feed.build_streams(args.messages, DedupSettings().horizon_days)
    tmp = Path(tempfile.mkdtemp(prefix="nc-latency-"))
    variants = {"branch": WorkerProcess}
    if args.baseline:
        variants = {"baseline": checkout_worker(args.baseline), **variants}
    out: dict = {name: [] for name in variants}
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        for rate in args.rates:
            for name, launcher in variants.items():
                point = await ks.latency(broker, faulty, rate=rate, seconds=args.seconds, warmup=args.warmup,
                                         partitions=2, tmp=tmp, launcher=launcher, ner=not args.no_ner)
                row = {"rate": rate, **point["ms"], "samples": point["samples"],
                       "other_processes_cores": point["other_processes_cores"],
                       "worker_cores_used": point["worker_cores_used"],
                       "worker_cpu_ms_per_article": point["worker_cpu_ms_per_article"], "loadavg_1m": point["loadavg_1m"]}
                print(name, json.dumps(row), flush=True)
                out[name].append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[5.0, 10.0, 20.0, 30.0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per point (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=3000, help="size of the synthetic stream drawn from")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its .venv) to measure in the same run")
    parser.add_argument("--no-ner", action="store_true", help="the worker without NER: what the Kafka path costs at a rate")
    return run_against_broker(parser, curve, argv)


if __name__ == "__main__":
    sys.exit(main())
