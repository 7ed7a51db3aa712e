"""Token estimates and effort routing, over generated tasks run by scripted models.

Each task is a seeded plan of 2-3 chained steps: *easy* tasks have trivial/easy steps, *hard*
tasks medium/hard ones. The executor's work is a number of `work` tool calls that grows with the
difficulty, each returning 20-300 words. Two scripted tiers play the executors:

- `fast` (priced $0.15 per million tokens) succeeds with probability 1.0 / 0.8 / 0.3 / 0.0 on
  trivial / easy / medium / hard work; when it fails it never calls `finish` (step limit);
- `strong` ($3 per million) always succeeds; it also plays the default model (medium work, the
  strategist and the finalizer).

Both spend completion tokens for reasoning by the request's `reasoning_effort` (none 0, low 50,
medium 300, high 800). Runs: **calibrated** (agentkit's calibration: trivial/easy on `fast`,
medium on the default model, hard on `strong`, escalation to `strong` after a failure), with the
strategist's difficulty labels exact, or **noisy**: each label moved one rung up or down (seeded,
at the ladder's ends inwards) with probability 0.3, while the work and the fast tier's success
follow the true difficulty; and **fixed** (every subtask at the hard effort: `strong`, 12 steps,
high reasoning) — the fixed-effort baseline. The prices and the fast tier's success rates are
this benchmark's parameters: the savings scale with them. LiteLLM prices no scripted model, so
cost is computed here from the recorded tokens of each call and the tier's price.

Estimate accuracy is actual ÷ estimated tokens per subtask over the calibrated runs (failed
attempts included): the estimate is an upper bound at the step limit, so ratios well under 1 are
expected; overflow is the share of subtasks that spent more than their estimate.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    Reply,
    ToolCall,
    tool,
)
from agentkit.planning import calibration, decomposer
from agentkit.store import Store

SIZES = {"smoke": 2, "full": 20}  # tasks per class
LABEL_NOISE = 0.3  # the share of difficulty labels one rung off in the noisy runs
CONFIGS = {"calibrated": 0.0, "calibrated, noisy labels": LABEL_NOISE, "fixed": 0.0}
PRICE_PER_TOKEN = {"fast": 0.15e-6, "strong": 3e-6}
FAST_SUCCESS = {"trivial": 1.0, "easy": 0.8, "medium": 0.3, "hard": 0.0}
WORK_CALLS = {"trivial": 1, "easy": 2, "medium": 3, "hard": 5}
REASONING_TOKENS = {None: 0, "low": 50, "medium": 300, "high": 800}
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
         "lambda", "mu"]


def make_task(seed: int, hard: bool) -> Plan:
    rng = random.Random(seed)
    levels = ["medium", "hard"] if hard else ["trivial", "easy"]
    steps = []
    for i in range(rng.randint(2, 3)):
        sentences = " ".join(f"Handle item {rng.choice(WORDS)} {j}."
                             for j in range(rng.randint(1, 4)))
        steps.append(PlanStep(
            id=f"s{i + 1}", title=f"Piece {i + 1} of task {seed}", instructions=sentences,
            difficulty=rng.choice(levels), depends_on=[f"s{i}"] if i else [],
        ))
    return Plan(strategy=f"task {seed}: pieces in order", steps=steps)


def mislabel(plan: Plan, noise: float, seed: str) -> Plan:
    """`plan` as a strategist who misjudges: each label one rung off with probability `noise`."""
    rng = random.Random(f"labels-{seed}")
    steps = []
    for step in plan.steps:
        rung = calibration.LADDER.index(step.difficulty)
        if rng.random() < noise:
            rung += rng.choice((-1, 1)) if 0 < rung < len(calibration.LADDER) - 1 else (
                1 if rung == 0 else -1)
        steps.append(step.model_copy(update={"difficulty": calibration.LADDER[rung]}))
    return plan.model_copy(update={"steps": steps})


def _chance(*parts: object) -> float:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class World:
    """The scripted tiers for one task."""

    def __init__(self, plan: Plan, labelled: Plan | None = None) -> None:
        self.plan = labelled or plan  # what the strategist says
        self.levels = {s.title: s.difficulty for s in plan.steps}  # what the work is
        self.strong = FunctionModel(lambda r: self.reply(r, "strong"))
        self.fast = FunctionModel(lambda r: self.reply(r, "fast"))
        self.tiers = {self.strong.model_name: "strong", self.fast.model_name: "fast"}

    def reply(self, request: ModelRequest, tier: str) -> object:
        if request.role == "strategist":
            return self.plan
        if request.role == "finalizer":
            return "done"
        content = request.messages[1]["content"]
        sid, title = content.split("Your subtask (", 1)[1].split("\n", 1)[0].split("): ", 1)
        level = self.levels[title.split(" (part ")[0].split("; then ")[0]]
        attempt = sum(1 for m in request.messages if m["role"] == "assistant")
        reasoning = REASONING_TOKENS[request.reasoning_effort]
        if tier == "fast" and _chance(self.plan.strategy, sid) >= FAST_SUCCESS[level]:
            return Reply(text="", completion_tokens=reasoning + 5)  # stuck: never finishes
        done = sum(1 for m in request.messages if m["role"] == "tool")
        if done < WORK_CALLS[level]:
            call = ToolCall(name="work", arguments={"item": f"{sid}-{attempt}"})
        else:
            call = ToolCall(name="finish", arguments={"result": f"{title} done"})
        return Reply(tool_calls=[call], completion_tokens=reasoning + 30)


@tool
def work(item: str) -> str:
    """Do one unit of work on `item` and return its output."""
    rng = random.Random(item)
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 300)))


@contextmanager
def _fixed_effort() -> Iterator[None]:
    def hard(difficulty: Any, budget: Budget, *, failures: int = 0) -> Any:
        return calibration.effort_for("hard", budget)

    with mock.patch.object(decomposer, "effort_for", hard):
        yield


async def _run(plan: Plan, folder: Path, name: str, noise: float = 0.0) -> dict[str, Any]:
    labelled = mislabel(plan, noise, plan.strategy) if noise else plan
    world = World(plan, labelled)
    agent = Agent(world.strong, tools=[work], db=folder / f"{name}.db", workspace=folder,
                  aliases={"fast": world.fast, "strong": world.strong})
    result = await agent.run(plan.strategy)
    store = Store(str(folder / f"{name}.db"))
    calls = store.get_model_calls(result.run_id)
    cost = 0.0
    spent: dict[str, int] = {}
    for c in calls:
        tokens = c.prompt_tokens + c.completion_tokens
        cost += tokens * PRICE_PER_TOKEN[world.tiers[c.model]]
        if c.subtask_id:
            spent[c.subtask_id] = spent.get(c.subtask_id, 0) + tokens
    ratios = [spent.get(s.id, 0) / s.estimated_tokens for s in result.subtasks
              if s.status in ("done", "failed") and s.estimated_tokens]
    wrong = sum(a.difficulty != b.difficulty
                for a, b in zip(plan.steps, labelled.steps, strict=True))
    return {"ok": result.status == "completed", "tokens": result.usage.total_tokens,
            "cost": cost, "ratios": ratios, "mislabelled": wrong, "steps": len(plan.steps)}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _all(size: str) -> dict[str, Any]:
    n = SIZES[size]
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        folder = Path(tmp)
        for config, noise in CONFIGS.items():
            for cls in ("easy", "hard"):
                runs = []
                for i in range(n):
                    plan = make_task(1000 * (cls == "hard") + i, hard=cls == "hard")
                    name = f"{config.replace(', ', '-').replace(' ', '-')}-{cls}-{i}"
                    if config == "fixed":
                        with _fixed_effort():
                            runs.append(await _run(plan, folder, name))
                    else:
                        runs.append(await _run(plan, folder, name, noise))
                out[(config, cls)] = runs
    return out


def run(size: str = "full") -> dict[str, Any]:
    results = asyncio.run(_all(size))
    rows: list[dict[str, Any]] = []
    for (config, cls), runs in results.items():
        rows.append({
            "table": "routing", "config": config, "tasks": cls, "n": len(runs),
            "success": sum(r["ok"] for r in runs) / len(runs),
            "tokens_per_task": sum(r["tokens"] for r in runs) / len(runs),
            "cost_usd_per_task": round(sum(r["cost"] for r in runs) / len(runs), 6),
            "labels_off": f"{sum(r['mislabelled'] for r in runs)}/{sum(r['steps'] for r in runs)}",
        })
    ratios = [x for runs in (results[("calibrated", "easy")], results[("calibrated", "hard")])
              for r in runs for x in r["ratios"]]
    rows.append({
        "table": "estimates", "config": "calibrated", "tasks": "all", "n": len(ratios),
        "actual_over_estimate_median": round(_quantile(ratios, 0.5), 3),
        "actual_over_estimate_p90": round(_quantile(ratios, 0.9), 3),
        "overflow_rate": round(sum(x > 1 for x in ratios) / max(1, len(ratios)), 3),
    })
    return {
        "name": "bench_budgets",
        "title": "Token estimates and effort routing (scripted tiers)",
        "rows": rows,
        "notes": _notes(rows, SIZES[size]),
    }


def _notes(rows: list[dict[str, Any]], n: int) -> list[str]:
    cost = {(r["config"], r["tasks"]): r["cost_usd_per_task"] for r in rows
            if r["table"] == "routing"}
    out = [f"{n} generated tasks per class; prices fast $0.15/M, strong $3/M tokens (set here: "
           "LiteLLM prices no scripted model); 'n' in the estimates row counts subtasks."]
    for cls in ("easy", "hard"):
        fixed = cost[("fixed", cls)] or float("nan")
        out.append(f"{cls} tasks: calibrated cost {cost[('calibrated', cls)] / fixed:.2f}× the "
                   f"fixed effort's with exact labels, "
                   f"{cost[('calibrated, noisy labels', cls)] / fixed:.2f}× with noisy labels.")
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
