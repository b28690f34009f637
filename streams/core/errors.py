"""The one exception the core raises for input it cannot process (re-exported by `ninjs`)."""

from __future__ import annotations


class InvalidInput(ValueError):
    """A message the pipeline cannot process. `reason` is a stable code for dead-letter records
    and metrics; the message says what exactly was wrong."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
