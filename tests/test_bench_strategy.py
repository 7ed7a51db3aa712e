"""The strategy benchmark runs at smoke size, and revision is what makes it pass."""

from __future__ import annotations

from bench import bench_strategy


def test_strategy_benchmark_smoke() -> None:
    result = bench_strategy.run("smoke")

    assert result["title"] and isinstance(result["notes"], str) and result["notes"]
    spec = bench_strategy.SIZES["smoke"]
    rows = {(r["p"], r["world_change"], r["strategy"]): r for r in result["rows"]}
    expected = {(p, True, s) for p in spec["ps"] for s in bench_strategy.STRATEGIES}
    expected |= {(p, False, s) for p in spec["control"] for s in bench_strategy.STRATEGIES}
    assert set(rows) == expected
    for row in result["rows"]:
        assert row["runs"] == spec["seeds"]
        assert 0.0 <= row["success_rate"] <= 1.0
        assert isinstance(row["stale_steps"], int) and row["stale_steps"] >= 0

    # No errors, no change: every strategy reaches the goal and nothing is stale.
    for strategy in bench_strategy.STRATEGIES:
        calm = rows[(0.0, False, strategy)]
        assert calm["success_rate"] == 1.0 and calm["stale_steps"] == 0, calm
    # No errors, the world changes mid-run: only the revising agent recovers (the change is
    # chosen to break the rest of the plan in force), and it runs fewer stale steps, because a
    # blocked step fails and the monitor has it re-planned at once (on even seeds).
    revise, plain = rows[(0.0, True, "revise")], rows[(0.0, True, "plain_loop")]
    assert revise["success_rate"] == 1.0 and revise["mean_plan_versions"] >= 2, revise
    assert rows[(0.0, True, "no_revision")]["success_rate"] < 1.0
    assert plain["success_rate"] < 1.0
    assert revise["changes_injected"] == plain["changes_injected"] == spec["seeds"]
    assert revise["stale_steps"] < plain["stale_steps"], (revise, plain)
