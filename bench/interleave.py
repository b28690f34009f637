"""NER-off worker against a baseline checkout, interleaved: B0 and B1 (`bench/run.py`'s steps) on
this checkout, then on the baseline, round after round, so both see the same neighbours; with
`--spy`, one py-spy B1 each, its samples split into stages and scaled to CPU ms per article.

    .venv/bin/python bench/interleave.py --baseline /path/to/other/checkout [--rounds 3] [--spy]

The baseline's worker runs from its own directory (its `streams` package), with its `.venv` if it
has one, else this interpreter. CPU per article is the worker's CPU from the first produce to the
end of the step (`kafka_steps.throughput`); read it across rounds, the rates only within one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from streams.core.dedup import DedupSettings  # noqa: E402
from streams.dev.process import WorkerProcess  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
import profiles  # noqa: E402
from script import run_against_broker  # noqa: E402

PARTITIONS = 2  # as bench/run.py
# Leaf-up, first match; the core split as the per-message runtime section of bench/README.md reports it.
STAGES = (
    ("core: feed stage", ("(streams/core/feedwide.py", "(streams/core/links.py")),
    ("core: dedup", ("(streams/core/dedup.py", "(streams/core/repeats.py", "(streams/core/boilerplate.py",
                     "(streams/core/fingerprint.py", "(streams/core/normalise.py", "(streams/core/evidence.py",
                     "(streams/core/templates.py", "(streams/core/tables.py", "(streams/core/edits.py", "rapidfuzz")),
    ("core: decode, validate, parse, envelope, state log", ("(streams/core/", "(streams/batch.py", "(streams/dead_letters.py",
                                                            "(streams/deadline.py", "selectolax", "jsonschema", "orjson")),
    ("metrics", ("(prometheus_client/",)),
    ("app glue (agents, batches, headers, delivery, state)", ("(streams/worker/", "(streams/kafka/")),
    ("aiokafka client", ("(aiokafka/",)),
    ("Faust/mode runtime", ("(faust/", "(mode/")),
    ("asyncio loop, selector, threads", ("(asyncio/", "(selectors.py", "(threading.py", "(concurrent/")),
)


def _python(root: Path) -> str:
    venv = root / ".venv/bin/python"
    return str(venv) if venv.exists() else sys.executable


def checkout(root: Path, spied: bool = False) -> type[WorkerProcess]:
    """A worker launcher for the checkout at `root` (under py-spy if `spied`)."""
    base = profiles.SpiedWorker if spied else WorkerProcess

    class Checkout(base):  # type: ignore[misc, valid-type]
        def start(self) -> WorkerProcess:
            command = [_python(root), "-m", "streams.cli", "worker"]
            if spied:
                command = [profiles.py_spy(), "record", "--format", "raw", "--rate", "100", "--nonblocking",
                           "--subprocesses", "-o", str(self.stacks), "--", *command]
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(command, env=self.env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            return self

    return Checkout


def stages(stacks: Path, cpu_ms: float) -> dict[str, float]:
    """CPU ms per article per stage: py-spy's samples (start-up imports left out) shared out over `cpu_ms`."""
    samples: Counter[str] = Counter()
    for line in stacks.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or any("importlib" in frame for frame in frames):
            continue
        stage = next((name for frame in reversed(frames) for name, marks in STAGES if any(m in frame for m in marks)), "other")
        samples[stage] += int(count)
    total = sum(samples.values()) or 1
    return {name: round(cpu_ms * samples[name] / total, 3) for name, _ in (*STAGES, ("other", ()))}


async def run(args: argparse.Namespace) -> dict:
    messages = feed.build_streams(args.messages, DedupSettings().horizon_days)[0].messages
    sides = {"branch": HERE.parent, "baseline": args.baseline.resolve()}
    tmp = Path(tempfile.mkdtemp(prefix="newsclean-interleave-"))
    result: dict = {"rounds": [], "spy": {}}
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        for n in range(args.rounds):
            for side, root in sides.items():
                b0 = await ks.passthrough(broker, f"b0{side}{n}", messages, 1, PARTITIONS, 120 + len(messages) / 40)
                b1 = await ks.throughput(broker, f"b1{side}{n}", messages, workers=1, ner=False, partitions=PARTITIONS,
                                         tmp=tmp, timeout=120 + len(messages) / 40, launcher=checkout(root))
                row = {"round": n + 1, "side": side, "B0": round(b0["rate"], 1), "B1": round(b1["rate"], 1),
                       "cpu_ms": b1["cpu"]["worker_cpu_ms_per_article"], "R1": round(b1["rate"] / b0["rate"], 3),
                       "duplicates": b1["duplicates"], "other_cores": b1["cpu"]["other_processes_cores"]}
                result["rounds"].append(row)
                print(row, flush=True)
        if args.spy:
            spied = feed.build_streams(args.spy_messages, DedupSettings().horizon_days)[0].messages
            for side, root in sides.items():
                label = f"spy{side}"
                b1 = await ks.throughput(broker, label, spied, workers=1, ner=False, partitions=PARTITIONS, tmp=tmp,
                                         timeout=120 + len(spied) / 40, launcher=checkout(root, spied=True))
                cpu_ms = b1["cpu"]["worker_cpu_ms_per_article"]
                result["spy"][side] = {"cpu_ms": cpu_ms, "stages": stages(tmp / f"{label}-0.stacks", cpu_ms)}
                print(side, result["spy"][side], flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout of newsclean")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=3_000, help="as bench/run.py --quick")
    parser.add_argument("--spy", action="store_true", help="also one py-spy B1 per side, split into stages")
    parser.add_argument("--spy-messages", type=int, default=5_000)
    return run_against_broker(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
