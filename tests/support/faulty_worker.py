"""A worker whose `clean` agent fails on every batch, outside the per-message error handling
(as a Kafka send that fails for good would): for the test that an agent crash stops the
process. The fault is injected here, in the test tree; the worker code has no test hook.

    python -m tests.support.faulty_worker   (configured by NEWSCLEAN_* like `newsclean worker`)
"""

from __future__ import annotations

import sys

from streams.worker import app
from streams.cli import main


async def _fail(self, events) -> None:
    raise RuntimeError("injected fault: the clean agent fails")


if __name__ == "__main__":
    app.Newsclean._clean_batch = _fail
    sys.exit(main(["worker"]))
