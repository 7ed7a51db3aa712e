"""The SIGKILL sweep at smoke size: runs killed at random points resume to completion with every
side effect done exactly once (the full sweep is `python -m bench --only bench_kills`)."""

from __future__ import annotations

import importlib


def test_runs_killed_at_random_points_finish_with_each_side_effect_once() -> None:
    result = importlib.import_module("bench.bench_kills").run("smoke")
    [total] = result["rows"]
    assert total["kills"] >= 1  # at least one worker was really killed mid-run
    assert total["completed"] == total["trials"] == 2
    assert total["repeated_side_effects"] == 0
    assert total["lost_side_effects"] == 0
    assert total["stuck_runs"] == 0 and total["worker_errors"] == 0
    # A kill that left the run unfinished is followed by a resume (a kill can also land just
    # after the run recorded its end: then there is nothing to resume).
    assert any(o["cut_off"] for o in result["outcomes"])
    assert all(o["resumes"] >= 1 for o in result["outcomes"] if o["cut_off"])
