"""Quality floors on the evaluation sets, scored by their own scorer (trafilatura's eval-gate habit).

The sets are not in this repository (their texts are BBC and Reuters copyright): they are read
from ../shared/eval at run time, where CI and the developers' machines have them. Lowering a
floor is a decision to write down, not a test to loosen quietly."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.core.models import MemoryStore
from streams.core.settings import PipelineSettings
from streams.nlp.extractor import load_extractor
from streams.nlp.settings import NerSettings
from streams.offline import clean_file, prime

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
# A developer without the sets may skip the gate; CI may not: a CI run that skipped it would pass
# without a single quality check.
if not (EVAL / "score.py").exists() and os.environ.get("CI", "").lower() == "true":
    raise RuntimeError(f"CI=true but no evaluation sets at {EVAL}: the quality gate cannot run")
pytestmark = pytest.mark.skipif(not (EVAL / "score.py").exists(), reason=f"no evaluation sets at {EVAL}")

# floors: the targets (dedup) and the measured level less a small margin (NER). Issue
# 12's cold targets (R 0.95, exact 0.92) need the feed-wide evidence of a first-time wire
# tagline (bench/eval_dedup.py measures 0.966 / 0.943 with it); until that stage is merged the
# cold floors are the measured 0.946 / 0.907 less a margin.
DEDUP_COLD = {"precision": 0.99, "recall": 0.95, "exact": 0.92}
DEDUP_WARM = {"precision": 0.99, "recall": 0.99, "exact": 0.97}
NER_F1 = 0.76  # measured 0.784 (bench/README.md, "Entities")


def score(mode: str, gold: Path, output: bytes, tmp_path: Path) -> dict:
    path = tmp_path / f"{mode}.jsonl"
    path.write_bytes(output)
    done = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), mode, "--gold", str(gold), "--output", str(path), "--json"],
        capture_output=True, check=True,
    )
    return json.loads(done.stdout)


def clean(raw: Path, *, primed: bool = False, extractor=None) -> bytes:
    settings, store, out = PipelineSettings(), MemoryStore(), io.BytesIO()
    if primed:
        prime([str(raw)], store, settings)
    clean_file(str(raw), out, None, settings, extractor, store)
    return out.getvalue()


@pytest.mark.parametrize(("primed", "floors"), [(False, DEDUP_COLD), (True, DEDUP_WARM)], ids=["cold", "warm"])
def test_quality_gate_dedup_dev(primed, floors, tmp_path):
    result = score("dedup", EVAL / "dev" / "gold.jsonl", clean(EVAL / "dev" / "raw.jsonl", primed=primed), tmp_path)
    assert result["missing"] == 0 and result["altered"] == 0, result["summary"]
    assert result["removal"]["precision"] >= floors["precision"], result["summary"]
    assert result["removal"]["recall"] >= floors["recall"], result["summary"]
    assert result["exact"]["rate"] >= floors["exact"], result["summary"]
    controls = result["false_removals"]["by_group"]
    assert {group: controls[group]["false_removals"] for group in ("syndicated", "update", "background_reuse")} == {
        "syndicated": 0, "update": 0, "background_reuse": 0,
    }


def test_quality_gate_ner_dev(tmp_path):
    extractor = load_extractor(NerSettings())
    result = score("ner", EVAL / "dev-ner" / "gold.jsonl", clean(EVAL / "dev-ner" / "raw.jsonl", extractor=extractor), tmp_path)
    assert result["offsets"]["errors"] == 0
    assert result["micro"]["f1"] >= NER_F1, result["summary"]


@pytest.mark.parametrize("primed", [False, True], ids=["cold", "warm"])
def test_quality_gate_links_dev(primed, tmp_path):
    # the floor: every syndicated copy linked, no false link (updates, background reuse, the rest)
    result = score("links", EVAL / "dev" / "gold.jsonl", clean(EVAL / "dev" / "raw.jsonl", primed=primed), tmp_path)
    assert result["records_without_field"] == 0, result["summary"]
    assert (result["fn"], result["fp"]) == (0, 0), (result["summary"], result["wrong_links"])
