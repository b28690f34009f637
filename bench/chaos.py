"""The full chaos run by hand: a synthetic feed through a worker that is SIGKILLed at random
moments and restarted, with one broker restart mid-stream; then the delivery checks.

    .venv/bin/python bench/chaos.py [--articles 5000] [--kills 10] [--broker-restarts 1] [--seed S] [--ner]

Starts a private broker (free ports, its own home under a temporary folder; the shared broker on
9092 is never touched), prints progress and a summary — articles sent, lost, duplicates, kill
cycles, broker restarts, whether the feed state matches an offline run — and writes
bench/out/chaos.json. Exit status 0 only when nothing was lost and every check passed.
What is checked is described in tests/support/chaos.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.chaos import Chaos, ChaosPlan, PrivateBroker  # noqa: E402


def _args() -> argparse.Namespace:
    plan = ChaosPlan()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--broker-restarts", type=int, default=1, choices=(0, 1))
    parser.add_argument("--seed", type=int, default=plan.seed)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second into the input topic")
    parser.add_argument("--ner", action="store_true", help="NER on: the enrich stage is killed and restarted too")
    parser.add_argument("--keep", action="store_true", help="keep the broker data and worker logs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "chaos.json")
    return parser.parse_args()


async def _run(args: argparse.Namespace, home: Path) -> dict:
    plan = ChaosPlan(articles=args.articles, kills=args.kills, broker_restarts=args.broker_restarts, seed=args.seed,
                     rate=args.rate, final_timeout=600.0, ner=args.ner)
    kafka = PrivateBroker(home / "kafka")
    await kafka.start()
    try:
        result = await Chaos(plan, kafka, home / "workers", say=lambda line: print(f"  {line}", flush=True)).run()
    finally:
        await kafka.stop()
    print("\nsummary")
    print(f"  articles sent      {result.articles_sent} (+ {result.invalid_sent} invalid messages)")
    print(f"  lost               {result.lost} articles, {result.lost_dead_letters} dead letters")
    print(f"  duplicates         {result.duplicates} envelopes, {result.duplicate_dead_letters} dead letters "
          f"(all exact repeats: {result.inexact_duplicates == 0})")
    print(f"  kill cycles        {result.kill_cycles} SIGKILLs survived")
    print(f"  broker restarts    {result.broker_restarts}")
    print(f"  worker exits       {result.worker_exits or 'none on their own'}")
    print(f"  offline agreement  {result.offline_mismatches} envelopes differ from an offline run")
    print(f"  last version wins  {result.stale_last_versions} uris end on an older version")
    print(f"  feed state         {result.table_keys} keys, matches the offline run: {result.table_matches_offline}")
    print(f"  wall time          {result.seconds} s")
    print(f"  verdict            {'OK' if result.ok else 'FAILED'}")
    return {"ok": result.ok, **asdict(result), "python": platform.python_version(), "machine": platform.machine()}


def main() -> int:
    args = _args()
    tmp = Path(tempfile.mkdtemp(prefix="newsclean-chaos-"))
    try:
        report = asyncio.run(_run(args, tmp))
    finally:
        if args.keep:
            print(f"kept broker data and worker logs in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
