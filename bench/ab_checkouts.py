"""CPU per round trip of two agentkit checkouts and raw LangGraph, interleaved, in fresh processes.

    python -m bench.ab_checkouts BEFORE_DIR AFTER_DIR [--steps 50 200] [--repeats 2]

Each repetition runs `before, after, langgraph, langgraph, after, before` (each a new interpreter,
after a warm-up run in it) at each N. The workload: N add calls over 10 chained plan steps
(`expected_calls` N/10 each), default calibration, run budgets raised only so the run is not
stopped, SQLite run database and checkpointer. Prints the median, min and max of each side and
the ratios of the medians. Used to show what a change to agentkit's per-call work bought.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script(n: int, parts: int) -> object:
    from agentkit import Plan, PlanStep
    from bench import _frameworks as fw

    shares = fw.chunks(n, parts)
    plan = Plan(strategy="Call add until told to stop.", steps=[
        PlanStep(id=f"s{i}", title=f"Add numbers, part {i}", difficulty="easy",
                 expected_calls=shares[i - 1], depends_on=[f"s{i - 1}"] if i > 1 else [])
        for i in range(1, parts + 1)])
    real = fw.agentkit_script(n, parts)
    return lambda request: plan if request.role == "strategist" else real(request)


async def _agentkit_cpu(n: int) -> float:
    from bench import _frameworks as fw

    with tempfile.TemporaryDirectory() as d:
        agent = fw.agentkit_agent(n, Path(d), Path(d) / "runs.db", _script(n, 10))
        started = time.process_time()
        result = await agent.run(fw.GOAL)
        cpu = time.process_time() - started
        agent.store.close()
    if result.status != "completed":
        raise RuntimeError(f"run ended {result.status!r}: {result.error}")
    return cpu


async def _langgraph_cpu(n: int) -> float:
    from bench import _frameworks as fw

    with tempfile.TemporaryDirectory() as d:
        return float((await fw.langgraph_run(n, Path(d), checkpointer="sqlite"))["cpu_s"])


def _child(kind: str, n: int) -> None:
    measure = _langgraph_cpu if kind == "langgraph" else _agentkit_cpu
    asyncio.run(measure(10))  # warm-up in this interpreter
    print(json.dumps({"cpu_ms": 1000 * asyncio.run(measure(n)) / n}))


def _one(kind: str, checkout: Path, n: int) -> float:
    env = {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, str(n)],
                          cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["cpu_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?")
    parser.add_argument("after", nargs="?")
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"))
    args = parser.parse_args()
    if args.child:
        return _child(args.child[0], int(args.child[1]))
    sides = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    for n in args.steps:
        got: dict[str, list[float]] = {"before": [], "after": [], "langgraph": []}
        for _ in range(args.repeats):
            for side in ("before", "after", "langgraph", "langgraph", "after", "before"):
                kind = "langgraph" if side == "langgraph" else "agentkit"
                got[side].append(_one(kind, sides.get(side, sides["after"]), n))
        med = {k: statistics.median(v) for k, v in got.items()}
        for k, v in got.items():
            print(f"N={n} {k}: median {med[k]:.2f} ms (min {min(v):.2f}, max {max(v):.2f}, "
                  f"{len(v)} runs)")
        print(f"N={n} after/before {med['after'] / med['before']:.3f}, "
              f"after/langgraph {med['after'] / med['langgraph']:.3f}, "
              f"before/langgraph {med['before'] / med['langgraph']:.3f}")


if __name__ == "__main__":
    main()
