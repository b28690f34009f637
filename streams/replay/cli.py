"""`newsclean replay`: arguments -> `ReplayRequest`, the run, the summary as one JSON line on stdout.

Exit status: 0 done (or already done), 1 failed (run the same command again to resume from the
last committed batch), 2 bad arguments or configuration, 130 stopped by SIGINT/SIGTERM after
committing the batch in flight (run it again to resume)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import orjson
from aiokafka.errors import ProducerFenced

from streams.config import ConfigError, from_env
from streams.replay.request import ReplayConflict, ReplayRequest
from streams.replay.run import replay
from streams.replay.ranges import RangeError, parse_offsets, parse_partitions, parse_time

EPILOG = """\
examples:
  newsclean replay news-raw --from 2019-03-01T00:00Z --to 2019-04-01T00:00Z --name march-2019
  newsclean replay news-raw --from 2019-03-01 --warm-from 2019-02-22 --name march-warm
  newsclean replay --offsets news-raw:0:1000-2000,news-raw:1:1500- --output news-fixed
  newsclean replay news-raw --dry-run --from 2019-03-01
Run the same command again after a crash or kill: it resumes from its last committed batch."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsclean replay", description="Replay historical topics through the pipeline into a backfill topic.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("topics", nargs="*", metavar="TOPIC", help="topics to replay (default: the worker's input topics)")
    parser.add_argument("--from", dest="start", type=_time, metavar="ISO", help="first record time, inclusive (UTC if no offset)")
    parser.add_argument("--to", dest="end", type=_time, metavar="ISO", help="last record time, exclusive")
    parser.add_argument("--offsets", type=_offsets, default=(), metavar="T:P:START-END[,...]",
                        help="explicit offsets per partition, END exclusive; START- reads to the end")
    parser.add_argument("--partitions", type=_partitions, metavar="LIST", help="only these partitions, e.g. 0,2,4-7")
    parser.add_argument("--name", help="names the replay's group, state and transactions (default: derived from the arguments)")
    parser.add_argument("--output", dest="output_topic", metavar="TOPIC", help="output topic (default: <output topic>-backfill)")
    parser.add_argument("--dlq", dest="dlq_topic", metavar="TOPIC", help="dead-letter topic (default: <dlq topic>-backfill)")
    parser.add_argument("--warm-from", type=_time, metavar="ISO", help="prime the feed state from [ISO, --from) first")
    parser.add_argument("--dry-run", action="store_true", help="count only: no output, no commits, no NER")
    parser.add_argument("--rate", type=float, metavar="N", help="at most N articles per second")
    parser.add_argument("--no-ner", dest="ner", action="store_false", default=None, help="skip entity extraction")
    parser.add_argument("--batch-size", type=int, default=500, metavar="N", help="articles per transaction at most (500)")
    parser.add_argument("--commit-interval", dest="commit_interval_s", type=float, default=2.0, metavar="S",
                        help="longest time a batch collects before it commits (2)")
    parser.add_argument("--progress", choices=("auto", "bar", "json", "none"), default="auto",
                        help="stderr progress: a bar on a terminal, JSON lines otherwise (auto)")
    parser.add_argument("--progress-every", dest="progress_every_s", type=float, default=10.0, metavar="S",
                        help="seconds between JSON progress lines (10)")
    return parser


def parse_request(argv: list[str]) -> ReplayRequest:
    """Raises SystemExit(2) with a message for bad arguments (argparse's convention)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    request = ReplayRequest(**{k: (tuple(v) if k == "topics" else v) for k, v in vars(args).items()})
    try:
        request.check()
    except RangeError as exc:
        parser.error(str(exc))
    return request


def main(argv: list[str]) -> int:
    request = parse_request(argv)
    try:
        settings = from_env()
    except ConfigError as exc:
        print(f"newsclean replay: {exc}", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(_run(request, settings))
    except (ConfigError, RangeError, ReplayConflict) as exc:
        print(f"newsclean replay: {exc}", file=sys.stderr)
        return 2
    except ProducerFenced:
        print("newsclean replay: another run of this replay (same --name) took over; this one stopped, "
              "its last batch uncommitted", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"newsclean replay: failed: {type(exc).__name__}: {exc}\n"
              "run the same command again to resume from the last committed batch", file=sys.stderr)
        return 1
    sys.stdout.write(orjson.dumps(summary.to_json()).decode() + "\n")
    sys.stdout.flush()
    return 130 if summary.status == "stopped" else 0


async def _run(request: ReplayRequest, settings):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await replay(request, settings, stop=stop)


def _time(text: str):
    try:
        return parse_time(text)
    except RangeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _offsets(text: str):
    try:
        return parse_offsets(text)
    except RangeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _partitions(text: str):
    try:
        return parse_partitions(text)
    except RangeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
