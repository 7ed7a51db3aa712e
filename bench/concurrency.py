"""Many runs at once: N concurrent `Agent.run`s against one database (SQLite, or a URL given).

Each run plans two dependent steps, each step calls a tool `steps` times then finishes, and every
model call sleeps `latency` (a simulated model). Checks that no record is lost: every run is
`completed` and has exactly the model calls, tool calls and events of the same run done alone.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import peak_rss_mib, reset_peak_rss, rss_mib, run_worker

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"runs": [2], "steps": 1, "latency_s": 0.001},
    "full": {"runs": [8, 32], "steps": 3, "latency_s": 0.005},
}


def _script(steps: int, latency_s: float) -> Any:
    from agentkit import Plan, PlanStep, ToolCall

    plan = Plan(strategy="Add in two rounds.", steps=[
        PlanStep(id="s1", title="First additions", difficulty="medium"),
        PlanStep(id="s2", title="Second additions", depends_on=["s1"], difficulty="medium"),
    ])

    async def reply(request: Any) -> Any:
        await asyncio.sleep(latency_s)
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "done"
        done = sum(1 for m in request.messages if m["role"] == "tool")
        if done < steps:
            return ToolCall(name="add", arguments={"a": done, "b": 1})
        return ToolCall(name="finish", arguments={"result": f"{done} additions"})

    return reply


def _counts(store: Any) -> dict[str, dict[str, int]]:
    """Rows per run in each record table, counted in the database itself."""
    with store.engine.connect() as conn:
        out: dict[str, dict[str, int]] = {}
        for table in ("model_calls", "tool_calls", "events"):
            for run_id, count in conn.exec_driver_sql(
                f"SELECT run_id, count(*) FROM {table} GROUP BY run_id"
            ):
                out.setdefault(run_id, {})[table] = count
        for run_id, status in conn.exec_driver_sql("SELECT id, status FROM runs"):
            out.setdefault(run_id, {})["completed"] = int(status == "completed")
    return out


async def measure(runs: int, *, steps: int, latency_s: float,
                  db: str | None = None) -> dict[str, Any]:
    """`runs` concurrent runs on `db` (a URL or path; a new SQLite file when None)."""
    from agentkit import Agent, Budget, FunctionModel, Tool
    from bench._frameworks import GOAL, add

    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        db = db or str(Path(tmp) / "runs.db")
        agent = Agent(FunctionModel(_script(steps, latency_s)), tools=[Tool(add)], db=db,
                      workspace=tmp, budget=Budget(max_model_calls=50, max_tool_calls=50))
        await agent.run(GOAL)  # warm-up: LiteLLM's import and first-call caches
        started = time.perf_counter()
        solo = await agent.run(GOAL)  # the reference: the same run, alone
        solo_wall = time.perf_counter() - started
        expected = _counts(agent.store)[solo.run_id]
        gc.collect()
        base = rss_mib()
        reset_peak_rss()
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(agent.run(GOAL) for _ in range(runs)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = peak_rss_mib()
        counts = _counts(agent.store)
        backend = agent.store.dialect.name
        agent.store.close()
    ids = [r.run_id for r in results]
    mismatched = [i for i in ids if counts.get(i) != expected]
    return {
        "runs": runs, "database": backend, "steps_per_subtask": steps,
        "latency_ms": latency_s * 1000,
        "wall_s": wall, "cpu_s": cpu, "solo_wall_s": solo_wall,
        "runs_per_minute": runs / wall * 60, "solo_runs_per_minute": 60 / solo_wall,
        "rss_per_run_mib": max(0.0, peak - base) / runs, "peak_rss_mib": peak,
        "expected_per_run": expected, "statuses": sorted({r.status for r in results}),
        "runs_checked": len(ids), "runs_with_lost_records": len(mismatched),
        "rows": {t: sum(counts[i].get(t, 0) for i in ids)
                 for t in ("model_calls", "tool_calls", "events")},
    }


def run(size: str = "full", db: str | None = None) -> dict[str, Any]:
    """The benchmark at `size`, on `db` (a database URL) or on a new SQLite file per size."""
    spec = SIZES[size]
    rows = [run_worker({"task": "concurrency", "runs": n, "steps": spec["steps"],
                        "latency_s": spec["latency_s"], "db": db}) for n in spec["runs"]]
    where = "PostgreSQL" if rows[0]["database"] == "postgresql" else "one SQLite file"
    table = {
        "title": f"Concurrent runs on {where} ({spec['latency_s'] * 1000:g} ms simulated "
                 f"model latency, 2 subtasks × {spec['steps']} tool calls per run)",
        "columns": ["concurrent runs", "wall s", "runs/minute", "one run alone, runs/minute",
                    "speedup", "CPU s", "RSS growth MiB per run", "records per run "
                    "(model/tool/events)", "all completed", "runs with lost records"],
        "rows": [
            [r["runs"], f"{r['wall_s']:.2f}", f"{r['runs_per_minute']:.0f}",
             f"{r['solo_runs_per_minute']:.0f}",
             f"{r['runs_per_minute'] / r['solo_runs_per_minute']:.1f}×", f"{r['cpu_s']:.2f}",
             f"{r['rss_per_run_mib']:.2f}",
             "/".join(str(r["expected_per_run"][t]) for t in ("model_calls", "tool_calls",
                                                               "events")),
             "yes" if r["statuses"] == ["completed"] else f"no: {r['statuses']}",
             r["runs_with_lost_records"]]
            for r in rows
        ],
    }
    targets = [{"what": f"{r['runs']} concurrent runs: no record lost, all completed",
                "target": "0 lost", "measured": f"{r['runs_with_lost_records']} lost",
                "met": r["runs_with_lost_records"] == 0 and r["statuses"] == ["completed"]}
               for r in rows]
    notes = [
        f"CPU per run at {rows[-1]['runs']} concurrent runs: "
        f"{rows[-1]['cpu_s'] / rows[-1]['runs'] * 1000:.0f} ms.",
    ]
    return {"name": "concurrency", "title": "Many runs at once", "rows": rows, "tables": [table],
            "targets": targets, "notes": notes}
