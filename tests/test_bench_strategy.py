"""The strategy benchmark at smoke size: re-planning is what recovers from a world change, and
the scripted strategist plans from its prompt, never from the real world."""

from __future__ import annotations

from agentkit import ModelRequest
from bench import bench_strategy as bs


def test_replanning_recovers_from_a_blocking_change_and_the_plain_loop_does_not() -> None:
    result = bs.run("smoke")
    rows = {(r["world_change"], r["strategy"]): r for r in result["rows"]}
    spec = bs.SIZES["smoke"]
    assert set(rows) == {(c, s) for c in spec["changes"] for s in bs.STRATEGIES}

    # No change, no errors: one plan each, every run reaches the goal.
    for strategy in bs.STRATEGIES:
        calm = rows[("none", strategy)]
        assert calm["successes"] == spec["seeds"] and calm["mean_plan_versions"] == 1, calm

    # A change that blocks the next planned move: both re-planners write a second plan and
    # recover; without re-planning no run does.
    for strategy in ("revise", "replan_loop"):
        row = rows[("blocking", strategy)]
        assert row["changes_made"] == spec["seeds"]
        assert row["mean_plan_versions"] >= 2 and row["successes"] == spec["seeds"], row
    for strategy in ("no_revision", "plain_loop"):
        row = rows[("blocking", strategy)]
        assert row["mean_plan_versions"] == 1 and row["successes"] == 0, row
    c = bs.paired(result["rows"], "revise", "plain_loop")
    assert c["only_a"] == spec["seeds"] and c["only_b"] == 0


def test_the_scripted_strategist_plans_from_the_newest_state_in_its_prompt() -> None:
    start, goal = bs.make_task(0)
    world = bs.World(state=dict(start), goal=goal, changes=[])
    seen = {**start}
    # The prompt shows an old state at t=0 and a newer one at t=3; the real world is elsewhere.
    block = next(b for b in sorted(seen) if bs.is_clear(seen, b) and seen[b] != bs.TABLE)
    newer = {**seen, block: bs.TABLE}
    world.state = dict(goal)
    prompt = (f"Goal: ... Now: State (t=0): {bs.render(seen)}.\n"
              f"- Move ...: done: moved {block} onto table. State (t=3): {bs.render(newer)}.")
    plan = bs.Scripted(world, 0.0, 0).plan(ModelRequest(
        role="strategist", messages=[{"role": "user", "content": prompt}]))
    moves = [tuple(s.title.split(" [")[0].removeprefix("Move ").split(" onto "))
             for s in plan.steps[:-1]]
    assert moves == [tuple(m) for m in bs.solve(newer, goal)]
    assert moves  # the real world is already the goal: a plan read from it would be empty
