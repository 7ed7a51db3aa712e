"""The context benchmark at smoke size: its lossy summarizer bites, and agentkit's facts hold."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from bench import report


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return importlib.import_module("bench.bench_context").run("smoke")


def rows(result: dict[str, Any], strategy: str) -> list[dict[str, Any]]:
    return [r for r in result["rows"] if r["strategy"] == strategy]


def test_the_benchmark_reports_every_strategy(result: dict[str, Any]) -> None:
    assert result["name"] and result["title"] and report.tables(result)
    assert {r["strategy"] for r in result["rows"]} == {
        "agentkit", "truncation", "truncation + extraction", "masking"}


def test_a_lossier_summarizer_lowers_the_extraction_baselines_retention(
    result: dict[str, Any]
) -> None:
    mild, lossy = rows(result, "truncation + extraction")
    assert (mild["d"], lossy["d"]) == (0.1, 0.2)
    assert lossy["retention_in_prompt"] < mild["retention_in_prompt"]
    assert lossy["stale_shown_as_current"] + lossy["garbled_shown_as_current"] > 0


def test_agentkit_never_shows_a_stale_or_garbled_value_and_stays_under_its_caps(
    result: dict[str, Any]
) -> None:
    for row in rows(result, "agentkit"):
        assert row["status"] == "completed" and row["executor_calls"] == 62
        assert row["stale_shown_as_current"] == row["garbled_shown_as_current"] == 0
        assert row["newest_result_masked"] == 0
        assert max(row["max_executor_prompt"], row["max_summarizer_prompt"]) <= 6400
        assert row["compaction_calls"] > 0 and row["compactions"] < row["executor_calls"] / 3
        truncation = next(r for r in rows(result, "truncation") if r["d"] == row["d"])
        assert row["retention_reachable"] > truncation["retention_in_prompt"]
