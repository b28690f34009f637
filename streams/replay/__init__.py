"""Replays and backfills (`newsclean replay`): the pipeline over historical topics, isolated from
the live worker, each batch one Kafka transaction. `request` (what to replay, names, summary),
`ranges` (which offsets), `merge` (reading order), `journal` (durable state), `topics`,
`progress`, `run` (the run itself), `cli`.

Python: `await replay(ReplayRequest(...), settings) -> ReplaySummary`."""

from streams.replay.request import ReplayRequest, ReplaySummary
from streams.replay.run import replay

__all__ = ["ReplayRequest", "ReplaySummary", "replay"]
