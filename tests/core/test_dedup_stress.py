"""The synthetic stress set (bench/stress_dedup.py: furniture families with changing slots of
several lengths, tables, content lines sharing one skeleton, follow-ups, republished copies and
background reuse; no evaluation text) as a floor: no content removed, furniture recognised."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from stress_dedup import score, stream  # noqa: E402


@pytest.mark.parametrize("primed", [False, True], ids=["cold", "warm"])
def test_dedup_stress_set_removes_no_content_and_finds_the_furniture(primed):
    result = score(stream(240, seed=5), primed)
    assert all(value.startswith("0/") for value in result["false_removals_by_group"].values()), result
    assert result["precision"] == 1.0
    assert result["recall"] >= (0.99 if primed else 0.97), result
    assert min(result["recall_by_class"].values()) >= (0.95 if primed else 0.9), result
