"""Where a worker's time goes, two ways:

- `core_stages`: each step of the per-article path timed on its own, in this process, over one
  copy of the stream (no Kafka): decode, schema validation, parse, dedup, NER, envelope, JSON.
  The worker runs decode+validate+parse twice (route, then clean), so its core cost per article
  is reported with that count.
- `SpiedWorker`: the worker under py-spy (sampling, out of process, CPU-active samples only); the
  collapsed stacks are sorted into the same stages plus Faust/aiokafka/asyncio, split by agent.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import psutil

from streams.dev.process import WorkerProcess

from feed import Stream

# First rule matching a frame, scanning each stack from the leaf up.
STAGES = (
    ("ner: spaCy model", re.compile(r"\((spacy|thinc|numpy)/")),
    ("ner: extractor (plan, recase, tag, merge)", re.compile(r"\((streams/nlp/[a-z_]*\.py|streams/core/entities\.py|streams/core/spans\.py|streams/core/gazetteer\.py)")),
    ("decode: depth scan", re.compile(r"^_check_depth ")),
    ("validate: jsonschema", re.compile(r"\((jsonschema|referencing|rpds)/|^validate \(streams/core/ninjs")),
    ("parse: paragraph split", re.compile(r"\((streams/core/(paragraphs|html_body|nitf|textblocks)\.py|selectolax/|defusedxml/|xml/etree/)")),
    ("decode: JSON", re.compile(r"\(json/|^_reject_duplicate_keys |^decode \(streams/core/ninjs")),
    ("parse: other", re.compile(r"\(streams/core/ninjs\.py")),
    ("dedup", re.compile(r"\(streams/core/(dedup|repeats|boilerplate|fingerprint|normalise)\.py|\(difflib")),
    ("state table + changelog", re.compile(r"TableStore\.|\(faust/tables/")),
    ("envelope", re.compile(r"\(streams/core/envelope\.py")),
    ("metrics", re.compile(r"\(prometheus_client/")),
    ("app glue (orjson dumps, headers, batching)", re.compile(r"\(streams/(worker|kafka)/")),
    ("aiokafka client", re.compile(r"\(aiokafka/")),
    ("Faust/mode runtime", re.compile(r"\((faust|mode)/")),
    ("asyncio loop", re.compile(r"\(asyncio/|\(selectors\.py")),
)
AGENTS = (("route", re.compile(r"\broute \(streams/worker/agents\.py")), ("clean", re.compile(r"\bclean \(streams/worker/agents\.py")),
          ("ner thread", re.compile(r"\benrich \(streams/core/pipeline\.py")),
          ("ner process", re.compile(r"\b(_spans|_init|_ready) \(streams/nlp/pool\.py")),
          ("producer", re.compile(r"\((aiokafka/producer|faust/transport/producer)")))


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


class SpiedWorker(WorkerProcess):
    """A worker started under `py-spy record --format raw`; stopped by signalling the worker so
    py-spy sees its target exit and writes the stacks."""

    def __init__(self, env, log_path: Path) -> None:
        super().__init__(env, log_path)
        self.stacks = log_path.with_suffix(".stacks")

    def start(self) -> SpiedWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [py_spy(), "record", "--format", "raw", "--rate", "100", "--nonblocking", "--subprocesses", "-o", str(self.stacks), "--",
                 sys.executable, "-m", "streams.cli", "worker"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        return self

    def terminate(self, timeout: float = 60.0) -> int:
        if self.proc is None:
            return 0
        try:
            for child in psutil.Process(self.proc.pid).children():
                child.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.proc.returncode


def classify(stacks_path: Path) -> dict:
    """py-spy raw output ("frame;frame;... count", root first) -> samples per stage and agent."""
    by_stage: Counter[str] = Counter()
    by_agent: Counter[tuple[str, str]] = Counter()
    total = 0
    for line in stacks_path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        total += n
        stage = next((name for frame in reversed(frames) for name, rule in STAGES if rule.search(frame)), "other")
        agent = next((name for name, rule in AGENTS for frame in frames if rule.search(frame)), "-")
        by_stage[stage] += n
        by_agent[(agent, stage)] += n
    share = {k: round(100 * v / total, 1) for k, v in by_stage.most_common()} if total else {}
    agents = {f"{a} / {s}": round(100 * v / total, 1) for (a, s), v in by_agent.most_common(20)} if total else {}
    return {"samples": total, "percent_by_stage": share, "percent_by_agent_and_stage": agents}


def core_stages(stream: Stream, articles: int = 300) -> dict:
    """Microseconds per article for each step, best of 3 passes over `articles` valid messages."""
    import orjson

    from streams.core.dedup import deduplicate
    from streams.core.settings import DedupSettings
    from streams.core.envelope import build_envelope
    from streams.core.languages import NER_RAN
    from streams.core.models import MemoryStore
    from streams.core.ninjs import decode, parse_article
    from streams.core.ninjs.versions import check, detect
    from streams.core.paragraphs import select_body, split_body
    from streams.nlp.extractor import load_extractor
    from streams.nlp.settings import NerSettings

    raws = [m.value for m in stream.messages if m.valid][:articles]
    docs = [decode(r) for r in raws]
    parsed = [parse_article(d) for d in docs]
    settings = DedupSettings()

    def dedup_all():
        store = MemoryStore()
        return [deduplicate(a, store, settings) for a in parsed]

    results = dedup_all()
    origin = {"topic": "bench", "partition": 0, "offset": 0}
    now = datetime.now(timezone.utc)
    extractor = load_extractor(NerSettings(cache_size=0, processes=0))  # reads `.nlp`: the model in this process
    items = [(a.headline, [p.text for p in r.kept]) for a, r in zip(parsed, results)]
    extractor.extract_many(items[:10])  # warm-up
    entities = extractor.extract_many(items)
    envelopes = [build_envelope(a, r, e, origin, now, ner=NER_RAN) for a, r, e in zip(parsed, results, entities)]
    n = len(raws)

    def best(fn, passes: int = 3) -> float:
        times = []
        for _ in range(passes):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return round(min(times) / n * 1e6, 1)

    stages = {
        "decode (depth scan + json with duplicate-key hook)": best(lambda: [decode(r) for r in raws]),
        "validate (jsonschema-rs, own version)": best(lambda: [check(d, *detect(d)) for d in docs]),
        "split paragraphs": best(lambda: [split_body(select_body(d["bodies"])["value"], select_body(d["bodies"]).get("contentType"))
                                          for d in docs]),
        "parse_article (validate + split + fields)": best(lambda: [parse_article(d) for d in docs]),
        "deduplicate": best(dedup_all),
        "ner (extract_many, cache off)": best(lambda: extractor.extract_many(items), passes=1),
        "ner model alone (nlp.pipe on the same texts)": best(lambda: list(extractor.nlp.pipe(
            [t for h, ps in items for t in ([h] if h.strip() else []) + [p for p in ps if p.strip()]],
            batch_size=extractor.settings.batch_size)), passes=1),
        "build_envelope": best(lambda: [build_envelope(a, r, e, origin, now, ner=NER_RAN) for a, r, e in zip(parsed, results, entities)]),
        "orjson.dumps envelope": best(lambda: [orjson.dumps(e) for e in envelopes]),
    }
    once = stages["decode (depth scan + json with duplicate-key hook)"] + stages["parse_article (validate + split + fields)"]
    # clean decodes and parses again but skips the schema validation route did (newsclean-checked)
    twice = 2 * once - stages["validate (jsonschema-rs, own version)"]
    worker_no_ner = twice + stages["deduplicate"] + stages["build_envelope"] + stages["orjson.dumps envelope"]
    return {
        "articles": n,
        "us_per_article": stages,
        "worker_core_no_ner_us": round(worker_no_ner, 1),
        "worker_core_no_ner_note": "route decodes + parses (validation included), clean decodes + parses without the "
                                   "schema validation; + dedup + envelope + dumps",
        "decode_and_parse_share_of_core_no_ner": round(twice / worker_no_ner, 3),
    }
