"""A worker killed (SIGKILL) right after its first enrich batch's output records were acked and
before that batch is committed: the crash window of the enrich stage. For the test that a
restart loses nothing and yields identical envelopes. The fault lives here, in the test tree.

    python -m tests.support.crashing_enrich_worker   (configured by NEWSCLEAN_* like `newsclean worker`)
"""

from __future__ import annotations

import os
import signal
import sys

from streams.cli import main
from streams.worker import app

_real = app.Newsclean._enrich_batch


async def _then_crash(self, messages, before=None) -> None:
    await _real(self, messages, before)  # the output sends are acked here; the commit would come next
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    app.Newsclean._enrich_batch = _then_crash
    sys.exit(main(["worker"]))
