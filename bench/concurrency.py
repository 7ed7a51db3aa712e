"""Many runs at once: N concurrent `Agent.run`s on one database, from one process or several.

Each run plans two dependent steps, each step calls a tool `steps` times then finishes, and every
model call sleeps `latency` (a simulated model). A first process makes the database, warms up,
and runs the same run alone (the reference); then `processes` fresh interpreters each warm up on
a scratch database, wait for one another, and run their share of the N runs concurrently
(`asyncio.gather`) on the same database; wall time is from the first start to the last end.
Checked afterwards, in the database itself: the rows of every table against what the runs should
have written (the rows before, plus N times what the reference run added to each table), every
run `completed`, and how many runs failed with SQLite's `database is locked`. PostgreSQL rows
need `AGENTKIT_BENCH_POSTGRES_URL` (or `AGENTKIT_TEST_POSTGRES_URL`); each case gets a new schema
there.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import _util
from bench._util import ROOT, peak_rss_mib, reset_peak_rss, rss_mib, run_worker

SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"cases": [(2, 1)], "steps": 1, "latency_s": 0.001},
    "full": {"cases": [(100, 1), (100, 4)], "steps": 3, "latency_s": 0.005},
}
POSTGRES_ENV = ("AGENTKIT_BENCH_POSTGRES_URL", "AGENTKIT_TEST_POSTGRES_URL")
LOCKED = "database is locked"


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


def _agent(db: str, workspace: str, steps: int, latency_s: float) -> Any:
    from agentkit import Agent, Budget, FunctionModel, Tool
    from bench._frameworks import add

    return Agent(FunctionModel(_script(steps, latency_s)), tools=[Tool(add)], db=db,
                 workspace=workspace, budget=Budget(max_model_calls=50, max_tool_calls=50))


def table_counts(store: Any) -> dict[str, int]:
    """Rows in every table of the database (agentkit's and the checkpointer's)."""
    with store.engine.connect() as conn:
        if store.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        names = sorted(name for (name,) in conn.exec_driver_sql(query))
        return {name: conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one()
                for name in names}


async def prepare(db: str, *, steps: int, latency_s: float) -> dict[str, Any]:
    """Make the database, warm up, then one reference run alone: table rows before and after."""
    from bench._frameworks import GOAL

    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        agent = _agent(db, tmp, steps, latency_s)
        await agent.run(GOAL)  # warm-up: LiteLLM's import and first-call caches
        before = table_counts(agent.store)
        started = time.perf_counter()
        solo = await agent.run(GOAL)
        solo_wall = time.perf_counter() - started
        after = table_counts(agent.store)
        backend = agent.store.dialect.name
        agent.store.close()
    if solo.status != "completed":
        raise RuntimeError(f"the reference run ended {solo.status!r}: {solo.error}")
    return {"before": before, "after": after, "solo_wall_s": solo_wall, "database": backend}


async def _barrier(folder: str | None, parties: int) -> None:
    """Wait until `parties` processes have reached this point (files in `folder`)."""
    if folder is None:
        return
    (Path(folder) / f"ready-{os.getpid()}").touch()
    while len(list(Path(folder).glob("ready-*"))) < parties:
        await asyncio.sleep(0.05)


async def batch(db: str, runs: int, *, steps: int, latency_s: float,
                barrier: str | None = None, parties: int = 1) -> dict[str, Any]:
    """`runs` concurrent runs on `db`, after a warm-up run on a scratch database and, with
    `barrier`, once all `parties` processes are ready."""
    from bench._frameworks import GOAL

    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        warm = _agent(str(Path(tmp) / "warm-up.db"), tmp, steps, latency_s)
        await warm.run(GOAL)  # LiteLLM's import and first-call caches, not in the numbers
        warm.store.close()
        agent = _agent(db, tmp, steps, latency_s)
        gc.collect()
        base = rss_mib()
        reset_peak_rss()
        await _barrier(barrier, parties)
        started, cpu = time.time(), time.process_time()
        results = await asyncio.gather(*(agent.run(GOAL) for _ in range(runs)),
                                       return_exceptions=True)
        ended, cpu = time.time(), time.process_time() - cpu
        agent.store.close()
    errors = [f"{type(r).__name__}: {r}" if isinstance(r, BaseException) else r.error or ""
              for r in results if isinstance(r, BaseException) or r.status != "completed"]
    return {"started": started, "ended": ended, "cpu_s": cpu,
            "rss_growth_mib": max(0.0, peak_rss_mib() - base),
            "statuses": sorted({"raised" if isinstance(r, BaseException) else r.status
                                for r in results}),
            "completed": sum(not isinstance(r, BaseException) and r.status == "completed"
                             for r in results),
            "locked_errors": sum(LOCKED in e for e in errors), "errors": errors[:3]}


def _spawn(task: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench._worker", json.dumps(task)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "AGENTKIT_ALLOW_MODEL_REQUESTS": "0",
             "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONWARNINGS": "ignore"})


def _batches(db: str, runs: int, processes: int, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs split over `processes` fresh interpreters started together."""
    shares = [runs // processes + (i < runs % processes) for i in range(processes)]
    common = {"task": "concurrency", "db": db, "steps": spec["steps"],
              "latency_s": spec["latency_s"]}
    if processes == 1 or _util.IN_PROCESS:
        return [run_worker({**common, "runs": share}) for share in shares]
    barrier = tempfile.mkdtemp(prefix="agentkit-bench-barrier-")
    procs = [_spawn({**common, "runs": share, "barrier": barrier, "parties": processes})
             for share in shares]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=1800)
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"concurrency worker failed (exit {proc.returncode}):\n"
                               f"{stderr[-2000:]}")
        out.append(json.loads(lines[-1]))
    shutil.rmtree(barrier, ignore_errors=True)
    return out


def case(db: str, runs: int, processes: int, spec: dict[str, Any]) -> dict[str, Any]:
    """One row: prepare `db`, run the batches, count every table."""
    ref = run_worker({"task": "concurrency_prepare", "db": db, "steps": spec["steps"],
                      "latency_s": spec["latency_s"]})
    parts = _batches(db, runs, processes, spec)
    counts = run_worker({"task": "concurrency_count", "db": db})
    per_run = {t: ref["after"][t] - ref["before"].get(t, 0) for t in ref["after"]}
    expected = {t: ref["after"][t] + runs * per_run[t] for t in ref["after"]}
    wall = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    wrong = {t: (counts.get(t), n) for t, n in expected.items() if counts.get(t) != n}
    return {
        "runs": runs, "processes": processes, "database": ref["database"],
        "wall_s": wall, "runs_per_minute": runs / wall * 60,
        "solo_runs_per_minute": 60 / ref["solo_wall_s"],
        "cpu_s": sum(p["cpu_s"] for p in parts),
        "rss_per_run_mib": sum(p["rss_growth_mib"] for p in parts) / runs,
        "completed": sum(p["completed"] for p in parts),
        "statuses": sorted({s for p in parts for s in p["statuses"]}),
        "locked_errors": sum(p["locked_errors"] for p in parts),
        "errors": [e for p in parts for e in p["errors"]][:3],
        "per_run": per_run, "tables": len(expected), "rows": counts,
        "tables_off": wrong,
    }


def _postgres_url() -> str | None:
    return next((os.environ[k] for k in POSTGRES_ENV if os.environ.get(k)), None)


def _new_schema(url: str) -> str:
    """A new schema on the server of `url`, as a URL whose search path starts with it."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _databases(db: str | None, tmp: str) -> list[tuple[str, Any]]:
    """(label, a function making a new database URL or path) per database family."""
    if db is not None:  # the tests: one given database
        return [("given", lambda: db)]
    count = iter(range(1000))
    out: list[tuple[str, Any]] = [("sqlite", lambda: str(Path(tmp) / f"runs-{next(count)}.db"))]
    url = _postgres_url()
    if url:
        out.append(("postgresql", lambda: _new_schema(url)))
    return out


def run(size: str = "full", db: str | None = None) -> dict[str, Any]:
    """The benchmark at `size`, on `db` (a database URL), or on new SQLite files and, when a
    server is configured, new PostgreSQL schemas."""
    spec = SIZES[size]
    rows = []
    notes = [] if db or _postgres_url() else [
        "PostgreSQL not measured: set AGENTKIT_BENCH_POSTGRES_URL to a server's URL."]
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        for _, make in _databases(db, tmp):
            for runs, processes in spec["cases"]:
                rows.append(case(make(), runs, processes, spec))
    from bench._concurrency_report import render

    return render(rows, spec, notes)
