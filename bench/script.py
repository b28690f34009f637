"""The tail every broker-driven bench script shares: `--broker`, `--output`, run, write the JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path


def run_against_broker(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], Awaitable[dict]],
                       argv: list[str] | None = None) -> int:
    parser.add_argument("--broker", default="127.0.0.1:9092")
    parser.add_argument("--output", type=Path, help="also write the result here as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    if args.output:
        args.output.write_text(json.dumps(result, indent=1) + "\n")
    return 0


def print_and_write(result: dict, path: Path | None) -> int:
    """The result as indented JSON on stdout, and in `path` too when given (a script's last step)."""
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n")
    return 0
