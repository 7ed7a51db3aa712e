"""Long horizon: a scripted run of 2,000 sequential model calls, one tool call each.

The strategist plans 12 steps at a time (`Plan.continues`) and extends the plan whenever they are
done; each step takes 12 sequential `work` calls, one per model turn, then `finish` — 13 model
calls a step, about 154 steps over 13 plan windows. Settings are the defaults except the
run-wide limits, which a run this long must raise: `max_model_calls`, and also `max_tokens` and
`max_tool_calls` (the defaults, 200k tokens and 500 tool calls, stop it long before 2,000
calls). CPU per model call is process time (agentkit, LangGraph, SQLite, LiteLLM and the scripted
model itself) over the 100 calls before each mark; the prompt cap is the smallest one the context
manager fitted executor prompts to (the subtask budgets: scripted models have no window).
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, tool
from agentkit.planning.horizon import PlanExtension, archived
from agentkit.schema import MAX_PLAN_STEPS
from agentkit.store import Store

SIZES = {"smoke": 100, "full": 2000}
MARKS = {"smoke": (50, 100), "full": (200, 1000, 2000)}
WINDOW = 100
CALLS_PER_STEP = 12
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None


@tool
def work(n: int) -> str:
    """Do unit `n` of the current step and return its output."""
    return f"unit {n} done: " + " ".join(f"w{(n * k) % 97}" for k in range(30))


class Horizon:
    """The scripted model of one long run; it notes the CPU time at each model call."""

    def __init__(self, calls: int, *, window: int = MAX_PLAN_STEPS) -> None:
        self.steps_total = math.ceil(calls / (CALLS_PER_STEP + 1))
        self.window = window
        self.planned = 0
        self.cpu: list[float] = []
        self.model = FunctionModel(self.reply)

    def _window(self) -> tuple[list[PlanStep], bool]:
        count = min(self.window, self.steps_total - self.planned)
        steps = [
            PlanStep(id=f"s{n}", title=f"Step {n}", expected_calls=CALLS_PER_STEP,
                     instructions=f"Call work {CALLS_PER_STEP} times, n = 1, 2, …, then finish.")
            for n in range(self.planned + 1, self.planned + count + 1)
        ]
        self.planned += count
        return steps, self.planned < self.steps_total

    def reply(self, request: ModelRequest) -> object:
        self.cpu.append(time.process_time())
        if request.role == "strategist":
            steps, more = self._window()
            if request.output_name == "PlanExtension":
                return PlanExtension(steps=steps, continues=more)
            return Plan(strategy="work through the steps in order", steps=steps, continues=more)
        if request.role == "finalizer":
            return "all steps done"
        done = sum(1 for m in request.messages if m["role"] == "assistant" and m.get("tool_calls"))
        if done < CALLS_PER_STEP:
            return ToolCall(name="work", arguments={"n": done + 1})
        # A result of its own per step: a run whose results all repeat is a stall.
        title = request.messages[1]["content"].split("Your subtask (", 1)[1].split(": ", 1)[1]
        return ToolCall(name="finish", arguments={
            "result": f"{done} units done for {title.splitlines()[0]}"})


async def long_run(calls: int, folder: Path, *, window: int = MAX_PLAN_STEPS) -> dict[str, Any]:
    """One long run of about `calls` model calls in `folder`, planned `window` steps at a time;
    what it did and measured."""
    horizon = Horizon(calls, window=window)
    db = folder / "horizon.db"
    budget = Budget(max_model_calls=calls + 100, max_tokens=None, max_tool_calls=None)
    agent = Agent(horizon.model, tools=[work], db=db, workspace=folder, budget=budget)
    started = time.perf_counter()
    result = await agent.run("Work through every step")
    wall = time.perf_counter() - started
    store = Store(str(db))
    versions = store.plan_versions(result.run_id)
    executor = [c for c in store.get_model_calls(result.run_id) if c.role == "executor"]
    latest = versions[-1]
    return {
        "status": result.status, "error": result.error, "model_calls": result.usage.model_calls,
        "tool_calls": result.usage.tool_calls, "steps": horizon.steps_total,
        "done": sum(s.status == "done" for s in result.subtasks),
        "extends": sum(v.trigger == "extend" for v in versions),
        "largest_plan": max(len(v.plan.steps) for v in versions),
        "archived": len(archived(result.subtasks, latest.plan, latest.version)),
        "peak_prompt": max(c.prompt_tokens for c in executor),
        "cap": min(s.effort.budget_tokens for s in result.subtasks),
        "wall_s": round(wall, 1), "cpu": horizon.cpu,
    }


def cpu_per_call(cpu: list[float], mark: int) -> float:
    """Milliseconds of CPU per model call over the `WINDOW` calls before call `mark`."""
    end = min(mark, len(cpu)) - 1
    start = max(0, end - WINDOW)
    return (cpu[end] - cpu[start]) / max(1, end - start) * 1000


def run(size: str = "full") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        out = asyncio.run(long_run(SIZES[size], Path(tmp)))
    cpu = out.pop("cpu")
    marks = {f"cpu_ms_per_call_at_{m}": round(cpu_per_call(cpu, m), 2) for m in MARKS[size]}
    first, last = MARKS[size][0], MARKS[size][-1]
    growth = cpu_per_call(cpu, last) / cpu_per_call(cpu, first)
    row = {**{k: v for k, v in out.items() if k != "error"}, **marks}
    return {
        "name": "bench_horizon",
        "title": f"Long horizon: {SIZES[size]} sequential model calls, one tool call each",
        "rows": [row],
        "targets": [
            {"what": "the run completes", "target": "completed", "measured": out["status"],
             "met": out["status"] == "completed"},
            {"what": f"CPU per model call flat from {first} to {last} calls",
             "target": "≤ 1.25× growth", "measured": f"{growth:.2f}×", "met": growth <= 1.25},
            {"what": "peak executor prompt under its cap", "target": f"≤ {out['cap']} tokens",
             "measured": f"{out['peak_prompt']} tokens", "met": out["peak_prompt"] <= out["cap"]},
        ],
        "notes": [f"error: {out['error']}"] if out["error"] else [],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
