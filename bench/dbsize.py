"""Database size after N tool steps: agentkit's run database (records + LangGraph checkpoints in
one file) vs a raw LangGraph ReAct agent with the same AsyncSqliteSaver, same scripted calls.
Sizes are after a TRUNCATE WAL checkpoint, counting the -wal and -shm files."""

from __future__ import annotations

from typing import Any

from bench._util import run_worker

SIZES = {"smoke": [5], "full": [100, 500, 1000]}
# Requests are stored as deltas of the previous call, so one long subtask grows linearly too.
MAX_SINGLE_SUBTASK = 1000
CONFIGS = {"agentkit": "agentkit, 1 subtask of N steps",
           "agentkit-12": "agentkit, N steps over 12 subtasks",
           "langgraph-sqlite": "LangGraph ReAct + AsyncSqliteSaver"}


def run(size: str = "full") -> dict[str, Any]:
    rows = []
    for n in SIZES[size]:
        for config in CONFIGS:
            if config == "agentkit" and n > MAX_SINGLE_SUBTASK:
                continue
            task = {"task": "overhead", "framework": config, "n": n, "repeats": 1,
                    "warmup": False, "replay": False}
            r = run_worker(task, timeout=900)["runs"][0]
            rows.append({"config": config, "steps": n, "bytes": r["bytes"],
                         "bytes_before_checkpoint": r["bytes_before_checkpoint"],
                         "tool_calls": r["tool_calls"], "cpu_s": r["cpu_s"]})
    by = {(r["config"], r["steps"]): r for r in rows}
    for r in rows:
        r["ratio"] = r["bytes"] / by[("langgraph-sqlite", r["steps"])]["bytes"]
    mib = 2**20

    def cell(config: str, n: int) -> str:
        if (config, n) not in by:
            return f"not run (> {MAX_SINGLE_SUBTASK} steps)"
        return f"{by[(config, n)]['bytes'] / mib:.2f} ({by[(config, n)]['bytes'] / n / 1024:.0f})"

    def ratio(config: str, n: int) -> str:
        return f"{by[(config, n)]['ratio']:.3f}" if (config, n) in by else "–"

    table = {
        "title": "SQLite file size after a WAL checkpoint (MiB; KiB per step in brackets)",
        "columns": ["tool steps", *CONFIGS.values(), "agentkit ÷ LangGraph",
                    "agentkit 12 subtasks ÷ LangGraph"],
        "rows": [
            [n, *[cell(c, n) for c in CONFIGS], ratio("agentkit", n), ratio("agentkit-12", n)]
            for n in SIZES[size]
        ],
    }
    return {"name": "dbsize", "title": "Database size after N tool steps", "rows": rows,
            "tables": [table], "targets": _targets(by), "notes": _notes(rows, SIZES[size])}


def _targets(by: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 8: linear growth and at most 10 MB at 500 steps."""
    return [
        {"what": f"{CONFIGS[config]}: file after 500 steps", "target": "≤ 10 MB",
         "measured": f"{by[(config, 500)]['bytes'] / 1e6:.1f} MB",
         "met": by[(config, 500)]["bytes"] <= 10 * 10**6}
        for config in ("agentkit", "agentkit-12") if (config, 500) in by
    ]


def _notes(rows: list[dict[str, Any]], sizes: list[int]) -> list[str]:
    if len(sizes) < 2:
        return []
    by = {(r["config"], r["steps"]): r["bytes"] for r in rows}
    out = []
    for config in CONFIGS:
        ns = [n for n in sizes if (config, n) in by]
        lo, hi = ns[0], ns[-1]
        out.append(f"{CONFIGS[config]}: from {lo} to {hi} steps ({hi / lo:.0f}× the steps) the "
                   f"file grows {by[(config, hi)] / by[(config, lo)]:.1f}×.")
    return out
