"""One measurement in a fresh interpreter: `python -m bench._worker '{"task": ..., ...}'`.

A fresh process per configuration keeps imports, caches and peak memory of one framework from
touching another's numbers. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import _frameworks as fw
from bench._util import peak_rss_mib, reset_peak_rss, rss_mib, sqlite_size

RUNNERS = {
    "agentkit-user": fw.agentkit_user_run,
    "agentkit": lambda n, d: fw.agentkit_run(n, d, checkpointer="sqlite"),
    "agentkit-memory": lambda n, d: fw.agentkit_run(n, d, checkpointer="memory"),
    "agentkit-12": lambda n, d: fw.agentkit_run(n, d, subtasks=min(12, n)),
    "langgraph": lambda n, d: fw.langgraph_run(n, d, checkpointer=None),
    "langgraph-sqlite": lambda n, d: fw.langgraph_run(n, d, checkpointer="sqlite"),
    "pydantic-ai": fw.pydantic_ai_run,
    "smolagents": fw.smolagents_run,
}


async def _one(framework: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        gc.collect()
        base = rss_mib()
        reset_peak_rss()
        out = await RUNNERS[framework](n, Path(tmp))
        out["base_rss_mib"], out["peak_rss_mib"] = base, peak_rss_mib()
        if out.get("db"):
            out.update(sqlite_size(out["db"]))
        return out


async def overhead(task: dict[str, Any]) -> dict[str, Any]:
    """One framework at `sizes` (in that order; or one `n`) in this interpreter, after a
    3-step warm-up run (first-call imports and caches): `repeats` runs per size."""
    framework = task["framework"]
    sizes = task.get("sizes") or [task["n"]]
    repeats = task.get("repeats", 1)
    if task.get("warmup", True):
        await _one(framework, 3)
    results = {}
    for n in sizes:
        results[str(n)] = {"runs": [await _one(framework, n) for _ in range(repeats)]}
    return results if task.get("sizes") else results[str(sizes[0])]


async def profile(task: dict[str, Any]) -> dict[str, Any]:
    """cProfile (CPU time) of one run of `framework` at `n` steps, after a warm-up."""
    import cProfile
    import pstats
    import time

    from bench.profiling import summarize

    framework, n = task["framework"], task["n"]
    await _one(framework, 3)
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-") as tmp:
        profiler.enable()
        out = await RUNNERS[framework](n, Path(tmp))
        profiler.disable()
    if task.get("dump"):
        profiler.dump_stats(task["dump"])
    return {"run": out, **summarize(pstats.Stats(profiler), top=task.get("top", 15))}


async def concurrency(task: dict[str, Any]) -> dict[str, Any]:
    from bench.concurrency import batch

    return await batch(task["db"], task["runs"], steps=task["steps"],
                       latency_s=task["latency_s"], barrier=task.get("barrier"),
                       parties=task.get("parties", 1))


async def concurrency_prepare(task: dict[str, Any]) -> dict[str, Any]:
    from bench.concurrency import prepare

    return await prepare(task["db"], steps=task["steps"], latency_s=task["latency_s"])


async def concurrency_count(task: dict[str, Any]) -> dict[str, Any]:
    from agentkit.store import Store
    from bench.concurrency import table_counts

    store = Store(task["db"])
    try:
        return table_counts(store)
    finally:
        store.close()


async def local_model(task: dict[str, Any]) -> dict[str, Any]:
    from bench.local_model import measure

    return await measure(task["max_tokens"], task["repeats"])


TASKS = {"overhead": overhead, "profile": profile, "concurrency": concurrency,
         "concurrency_prepare": concurrency_prepare, "concurrency_count": concurrency_count,
         "local_model": local_model}


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(TASKS[task["task"]](task))


def main() -> None:
    print(json.dumps(run_task(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
