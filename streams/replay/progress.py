"""Progress of a replay on stderr: a bar with rate and ETA on a terminal (tqdm), JSON lines
otherwise.

Progress is measured in offsets (what the spans cover, control markers and gaps included), the
rate in articles read by this run; both are exact at the end and good estimates on the way."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import IO, Any, Literal

import orjson
from tqdm import tqdm

Mode = Literal["auto", "bar", "json", "none"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    phase: str  # "priming" (warm start) or "replay"
    done: int  # offsets behind us
    total: int  # offsets in the spans
    read: int  # records read by this run
    written: int  # envelopes written by this run
    dead_lettered: int
    elapsed_s: float  # since this run started
    start_done: int = 0  # offsets already behind us when this run started (a resume)


def rate(snapshot: Snapshot) -> float:
    """Articles read per second by this run."""
    return snapshot.read / snapshot.elapsed_s if snapshot.elapsed_s > 0 else 0.0


def eta_seconds(snapshot: Snapshot) -> float | None:
    """Remaining offsets at this run's offset rate; None until there is a rate."""
    covered = snapshot.done - snapshot.start_done
    if covered <= 0 or snapshot.elapsed_s <= 0:
        return None if snapshot.done < snapshot.total else 0.0
    return max(0, snapshot.total - snapshot.done) * snapshot.elapsed_s / covered


def progress_record(snapshot: Snapshot) -> dict[str, Any]:
    eta = eta_seconds(snapshot)
    return {
        "event": "progress",
        "phase": snapshot.phase,
        "done": snapshot.done,
        "total": snapshot.total,
        "read": snapshot.read,
        "written": snapshot.written,
        "dead_lettered": snapshot.dead_lettered,
        "rate": round(rate(snapshot), 1),
        "eta_s": None if eta is None else round(eta, 1),
        "elapsed_s": round(snapshot.elapsed_s, 3),
    }


class Progress:
    """Throttled reporting: on a terminal a tqdm bar per phase (offsets, this run's ETA, articles/s),
    redrawn at most 5 times a second; otherwise a JSON line every `every_s` seconds."""

    def __init__(self, stream: IO[str], mode: Mode = "auto", every_s: float = 10.0) -> None:
        if mode == "auto":
            mode = "bar" if stream.isatty() else "json"
        self.stream = stream
        self.mode = mode
        self.every_s = every_s
        self.last = float("-inf")
        self.bar: tqdm | None = None
        self.phase: str | None = None

    def update(self, snapshot: Snapshot, force: bool = False) -> None:
        if self.mode == "bar":
            self._draw(snapshot)
            return
        now = time.monotonic()
        if self.mode == "none" or (not force and now - self.last < self.every_s):
            return
        self.last = now
        self.stream.write(orjson.dumps(progress_record(snapshot)).decode() + "\n")
        self.stream.flush()

    def close(self, snapshot: Snapshot) -> None:
        self.update(snapshot, force=True)
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _draw(self, snapshot: Snapshot) -> None:
        if self.bar is None or self.phase != snapshot.phase:
            if self.bar is not None:
                self.bar.close()
            # initial: what a resumed run found done, so the rate and ETA are this run's own
            self.bar = tqdm(total=snapshot.total, initial=snapshot.start_done, desc=snapshot.phase, unit="offset",
                            file=self.stream, mininterval=0.2, dynamic_ncols=True)
            self.phase = snapshot.phase
        self.bar.set_postfix_str(f"{rate(snapshot):,.0f} art/s", refresh=False)
        self.bar.update(snapshot.done - self.bar.n)
