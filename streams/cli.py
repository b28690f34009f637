"""`newsclean worker|clean|replay|broker|demo`."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["broker"]:
        from streams.dev import broker

        return broker.main(argv[1:])
    if argv[:1] == ["demo"]:
        from streams.dev import demo

        return demo.main(argv[1:])
    if argv[:1] == ["replay"]:
        from streams.replay import cli

        return cli.main(argv[1:])
    parser = argparse.ArgumentParser(prog="newsclean", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("worker", help="run the stream worker (configured by NEWSCLEAN_* variables)")
    commands.add_parser("broker", help="local Kafka broker: start|stop|status|fetch|clean")
    commands.add_parser("replay", help="replay historical topics through the pipeline (backfills)")
    commands.add_parser("demo", help="publish the sample articles to a local broker and show them cleaned")

    clean = commands.add_parser("clean", help="clean ninjs JSON lines offline, without Kafka")
    clean.add_argument("input", nargs="?", default="-", help="JSON lines (or one JSON object) file; - for stdin")
    clean.add_argument("-o", "--output", default="-", help="envelopes as JSON lines; - for stdout")
    clean.add_argument("--dlq", help="also write dead-letter records for bad lines to this file")
    clean.add_argument("--prime", action="append", default=[], metavar="FILE",
                       help="feed FILE through the feed state first, without output (warm start); repeatable")
    clean.add_argument("--no-ner", action="store_true", help="skip entity extraction")

    args = parser.parse_args(argv)
    if args.command == "clean":
        return _clean(args)
    if args.command == "worker":
        from streams.worker.main import run_worker

        return run_worker()
    return 2


def _clean(args: argparse.Namespace) -> int:
    from streams.config import ConfigError, from_env
    from streams.core.models import MemoryStore
    from streams.nlp.extractor import load_extractor
    from streams.offline import clean_file, prime

    try:
        settings = from_env()
    except ConfigError as exc:
        print(f"newsclean: {exc}", file=sys.stderr)
        return 2
    store = MemoryStore()
    with ExitStack() as resources:
        extractor = None if args.no_ner or not settings.ner_enabled else load_extractor(settings.ner)
        if extractor is not None:
            # The NER processes are shut down here, not left to the garbage collector at exit,
            # where it races the interpreter's own atexit hook for the pool (OSError, EBADF).
            resources.callback(extractor.close)
        if args.prime:
            primed = prime(args.prime, store, settings.pipeline)
            print(f"newsclean: primed the feed state with {primed} articles", file=sys.stderr)
        out = sys.stdout.buffer if args.output == "-" else resources.enter_context(open(args.output, "wb"))
        dlq = resources.enter_context(open(args.dlq, "wb")) if args.dlq else None
        tally = clean_file(args.input, out, dlq, settings.pipeline, extractor, store)
    print(f"newsclean: {tally.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
