"""Every benchmark runs at its tiny size, so none of them can rot.

Structure only: keys, positive numbers, record counts. Timing targets live in
docs/benchmarks.md, never here.
"""

from __future__ import annotations

import importlib

import pytest

import bench._util
from bench import _frameworks, report
from bench.__main__ import CORE, discover, main

pytestmark = [
    # Peers' own deprecations, raised inside their code when their fakes are driven.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:smolagents.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pydantic_ai.*"),
]


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench._util, "IN_PROCESS", True)


def _check_rendering(result: dict) -> None:
    assert result["tables"] and all(t["rows"] for t in result["tables"])
    result = {**result, "module": result["name"], "seconds": 1.0}
    meta = {"machine": bench._util.machine(), "command": "python -m bench", "size": "smoke",
            "date": "today", "load_before": (0.0, 0.0, 0.0), "load_after": (0.0, 0.0, 0.0),
            "seconds": 1.0}
    text = report.markdown([result], meta)
    assert text.startswith("# Benchmarks") and "| " in text


def test_startup_measures_both_commands_and_litellm() -> None:
    result = importlib.import_module("bench.startup").run("smoke")
    cases = {r["case"]: r for r in result["rows"]}
    assert {'python -c "import agentkit"', "agentkit --help"} <= set(cases)
    assert all(r["median_s"] > 0 for r in result["rows"])
    assert set(result["litellm_imported"]) == {'python -c "import agentkit"', "agentkit --help"}
    assert all(isinstance(v, bool) for v in result["litellm_imported"].values())
    _check_rendering(result)


def test_overhead_runs_every_configuration(in_process: None) -> None:
    result = importlib.import_module("bench.overhead").run("smoke")
    rows = {r["config"]: r for r in result["rows"]}
    expected = {"agentkit", "agentkit-memory", "agentkit-12", "langgraph", "langgraph-sqlite"}
    expected |= {p for p in ("pydantic-ai", "smolagents") if _frameworks.peer_available(p)}
    assert set(rows) == expected
    for row in rows.values():
        assert row["steps"] == 5 and row["tool_calls"] == 5
        assert row["cpu_ms"] > 0 and row["peak_rss_mib"] > 0
    # One subtask: 5 add calls + finish; strategist + 6 executor calls + finalizer.
    # Five subtasks (at most 12, one per step here): each 1 add + finish.
    for config, tools, models in (("agentkit", 6, 8), ("agentkit-memory", 6, 8),
                                  ("agentkit-12", 10, 12)):
        ak = rows[config]
        assert (ak["recorded_tool_calls"], ak["model_calls"]) == (tools, models), config
        assert 0 < ak["fake_model_ms"] < ak["model_client_ms"]
        assert ak["orchestration_ms"] == pytest.approx(
            ak["cpu_ms"] - ak["model_client_ms"] - ak["tool_ms"])
    assert rows["langgraph-sqlite"]["db_bytes"] > 0 and rows["agentkit"]["db_bytes"] > 0
    assert rows["langgraph"]["agentkit_ratio"] > 0
    assert {t["met"] for t in result["targets"]} <= {True, False}
    _check_rendering(result)


@pytest.mark.both_stores
def test_concurrency_loses_no_record(in_process: None, db: str, backend: str) -> None:
    result = importlib.import_module("bench.concurrency").run("smoke", db=db)
    (row,) = result["rows"]
    assert row["database"] == backend
    assert row["runs"] == row["runs_checked"] == 2
    assert row["statuses"] == ["completed"] and row["runs_with_lost_records"] == 0
    per_run = row["expected_per_run"]
    # strategist + 2 subtasks × (1 add + finish) + finalizer; tool calls include finish.
    assert per_run["model_calls"] == 6 and per_run["tool_calls"] == 4
    assert row["rows"] == {t: 2 * per_run[t] for t in ("model_calls", "tool_calls", "events")}
    assert row["runs_per_minute"] > 0 and row["rss_per_run_mib"] >= 0
    assert all(t["met"] for t in result["targets"])
    _check_rendering(result)


def test_dbsize_measures_both_files(in_process: None) -> None:
    result = importlib.import_module("bench.dbsize").run("smoke")
    assert {(r["config"], r["steps"]) for r in result["rows"]} == {
        ("agentkit", 5), ("agentkit-12", 5), ("langgraph-sqlite", 5)}
    assert all(r["bytes"] > 0 and r["tool_calls"] == 5 for r in result["rows"])
    _check_rendering(result)


@pytest.mark.local_model
def test_local_model_compares_agentkit_with_raw_llama(in_process: None) -> None:
    module = importlib.import_module("bench.local_model")
    if module.available() is not None:
        pytest.skip(module.available())
    result = module.run("smoke")
    assert [r["side"] for r in result["rows"]] == ["raw", "agentkit"]
    assert all(r["tokens"] > 0 and r["tokens_per_s"] > 0 for r in result["rows"])
    assert result["ratio"] > 0
    _check_rendering(result)


def test_a_worker_runs_in_a_fresh_interpreter() -> None:
    out = bench._util.run_worker({"task": "overhead", "framework": "langgraph", "n": 2,
                                  "repeats": 1, "warmup": False})
    (run,) = out["runs"]
    assert run["steps"] == 2 and run["tool_calls"] == 2 and run["cpu_s"] > 0


def test_discovery_lists_core_benchmarks_first_and_each_has_run() -> None:
    names = discover()
    assert names[: len(CORE)] == CORE
    for name in names:
        assert callable(importlib.import_module(f"bench.{name}").run)


def test_cli_rejects_an_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "no-such-bench", "--no-write"])
    assert exit_info.value.code == 2
    assert "no-such-bench" in capsys.readouterr().err


# bench_kills and bench_small_goals have their own smoke tests with their assertions
# (tests/test_bench_context.py, tests/test_kill_sweep.py, tests/test_small_goals.py).
OWN_TESTS = ["bench_context", "bench_kills", "bench_small_goals"]


@pytest.mark.parametrize("name", [n for n in discover() if n not in [*CORE, *OWN_TESTS]])
def test_other_benchmarks_run_at_smoke_size(name: str) -> None:
    result = importlib.import_module(f"bench.{name}").run("smoke")
    assert result["name"] and result["title"] and result["rows"]
    assert report.tables(result)
