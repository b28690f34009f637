"""What the latency tail is made of: one steady-rate point of the latency curve (NER on, as
`kafka_steps.latency`), then its slowest samples with the article each one timed, that article's
size, the sizes of the articles sent just before it, and its own model time (one `nlp.pipe` over
its headline and paragraphs, single process, CPU ms).

    .venv/bin/python bench/latency_tail.py [--rate 20] [--seconds 30] [--share 0.02]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import orjson  # noqa: E402

from streams.core.dedup import DedupSettings  # noqa: E402
from streams.nlp.model import load_nlp  # noqa: E402
from streams.nlp.settings import NerSettings  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
from script import run_against_broker  # noqa: E402

WARMUP_S = 5.0


def characters(doc: dict) -> int:
    """Headline and body characters of an article as sent."""
    return sum(len(part.get("value", "")) for field in ("headlines", "bodies") for part in doc.get(field, []))


def model_ms(nlp, doc: dict) -> float:
    texts = [h.get("value", "") for h in doc.get("headlines", [])]
    texts += [p for b in doc.get("bodies", []) for p in b.get("value", "").split("\n\n") if p.strip()]
    started = time.process_time()
    list(nlp.pipe(texts))
    return round(1000 * (time.process_time() - started), 1)


async def run(args: argparse.Namespace) -> dict:
    faulty, _ = feed.build_streams(3000, DedupSettings().horizon_days)
    captured: dict = {}
    # the samples and the output records of `kafka_steps.latency`, in the order it pairs them
    percentiles, read_all = ks.percentiles, ks.Broker.read_all

    def keep_samples(values):
        captured["samples"] = list(values)
        return percentiles(values)

    async def keep_records(self, topic, expected, timeout=60):
        captured["records"] = await read_all(self, topic, expected, timeout)
        return captured["records"]

    ks.percentiles, ks.Broker.read_all = keep_samples, keep_records
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        point = await ks.latency(broker, faulty, rate=args.rate, seconds=args.seconds, warmup=WARMUP_S,
                                 partitions=2, tmp=Path(tempfile.mkdtemp()))
    sent = [orjson.loads(m.value) for m in faulty.messages if m.valid][: int(args.rate * (args.seconds + WARMUP_S))]
    order = {(d["uri"], d["version"]): i for i, d in enumerate(sent)}
    timed = []  # (order sent) of each sample, as `latency` keeps them: past the warm-up
    for record in captured["records"]:
        article = orjson.loads(record.value)["article"]
        at = order.get((article["uri"], article["version"]))
        if at is not None and at >= int(args.rate * WARMUP_S):
            timed.append(at)
    samples = captured["samples"]
    assert len(samples) == len(timed), "the records no longer pair with the samples as `latency` pairs them"
    slowest = sorted(zip(samples, timed), reverse=True)[: max(1, round(len(samples) * args.share))]
    sizes = sorted(characters(d) for d in sent)
    nlp, _ = load_nlp(NerSettings())
    list(nlp.pipe(["Warm-up in London."]))
    tail = [{"latency_ms": round(ms, 1), "characters": characters(sent[at]),
             "characters_of_the_3_sent_before": [characters(sent[at - j]) for j in (1, 2, 3) if at - j >= 0],
             "model_cpu_ms_alone": model_ms(nlp, sent[at])} for ms, at in slowest]
    print(point["ms"], "article characters p50 / p99 / max:", sizes[len(sizes) // 2], sizes[int(len(sizes) * 0.99)], sizes[-1])
    for row in tail:
        print(row)
    return {"rate": args.rate, "ms": point["ms"], "worker_cores_used": point["worker_cores_used"],
            "other_processes_cores": point["other_processes_cores"],
            "article_characters": {"p50": sizes[len(sizes) // 2], "p99": sizes[int(len(sizes) * 0.99)], "max": sizes[-1]},
            "slowest": tail}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--share", type=float, default=0.02, help="the slowest share of the samples to list")
    return run_against_broker(parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
