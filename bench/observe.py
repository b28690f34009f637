"""What the harness watches: the machine, the load on it, a worker's resident memory and its
Prometheus metrics (scraped from /metrics, the endpoint operators use)."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

# The metrics an operator needs to see move during a run (README "Operating").
WATCHED = (
    "newsclean_articles_in_total",
    "newsclean_articles_out_total",
    "newsclean_dead_lettered_total",
    "newsclean_paragraphs_removed_total",
    "newsclean_ner_seconds_count",
    "newsclean_ner_seconds_sum",
    "newsclean_consumer_lag",
    "newsclean_seen_table_keys",
)


def machine() -> dict:
    from streams.dev.kafka_jars import KAFKA_VERSION

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import aiokafka
    import faust
    import spacy

    return {
        "cpu": cpu,
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "kafka": KAFKA_VERSION,
        "java": _java_version(),
        "faust_streaming": faust.__version__,
        "aiokafka": aiokafka.__version__,
        "spacy": spacy.__version__,
    }


def _java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=20)
        return (done.stderr or done.stdout).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def load() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"load_1m": round(one, 2), "load_5m": round(five, 2), "load_15m": round(fifteen, 2),
            "cpu_percent_1s": psutil.cpu_percent(interval=1.0)}


def scrape(port: int, timeout: float = 2.0) -> dict[str, float]:
    """Samples of /metrics as {"name{label=value,...}": value} (newsclean_* only)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith("newsclean_") or sample.name.endswith("_created"):
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def total(samples: dict[str, float], name: str) -> float:
    """Sum of a metric over its label sets."""
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


@dataclass
class Sampler:
    """Every `every` seconds: each worker's RSS (psutil) and a few metrics from its /metrics."""

    workers: list  # streams.dev.process.WorkerProcess
    every: float = 1.0
    rows: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _run(self) -> None:
        processes: dict[int, psutil.Process] = {}
        while not self._stop.wait(self.every):
            row: dict = {"t": round(time.monotonic() - self._started, 1), "rss_mib": [], "cpu": [], "table_keys": [], "out": [], "lag": []}
            for worker in self.workers:
                try:
                    process = _worker_process(worker, processes)
                    row["rss_mib"].append(round(_family_rss(process) / 2**20, 1))
                    row["cpu"].append(process.cpu_percent(None))  # since the previous sample (the worker process alone)
                except (psutil.Error, AttributeError):
                    row["rss_mib"].append(None)
                    row["cpu"].append(None)
                try:
                    metrics = scrape(worker.port, timeout=0.8)
                    row["table_keys"].append(total(metrics, "newsclean_seen_table_keys"))
                    row["out"].append(total(metrics, "newsclean_articles_out_total"))
                    row["lag"].append(total(metrics, "newsclean_consumer_lag"))
                except OSError:
                    row["table_keys"].append(None)
                    row["out"].append(None)
                    row["lag"].append(None)
            self.rows.append(row)

    def summary(self) -> dict:
        rss = [sum(x for x in r["rss_mib"] if x) for r in self.rows if any(r["rss_mib"])]
        cpu = [sum(x for x in r["cpu"] if x) for r in self.rows[1:] if any(r["cpu"])]
        keys = [sum(x for x in r["table_keys"] if x is not None) for r in self.rows if r["table_keys"]]
        lag = [sum(x for x in r["lag"] if x is not None) for r in self.rows if r["lag"]]
        if not rss:
            return {}
        half = rss[len(rss) // 2 :]
        return {
            "samples": len(rss),
            "rss_mib_first": rss[0],
            "rss_mib_peak": max(rss),
            "rss_mib_last": rss[-1],
            "rss_mib_peak_second_half": max(half),
            "table_keys_peak": max(keys) if keys else None,
            "table_keys_last": keys[-1] if keys else None,
            "consumer_lag_peak": max(lag) if lag else None,
            "cpu_percent_mean": round(sum(cpu) / len(cpu), 1) if cpu else None,  # 100 = one core busy
        }

    def series(self, points: int = 40) -> list[dict]:
        """An evenly thinned copy of the rows (totals over workers), for results.json."""
        step = max(1, len(self.rows) // points)
        out = []
        for row in self.rows[::step]:
            out.append({
                "t": row["t"],
                "rss_mib": round(sum(x for x in row["rss_mib"] if x), 1),
                "cpu_percent": round(sum(x for x in row["cpu"] if x), 1),
                "table_keys": sum(x for x in row["table_keys"] if x is not None),
                "articles_out": sum(x for x in row["out"] if x is not None),
            })
        return out


def _family_rss(process: psutil.Process) -> int:
    """RSS of the worker and its children (the NER processes, each with its own model)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return total


def _worker_process(worker, cache: dict[int, psutil.Process]) -> psutil.Process:
    """The Python worker itself: the child of py-spy when the worker runs under it."""
    pid = worker.proc.pid
    if pid not in cache:
        process = psutil.Process(pid)
        children = process.children()
        if process.name().startswith("py-spy"):
            if not children:
                return process  # not launched yet: ask again next time
            process = children[0]
        cache[pid] = process
    return cache[pid]


@dataclass
class CpuMeter:
    """CPU seconds used by the workers (user + system) and by the whole machine between
    `start()` and `stop()`: cost per article, and how busy the other processes kept the cores."""

    workers: list
    _procs: list = field(default_factory=list)
    _start: tuple = ()
    _base: dict = field(default_factory=dict)  # pid -> CPU seconds at `start()`
    _started: bool = False
    result: dict = field(default_factory=dict)

    def _worker_cpu(self) -> float:
        """Workers and their children (the NER processes): CPU used since `start()` by each."""
        total = 0.0
        for process in self._procs:
            try:
                family = [process, *process.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                used = times.user + times.system
                total += used - self._base.setdefault(member.pid, 0.0 if self._started else used)
        return total

    def start(self) -> None:
        cache: dict[int, psutil.Process] = {}
        self._procs = [_worker_process(w, cache) for w in self.workers]
        self._base, self._started = {}, False
        self._worker_cpu()  # records each process's CPU so far as its baseline
        self._started = True  # a process first seen later (a restarted pool) counts from zero
        machine = psutil.cpu_times()
        self._start = (time.monotonic(), 0.0, machine.user + machine.system + machine.nice + machine.irq + machine.softirq)

    def stop(self) -> dict:
        wall0, worker0, machine0 = self._start
        machine = psutil.cpu_times()
        wall = time.monotonic() - wall0
        worker = self._worker_cpu() - worker0
        busy = machine.user + machine.system + machine.nice + machine.irq + machine.softirq - machine0
        cores = psutil.cpu_count()
        self.result = {
            "wall_s": round(wall, 2),
            "worker_cpu_s": round(worker, 2),
            "worker_cores_used": round(worker / wall, 2) if wall else None,
            "machine_busy_cores": round(busy / wall, 2) if wall else None,
            "other_processes_cores": round((busy - worker) / wall, 2) if wall else None,
            "cores": cores,
        }
        return self.result
