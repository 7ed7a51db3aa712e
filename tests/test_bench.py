"""Every benchmark runs at its tiny size, so none of them can rot, and what each one measures
is checked where a number can be wrong: call counts, the timers inside the run, the fit, the
interleaving, the report keeping what it did not rerun. Timing targets live in
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


def test_overhead_measures_every_configuration_inside_the_run(in_process: None) -> None:
    from bench import overhead

    result = overhead.run("smoke")
    rows = {(r["config"], r["steps"]): r for r in result["rows"]}
    configs = [c for c in overhead.CONFIGS
               if c not in overhead.PEERS or _frameworks.peer_available(c)]
    assert set(rows) == {(c, n) for c in configs for n in (4, 8)}
    assert all(r["tool_body_calls"] == r["steps"] for r in rows.values())
    # The user path, unpatched: one step of N adds + finish, a strategist and a finalizer call.
    # The instrumented run: the same counts in one subtask.
    for config in ("agentkit-user", "agentkit"):
        for n in (4, 8):
            row = rows[(config, n)]
            assert (row["model_calls"], row["recorded_tool_calls"]) == (n + 3, n + 1), row
            # Timed inside the run: the timer saw every model call the run recorded, and
            # LiteLLM's share is within agentkit's wrapper.
            assert row["client_calls"] == row["model_calls"]
            assert 0 < row["fake_ms"] < row["litellm_ms"] <= row["client_ms"]
            assert row["client_ms"] < row["cpu_ms"]["median"]  # one call in flight at a time
    fits = {f["config"]: f for f in result["fits"]}
    assert set(fits) == set(configs)
    pairs = {(r["subject"], r["baseline"], r["steps"]) for r in result["ratios"]}
    assert ("agentkit-user", "langgraph-sqlite", 8) in pairs
    assert [t["what"].rsplit("N = ", 1)[1] for t in result["targets"]] == ["4", "8"]
    # The profile is of the agentkit run: LiteLLM and agentkit's own modules show up.
    packages = {g["package"] for g in result["profile"]["groups"]}
    assert "litellm" in packages and any(p.startswith("agentkit/") for p in packages)
    _check_rendering(result)


def test_the_user_path_spreads_a_long_run_over_planned_windows() -> None:
    script = _frameworks.UserPathScript(500)
    assert len(script.shares) == 50 and max(script.shares) == _frameworks.USER_STEP_CALLS
    # 500 adds, 50 finishes, 5 plan windows of at most 12 steps, one finalizer call.
    assert script.expected() == {"model_calls": 556, "counted_tool_calls": 500,
                                 "recorded_tool_calls": 550, "strategist_calls": 5}


def test_overhead_interleaves_configurations_and_fits_the_marginal_cost() -> None:
    from bench.overhead import fit, schedule

    order = schedule(["A", "B"], 3, [50, 500])
    assert [c for _, c, _ in order] == ["A", "B", "B", "A", "A", "B"]
    assert [sizes[0] for _, _, sizes in order] == [50, 500, 50, 500, 50, 500]
    intercept, slope = fit([(50, 300 + 50 * 7.5), (200, 300 + 200 * 7.5), (500, 300 + 500 * 7.5)])
    assert intercept == pytest.approx(300) and slope == pytest.approx(7.5)


def test_the_report_keeps_sections_it_did_not_rerun() -> None:
    earlier = ("# Benchmarks\n\nold header\n\n## Targets\n\n| benchmark | what |\n|---|---|\n"
               "| overhead | old target |\n| bench_horizon | horizon target |\n\n"
               "## Old overhead\n\n*Module `bench/overhead.py`, 9 s.* stale numbers\n\n"
               "## Long horizon\n\n*Module `bench/bench_horizon.py`, 24 s.* 2016 calls\n\n"
               "## Notes by hand\n\nwritten by someone\n")
    fresh = {"name": "overhead", "module": "overhead", "title": "Overhead now", "seconds": 1.0,
             "tables": [{"title": "", "columns": ["x"], "rows": [["1"]]}], "notes": ["new"]}
    meta = {"machine": bench._util.machine(), "command": "python -m bench --only overhead",
            "size": "full", "date": "today", "load_before": (2.0, 0, 0),
            "load_after": (2.0, 0, 0), "seconds": 1.0}
    text = report.markdown([fresh], meta, earlier)
    assert "stale numbers" not in text and "## Overhead now" in text
    assert text.count("2016 calls") == 1 and text.count("written by someone") == 1
    assert text.count(report.KEPT) == 2 and "other processes shared" in text
    # In the earlier order; the kept benchmark's target row stays, the rerun one's is replaced.
    assert text.index("## Overhead now") < text.index("## Long horizon")
    assert "horizon target" in text and "old target" not in text
    # Written again, the kept sections stay once each, marked once each.
    again = report.markdown([fresh], meta, text)
    assert again.count("2016 calls") == 1 and again.count(report.KEPT) == 2


def test_vote_matches_theory_and_correlated_errors_take_the_gain_away() -> None:
    from bench import bench_vote

    result = bench_vote.run("smoke")
    assert all(t["met"] for t in result["targets"])  # |z| ≤ 3 against the closed form
    assert all(abs(r["z"]) <= 3 and abs(r["z_correlated"]) <= 3 for r in result["rows"])
    one, five = (next(r for r in result["rows"] if r["n"] == n) for n in (1, 5))
    assert one["independent"] == one["correlated"]  # sample 0 is the same draw in both
    assert five["independent"] > one["independent"]  # voting helps with independent errors
    assert five["correlated"] == one["correlated"]  # ρ = 1: every sample agrees, no gain
    _check_rendering(result)


def test_noisy_labels_move_labels_one_rung_off() -> None:
    from bench import bench_budgets

    plan = bench_budgets.make_task(3, hard=False)
    noisy = bench_budgets.mislabel(plan, 1.0, plan.strategy)
    assert all(a.difficulty != b.difficulty for a, b in zip(plan.steps, noisy.steps, strict=True))
    assert bench_budgets.mislabel(plan, 0.0, plan.strategy) == plan


@pytest.mark.both_stores
def test_concurrency_counts_every_table_against_the_reference_run(
        in_process: None, db: str, backend: str) -> None:
    result = importlib.import_module("bench.concurrency").run("smoke", db=db)
    (row,) = result["rows"]
    assert row["database"] == backend
    assert row["completed"] == row["runs"] == 2 and row["locked_errors"] == 0
    per_run = row["per_run"]
    # strategist + 2 subtasks × (1 add + finish) + finalizer; tool calls include finish.
    assert per_run["model_calls"] == 6 and per_run["tool_calls"] == 4
    # Every table is counted, LangGraph's checkpoints too, and none is off.
    assert {"runs", "events", "model_calls", "tool_calls", "checkpoints"} <= set(row["rows"])
    assert row["tables_off"] == {} and all(t["met"] for t in result["targets"])
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


# These have their own smoke tests with their assertions (tests/test_bench_context.py,
# tests/test_kill_sweep.py, tests/test_small_goals.py, tests/test_bench_strategy.py, above).
OWN_TESTS = ["bench_context", "bench_kills", "bench_small_goals", "bench_strategy", "bench_vote"]


@pytest.mark.parametrize("name", [n for n in discover() if n not in [*CORE, *OWN_TESTS]])
def test_other_benchmarks_run_at_smoke_size(name: str) -> None:
    result = importlib.import_module(f"bench.{name}").run("smoke")
    assert result["name"] and result["title"] and result["rows"]
    assert report.tables(result)
