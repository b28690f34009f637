"""One-command benchmark: throughput against raw aiokafka and standalone spaCy, scaling, latency,
memory and metrics, all in one run on the local broker. See bench/README.md.

    .venv/bin/python bench/run.py [--quick] [--skip-profile] [--broker 127.0.0.1:9092]

Writes bench/results.json and the results table in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from streams.core.settings import DedupSettings  # noqa: E402

import feed  # noqa: E402
import kafka_steps as ks  # noqa: E402
import observe  # noqa: E402
import profiles  # noqa: E402
import report  # noqa: E402
import skewed  # noqa: E402

PARTITIONS = 2  # one layout for every Kafka step: 2 input, 2 by-source, 2 output partitions
# NER steps (B2, B3) read the first copy of the stream only (capped by ner_messages): later copies
# repeat its texts, which the worker's paragraph cache would answer for free.
FULL = {"messages": 20_000, "ner_messages": None, "latency_s": 60.0, "latency_rates": (5.0, 10.0, 20.0, 30.0), "profile_messages": 5_000}
QUICK = {"messages": 3_000, "ner_messages": 150, "latency_s": 15.0, "latency_rates": (10.0, 20.0), "profile_messages": 1_500}
RATE = 20.0  # articles/s for the latency run
WARMUP_S = 5.0  # of the latency run, excluded from the percentiles (model and connections warming)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


async def step(results: dict, name: str, make) -> dict | None:
    """Run one step; a failure is recorded in results.json and the run goes on."""
    log(f"{name} ...")
    try:
        outcome = await make()
    except Exception as exc:  # noqa: BLE001 - a failed step must not hide the others
        traceback.print_exc()
        results["steps"][name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        return None
    results["steps"][name] = outcome
    rate = outcome.get("rate")
    log(f"{name}: {rate:,.1f} articles/s" if rate is not None else f"{name}: done")
    return outcome


async def kafka_steps(args, sizes: dict, faulty: feed.Stream, clean: feed.Stream, results: dict, tmp: Path) -> None:
    ner_faulty, ner_clean = faulty.first_copy(sizes["ner_messages"]), clean.first_copy(sizes["ner_messages"])
    common = {"partitions": PARTITIONS, "tmp": tmp}
    n = len(faulty.messages)
    timeout = 120 + n / 40
    ner_timeout = 180 + len(ner_faulty.messages) / 3
    async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
        await step(results, "B0", lambda: ks.passthrough(broker, "b0", faulty.messages, 1, PARTITIONS, timeout))
        await step(results, "B0_two_hops", lambda: ks.passthrough(broker, "b0x2", faulty.messages, 2, PARTITIONS, timeout))
        await step(results, "B1", lambda: ks.throughput(broker, "b1", faulty.messages, workers=1, ner=False, timeout=timeout, **common))
        await step(results, "B4", lambda: ks.throughput(broker, "b4", faulty.messages, workers=2, ner=False, timeout=timeout, **common))
        await step(results, "B3_faulty", lambda: ks.throughput(
            broker, "b3f", ner_faulty.messages, workers=1, ner=True, timeout=ner_timeout, **common))
        await step(results, "B3_clean", lambda: ks.throughput(
            broker, "b3c", ner_clean.messages, workers=1, ner=True, timeout=ner_timeout, **common))
        skew, _ = skewed.skewed(ner_faulty)  # one source carries 80 %: 1 vs 2 workers, NER on
        await step(results, "skewed_feed", lambda: skewed.skewed_steps(broker, skew, tmp, ner_timeout))
        curve = []
        for rate in sizes["latency_rates"]:
            outcome = await step(results, f"latency_{rate:g}_per_s", lambda: ks.latency(
                broker, faulty, rate=rate, seconds=sizes["latency_s"], warmup=WARMUP_S, partitions=PARTITIONS, tmp=tmp))
            if outcome:
                curve.append(outcome)
        if curve:
            results["latency"] = next((c for c in curve if c["rate_target"] == RATE), curve[0])
            results["latency_curve"] = [{"rate": c["rate_target"], **c["ms"]} for c in curve]

        if args.skip_profile:
            return
        if not profiles.py_spy():
            results["profile"]["py_spy"] = "py-spy not installed (pip install 'py-spy>=0.4,<0.5')"
            return
        spied = {}
        for name, stream, ner in (("profile_B1", faulty.head(sizes["profile_messages"]), False),
                                  ("profile_B3", ner_faulty, True)):
            label = name.lower().replace("_", "")
            outcome = await step(results, name, lambda: ks.throughput(
                broker, label, stream.messages, workers=1, ner=ner, timeout=ner_timeout if ner else timeout,
                launcher=profiles.SpiedWorker, **common))
            stacks = tmp / f"{label}-0.stacks"
            if outcome and stacks.exists():
                spied[name] = {"rate_under_py_spy": round(outcome["rate"], 1), **profiles.classify(stacks)}
        results["profile"]["py_spy"] = spied


async def ner_steps(faulty: feed.Stream, clean: feed.Stream, sizes: dict, results: dict) -> None:
    from streams.nlp.extractor import load_extractor
    from streams.nlp.settings import NerSettings

    extractor = load_extractor(NerSettings(cache_size=0, processes=0))  # B2 reads `.nlp`: in this process
    for name, stream in (("B2_faulty", faulty.first_copy(sizes["ner_messages"])), ("B2_clean", clean.first_copy(sizes["ner_messages"]))):
        await step(results, name, lambda: asyncio.to_thread(standalone_ner, extractor, stream))


def standalone_ner(extractor, stream: feed.Stream) -> dict:
    """B2: the worker's spaCy pipeline (same model, same components) over headline + every
    paragraph of each article, batched with nlp.pipe as the extractor batches; no Kafka, no
    cache, no merging."""
    texts, articles = feed.ner_texts(stream)
    list(extractor.nlp.pipe(texts[:32]))  # warm-up, as the worker's first batch is
    meter = observe.CpuMeter([])
    meter.start()
    cpu_started, started = time.thread_time(), time.perf_counter()
    for _ in extractor.nlp.pipe(texts, batch_size=extractor.settings.batch_size):
        pass
    seconds = time.perf_counter() - started
    cpu_seconds = time.thread_time() - cpu_started
    machine = meter.stop()
    words = sum(len(t.split()) for t in texts)
    return {"rate": articles / seconds, "articles": articles, "texts": len(texts), "words": words,
            "seconds": round(seconds, 2), "words_per_s": round(words / seconds),
            "cpu": {"cpu_ms_per_article": round(1000 * cpu_seconds / articles, 3),
                    "other_processes_cores": round(machine["machine_busy_cores"] - cpu_seconds / seconds, 2)}}


def ratios(steps: dict) -> dict:
    def rate(name: str) -> float | None:
        found = steps.get(name) or {}
        return found.get("rate")

    def ratio(a: str, b: str) -> float | None:
        x, y = rate(a), rate(b)
        return round(x / y, 3) if x and y else None

    return {"R1": ratio("B1", "B0"), "R1_two_hop_ceiling": ratio("B1", "B0_two_hops"),
            "R2_clean": ratio("B3_clean", "B2_clean"), "R2_faulty": ratio("B3_faulty", "B2_faulty"),
            "scaling": ratio("B4", "B1")}


def targets(results: dict) -> dict:
    r = results["ratios"]
    p99 = results.get("latency", {}).get("ms", {}).get("p99")
    series = (results["steps"].get("B1") or {}).get("memory_series") or []
    bounded, growth, first_keys, second_keys = None, None, None, None
    if len(series) >= 4:
        # Bounded: over the second half of B1 (tens of horizons of event time), RSS grows < 5 % and
        # the table's key count peaks no higher than in the first half. The first seconds, while
        # the whole backlog is being fetched, are not the table.
        middle, last = series[len(series) // 2], series[-1]
        growth = (last["rss_mib"] - middle["rss_mib"]) / middle["rss_mib"]
        first_keys = max(r["table_keys"] for r in series[: len(series) // 2])
        second_keys = max(r["table_keys"] for r in series[len(series) // 2 :])
        # The key gauge is sampled every 5 s: a short (--quick) B1 can have no sample in its first
        # half, and then only RSS can be judged.
        bounded = growth < 0.05 and (first_keys == 0 or second_keys <= first_keys * 1.1)
    return {
        "issue15": issue15_targets(results),
        "R1": {"target": ">= 0.5", "met": bool(r["R1"] and r["R1"] >= 0.5)},
        "R2_clean": {"target": ">= 1.0", "met": bool(r["R2_clean"] and r["R2_clean"] >= 1.0)},
        "R2_faulty": {"target": "> R2_clean", "met": bool(r["R2_faulty"] and r["R2_clean"] and r["R2_faulty"] > r["R2_clean"])},
        "scaling": {"target": ">= 1.5", "met": bool(r["scaling"] and r["scaling"] >= 1.5)},
        "p99": {"target": "<= 200 ms", "met": bool(p99 is not None and p99 <= 200)},
        "memory": {"target": "over the second half of B1: RSS grows < 5 %, table keys peak no higher than in the first half",
                   "met": bool(bounded), "rss_growth_second_half": round(growth, 4) if growth is not None else None,
                   "table_keys_peak_halves": [first_keys, second_keys]},
    }


def issue15_targets(results: dict) -> dict:
    """Issue 15's targets, from this run's steps (None: the step did not run)."""
    r = results["ratios"]
    b1 = results["steps"].get("B1") or {}
    cpu = (b1.get("cpu") or {}).get("worker_cpu_ms_per_article")
    changelog = (b1.get("changelog") or {}).get("records_per_article")
    p99 = {c["rate"]: c.get("p99") for c in results.get("latency_curve") or []}

    def at_most(value, bound):
        return {"value": value, "met": None if value is None else value <= bound}

    def at_least(value, bound):
        return {"value": value, "met": None if value is None else value >= bound}

    faulty_above = None if not (r["R2_faulty"] and r["R2_clean"]) else r["R2_faulty"] > r["R2_clean"]
    return {
        "B1 CPU ms per article <= 1.0": at_most(cpu, 1.0),
        "B1 changelog records per article <= 1.5": at_most(changelog, 1.5),
        "R1 >= 0.2": at_least(r["R1"], 0.2),
        "R2 clean >= 1.4": at_least(r["R2_clean"], 1.4),
        "R2 faulty > R2 clean": {"value": r["R2_faulty"], "met": faulty_above},
        "p99 at 10/s <= 100 ms": at_most(p99.get(10.0), 100),
        "p99 at 20/s <= 150 ms": at_most(p99.get(20.0), 150),
    }


def metrics_check(results: dict) -> dict:
    """Final /metrics values of the NER-on faulty run, and whether each metric moved."""
    b3 = results["steps"].get("B3_faulty") or {}
    b1 = results["steps"].get("B1") or {}
    final = b3.get("metrics") or {}
    moved = {
        "articles_in": observe.total(final, "newsclean_articles_in_total") > 0,
        "articles_out": observe.total(final, "newsclean_articles_out_total") > 0,
        "dead_lettered": observe.total(final, "newsclean_dead_lettered_total") > 0,
        "paragraphs_removed": {reason: final.get(f"newsclean_paragraphs_removed_total{{reason={reason}}}", 0) > 0
                               for reason in ("repeat", "near_repeat", "boilerplate")},
        "ner_seconds": final.get("newsclean_ner_seconds_count", 0) > 0,
        "consumer_lag": ((b1.get("memory") or {}).get("consumer_lag_peak") or 0) > 0,
        "seen_table_keys": ((b1.get("memory") or {}).get("table_keys_peak") or 0) > 0,
    }
    return {"final_B3_faulty": final, "final_B1": b1.get("metrics"), "moved": moved}


def rerun(args, sizes: dict) -> int:
    results = json.loads(args.output.read_text())
    faulty, clean = feed.build_streams(sizes["messages"], DedupSettings().horizon_days)
    common = {"partitions": PARTITIONS}
    timeout = 120 + len(faulty.messages) / 40
    ner_f, ner_c = faulty.first_copy(sizes["ner_messages"]), clean.first_copy(sizes["ner_messages"])
    plans = {
        "B0": lambda b, t: ks.passthrough(b, "b0", faulty.messages, 1, PARTITIONS, timeout),
        "B0_two_hops": lambda b, t: ks.passthrough(b, "b0x2", faulty.messages, 2, PARTITIONS, timeout),
        "B1": lambda b, t: ks.throughput(b, "b1", faulty.messages, workers=1, ner=False, timeout=timeout, tmp=t, **common),
        "B4": lambda b, t: ks.throughput(b, "b4", faulty.messages, workers=2, ner=False, timeout=timeout, tmp=t, **common),
        "B3_faulty": lambda b, t: ks.throughput(b, "b3f", ner_f.messages, workers=1, ner=True, timeout=300, tmp=t, **common),
        "B3_clean": lambda b, t: ks.throughput(b, "b3c", ner_c.messages, workers=1, ner=True, timeout=300, tmp=t, **common),
    }

    async def go(tmp: Path) -> None:
        async with ks.Broker(args.broker, uuid.uuid4().hex[:8]) as broker:
            for name in args.only:
                await step(results, name, lambda: plans[name](broker, tmp))

    load_before = observe.load()
    tmp = Path(tempfile.mkdtemp(prefix="newsclean-bench-"))
    asyncio.run(go(tmp))
    results["run"].setdefault("rerun", []).append({
        "steps": args.only, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "worker_logs": str(tmp),
        "load_before": load_before, "load_after": observe.load()})
    finish(args, results)
    return 0


def finish(args, results: dict) -> None:
    """Ratios, targets, memory and metrics from the steps; write results.json and the table."""
    results["ratios"] = ratios(results["steps"])
    results["memory"] = {**((results["steps"].get("B1") or {}).get("memory") or {}),
                         "series_B1": (results["steps"].get("B1") or {}).get("memory_series")}
    results["targets"] = targets(results)
    results["metrics"] = metrics_check(results)
    args.output.write_text(json.dumps(results, indent=1, default=str) + "\n")
    report.write_readme(args.readme, results)
    print(report.table(results))
    log(f"wrote {args.output} and the table in {args.readme}")


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for development (about 4 minutes)")
    parser.add_argument("--broker", default="127.0.0.1:9092")
    parser.add_argument("--skip-profile", action="store_true", help="no py-spy runs")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md")
    parser.add_argument("--only", nargs="+", choices=("B0", "B0_two_hops", "B1", "B4", "B3_faulty", "B3_clean"),
                        help="run only these steps again and merge them into the existing --output (e.g. after a step "
                             "was disturbed); the merged steps are listed in run.rerun")
    parser.add_argument("--rewrite", action="store_true", help="recompute ratios and targets of --output and rewrite the table")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.only:
        return rerun(args, sizes)
    if args.rewrite:
        finish(args, json.loads(args.output.read_text()))
        return 0

    log("machine and load ...")
    results: dict = {
        "run": {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "mode": "quick" if args.quick else "full",
                "command": "python bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv), "git": git_commit(),
                "load_before": observe.load(), "sizes": sizes},
        "machine": observe.machine(),
        "steps": {},
        "profile": {},
    }
    horizon = DedupSettings().horizon_days
    faulty, clean = feed.build_streams(sizes["messages"], horizon)
    results["stream"] = {
        "origin": faulty.origin, "messages": len(faulty.messages), "valid": faulty.valid,
        "invalid": len(faulty.messages) - faulty.valid, "base_articles": faulty.base_articles, "copies": faulty.copies,
        "spacing_days": faulty.spacing_days, "horizon_days": horizon, "event_days": faulty.spacing_days * faulty.copies,
        "ner_messages": len(faulty.first_copy(sizes["ner_messages"]).messages), "partitions": PARTITIONS,
        "clean_feed": "same stream, bodies = gold kept paragraphs (dev/gold.jsonl)" if "gold missing" not in faulty.origin
        and not faulty.origin.startswith("FALLBACK") else "same stream, bodies = the offline cleaner's kept paragraphs",
    }
    results["method"] = {
        "throughput": ks.__doc__.split("One clock", 1)[1].strip().replace("\n", " "),
        "ner_cache": "B3 runs with the worker's default paragraph cache over the first copy of the stream only (one pass of "
                     "the source articles: the cache hits only on real repeats, e.g. syndicated copies and updates); "
                     "the latency runs, which need more messages than one copy, run with NEWSCLEAN_NER_CACHE_SIZE=0",
        "B2": standalone_ner.__doc__.replace("\n", " "),
        "latency": ks.latency.__doc__.replace("\n", " ") + f" First {WARMUP_S:.0f} s excluded.",
    }
    log(f"stream: {results['stream']}")
    tmp = Path(tempfile.mkdtemp(prefix="newsclean-bench-"))  # worker logs and py-spy stacks stay for a post-mortem
    results["run"]["worker_logs"] = str(tmp)
    asyncio.run(kafka_steps(args, sizes, faulty, clean, results, tmp))
    asyncio.run(ner_steps(faulty, clean, sizes, results))
    if not args.skip_profile:
        log("core stages ...")
        results["profile"]["core_stages"] = profiles.core_stages(faulty)
    results["run"]["load_after"] = observe.load()
    results["run"]["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["run"]["note"] = "2 cores shared with other helpers' test runs: see load_before/load_after"
    finish(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
