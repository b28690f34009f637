"""Worker fixtures for integration tests: unique topics and app id per test, a child process."""

from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from streams.core.models import MemoryStore
from streams.core.settings import PipelineSettings
from streams.dev.process import WorkerProcess
from streams.offline import clean_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class Pipeline:
    """One test's worker configuration and the workers started with it."""

    bootstrap: str
    input_topic: str
    output_topic: str
    dlq_topic: str
    app_id: str
    tmp: Path
    extra: dict[str, str] = field(default_factory=dict)
    workers: list[WorkerProcess] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "NEWSCLEAN_BROKER_URL": f"kafka://{self.bootstrap}",
            "NEWSCLEAN_INPUT_TOPICS": self.input_topic,
            "NEWSCLEAN_OUTPUT_TOPIC": self.output_topic,
            "NEWSCLEAN_DLQ_TOPIC": self.dlq_topic,
            "NEWSCLEAN_APP_ID": self.app_id,
            "NEWSCLEAN_NER_ENABLED": "false",
            "NEWSCLEAN_PARTITIONS": "4",
            **self.extra,
            **overrides,
        }

    async def start_worker(self, timeout: float = 90.0, command: list[str] | None = None, **overrides: str) -> WorkerProcess:
        n = len(self.workers)
        env = {"NEWSCLEAN_DATA_DIR": str(self.tmp / f"worker-{n}"), **self.env(**overrides)}
        worker = WorkerProcess(env, self.tmp / f"worker-{n}.log", command=command).start()
        self.workers.append(worker)
        await asyncio.to_thread(worker.wait_ready, timeout)
        return worker

    async def stop_all(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(w.terminate) for w in self.workers))


def make_pipeline(bootstrap: str, tmp: Path, input_topic: str, output_topic: str, dlq_topic: str) -> Pipeline:
    return Pipeline(bootstrap, input_topic, output_topic, dlq_topic, f"nc-test-{uuid.uuid4().hex[:12]}", tmp)


def example_articles() -> list[bytes]:
    return [line for line in (EXAMPLES / "articles.jsonl").read_bytes().splitlines() if line.strip()]


def comparable(envelope: dict) -> dict:
    """An envelope without what legitimately differs between runs: processing metadata."""
    return {k: v for k, v in envelope.items() if k != "pipeline"}


def by_uri(records: list, decode: Callable = orjson.loads) -> dict[str, dict]:
    return {decode(r.value)["article"]["uri"]: decode(r.value) for r in records}


def offline(raws: list[bytes], tmp_path, extractor=None) -> dict[tuple[str, str], dict]:
    """The offline mode's envelopes for `raws`, by (uri, version), as `comparable`."""
    source = tmp_path / "feed.jsonl"
    source.write_bytes(b"\n".join(raws))
    out = io.BytesIO()
    clean_file(str(source), out, None, PipelineSettings(), extractor=extractor, store=MemoryStore())
    return keyed(orjson.loads(line) for line in out.getvalue().splitlines())


def keyed(envelopes) -> dict[tuple[str, str], dict]:
    return {(e["article"]["uri"], e["article"]["version"]): comparable(e) for e in envelopes}
