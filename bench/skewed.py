"""The skewed-feed step (issue 15 item 4): one source carries 80 % of the articles, NER on, one
worker against two in the same run. Articles are keyed by source up to `clean`, so one source is
one by-source partition and one worker; the enrich stage, keyed by uri, must still spread the
model's work over both workers. Reports rate, CPU ms per article and each worker's share of the
model's work (its `newsclean_model_*` counters).

    .venv/bin/python bench/skewed.py [--messages N] [--baseline /work/main] [--output bench/skewed.json]

NER processes per worker: 1 (`NER_PROCESSES`). The machine has 2 cores: one model process per
worker gives one worker one core of model work and two workers two, as two one-core hosts would;
with 2 processes a single worker would already hold both cores and the second worker could add
nothing but contention. The paragraph cache is on (the worker's default) and the stream is one
pass over the dev articles, so the cache only answers real repeats.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
import zlib
from pathlib import Path

import orjson
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from streams.core.dedup import DedupSettings  # noqa: E402

from streams.dev.process import WorkerProcess  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
import observe  # noqa: E402
from latency_curve import checkout_worker  # noqa: E402
from script import run_against_broker  # noqa: E402

DOMINANT = "Skewed Wire"  # the source that carries SHARE of the articles
SHARE = 0.8
NER_PROCESSES = "1"
PARTITIONS = 2


def skewed(stream: feed.Stream, share: float = SHARE) -> tuple[feed.Stream, dict[str, int]]:
    """`stream` with `share` of its articles moved to one source, chosen by a hash of the uri (so
    every version of an article stays with its source); broken messages stay as they are."""
    messages, sources = [], {}
    for message in stream.messages:
        if not message.valid:
            messages.append(message)
            continue
        doc = orjson.loads(message.value)
        if zlib.crc32(doc["uri"].encode()) % 1000 < share * 1000:
            others = [a for a in doc.get("altIds", []) if a.get("role") != "source"]
            doc["altIds"] = [*others, {"role": "source", "value": DOMINANT}]
        source = next((a["value"] for a in doc.get("altIds", []) if a.get("role") == "source"), "")
        sources[source] = sources.get(source, 0) + 1
        messages.append(feed.Message(message.key, orjson.dumps(doc), True))
    return feed.Stream(f"{stream.name}-skewed", stream.origin, tuple(messages), stream.base_articles, stream.copies,
                       stream.spacing_days), sources


def metered(launcher: type[WorkerProcess]) -> type[WorkerProcess]:
    """`launcher` that records the CPU its worker (and the worker's NER processes) used from
    /ready to the stop: each worker's share of the work, for any worker, one with model
    counters or not (the baseline)."""

    class Metered(launcher):
        runs: list = []  # (worker, CPU seconds) of every stopped worker, in start order

        def _cpu(self) -> float:
            try:
                family = [psutil.Process(self.proc.pid)]
                family += family[0].children(recursive=True)
            except psutil.Error:
                return 0.0
            total = 0.0
            for member in family:
                try:
                    times = member.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            return total

        def wait_ready(self, timeout: float = 90.0) -> None:
            super().wait_ready(timeout)
            self.ready_cpu = self._cpu()

        def terminate(self, timeout: float = 60.0) -> int:
            Metered.runs.append((self, self._cpu() - getattr(self, "ready_cpu", 0.0)))
            return super().terminate(timeout)

    return Metered


def cpu_shares(runs: list) -> list[float]:
    total = sum(cpu for _, cpu in runs)
    return [round(cpu / total, 3) if total else None for _, cpu in runs]


def model_share(per_worker: list[dict[str, float]]) -> list[dict[str, float]]:
    """Each worker's share of the articles and characters it sent through the model."""
    names = {"articles": "newsclean_model_articles_total", "characters": "newsclean_model_characters_total"}
    totals = {k: sum(m.get(n, 0.0) for m in per_worker) for k, n in names.items()}
    return [{k: round(m.get(n, 0.0) / totals[k], 3) if totals[k] else None for k, n in names.items()}
            | {"model_articles": m.get(names["articles"], 0.0)} for m in per_worker]


async def skewed_steps(broker: ks.Broker, stream: feed.Stream, tmp: Path, timeout: float, launcher=WorkerProcess,
                       label: str = "") -> dict:
    """The same skewed stream through one worker, then two: rate, CPU per article, model shares."""
    extra = {"NEWSCLEAN_NER_PROCESSES": NER_PROCESSES}
    out: dict = {}
    for workers in (1, 2):
        meter = metered(launcher)
        result = await ks.throughput(broker, f"skew{label}{workers}", stream.messages, workers=workers,
                                     partitions=PARTITIONS, ner=True, tmp=tmp, timeout=timeout, extra=extra,
                                     launcher=meter)
        out[f"workers_{workers}"] = {
            "rate": round(result["rate"], 2), "count": result["count"], "seconds": result["seconds"],
            "duplicates": result["duplicates"], "exit_codes": result["exit_codes"],
            "worker_cpu_ms_per_article": result["cpu"]["worker_cpu_ms_per_article"],
            "other_processes_cores": result["cpu"].get("other_processes_cores"),
            "model_share": model_share(result["metrics_per_worker"]),
            "cpu_share": cpu_shares(meter.runs),  # worker + its NER processes, /ready to stop
        }
    one, two = out["workers_1"], out["workers_2"]
    shares = [s["articles"] for s in two["model_share"]]
    out["ratios"] = {
        "rate_2_vs_1": round(two["rate"] / one["rate"], 3) if one["rate"] else None,
        "cpu_per_article_2_vs_1": round(two["worker_cpu_ms_per_article"] / one["worker_cpu_ms_per_article"], 3)
        if one["worker_cpu_ms_per_article"] else None,
    }
    out["targets"] = {
        "each_worker_share_35_65": all(s is not None and 0.35 <= s <= 0.65 for s in shares),
        "cpu_per_article_within_10pct": out["ratios"]["cpu_per_article_2_vs_1"] is not None
        and out["ratios"]["cpu_per_article_2_vs_1"] <= 1.10,
    }
    return out


async def run(args) -> dict:
    faulty, _ = feed.build_streams(args.messages, DedupSettings().horizon_days)
    stream, sources = skewed(faulty.first_copy(args.ner_messages))
    tmp = Path(tempfile.mkdtemp(prefix="nc-skewed-"))
    load_before = observe.load()
    timeout = 180 + len(stream.messages) / 2
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        result = await skewed_steps(broker, stream, tmp, timeout)
        if args.baseline:  # the same steps with another checkout's worker (before the enrich stage)
            result["baseline"] = await skewed_steps(broker, stream, tmp, timeout, checkout_worker(args.baseline), "base")
    top = max(sources.values()) / sum(sources.values())
    result = {"messages": len(stream.messages), "largest_source_share": round(top, 3), "sources": len(sources),
            "ner_processes_per_worker": int(NER_PROCESSES), "partitions": PARTITIONS, "load_before": load_before,
            "load_after": observe.load(), "worker_logs": str(tmp), **result}
    print(json.dumps(result, indent=1), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000, help="size of the stream whose first copy is used")
    parser.add_argument("--ner-messages", type=int, default=None, help="cap on the first copy (default: all of it)")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its .venv) to run the same steps with")
    return run_against_broker(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
