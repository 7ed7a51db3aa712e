"""Plan revision under errors and world changes: a Blocksworld with a checker.

Four blocks, a seeded start and goal stacking, and two agentkit tools, `move(block, dest)` and
`look()`; every tool result shows the state with a clock (`State (t=5): …`, t counting every move
made in the world). A scripted model (`FunctionModel`) plays every role like a competent model
that sometimes errs. It reads only its prompt: the strategist plans from the newest state shown
there (the goal states the start at t=0; later, the executors' reports in the ledger), one step
per move and a last "check the goal" step; with probability p a plan has two moves swapped, and
with probability p each executor action is wrong (an illegal move, or a legal move of the wrong
block or to the wrong place). An executor whose planned move is impossible, or whose check finds
the goal unmet, calls `fail` with what it saw. While the agent works, "someone else" moves
blocks at step boundaries, in one of several ways (below). Success is decided by a checker on
the real final state, never by the agent's own report.

The same scripted model runs four ways: agentkit with revision (default `Budget`,
max_revisions=3), agentkit with `Budget(max_revisions=0)`, a minimal re-planning loop written
here (run the plan's steps in order; on the first failed step, ask the same strategist for a new
plan from what the steps reported, up to 3 times), and a plain loop that follows the first plan
to its end without re-planning. Both loops use agentkit's executor limits (3 steps for a trivial
subtask, 3 tool errors in a row).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    ToolContext,
    ToolRetry,
    tool,
)

BLOCKS = ("A", "B", "C", "D")
TABLE = "table"
State = dict[str, str]  # block -> what it sits on (a block or "table")
Move = tuple[str, str]

# How someone else changes the world: the moves made, each at the first step boundary after
# the agent's k-th move (k = plan length // 2; for the second change, k + 2).
CHANGES: dict[str, tuple[str, ...]] = {
    "none": (),
    "random": ("random",),  # any legal move, picked with no regard to the plan
    "random x2": ("random", "random"),
    "blocking": ("blocking",),  # makes the plan's next move illegal: the executor sees it
    "silent": ("silent",),  # breaks the rest of the plan with its moves still legal
}
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"ps": [0.0], "changes": ["none", "blocking"], "seeds": 3},
    "full": {"ps": [0.0, 0.2], "changes": list(CHANGES), "seeds": 20},
}
# Run databases go to memory-backed /dev/shm when there is one: with a disk, fsyncs of the
# SQLite checkpoints triple the time of a run, and this benchmark is about control flow.
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None
STRATEGIES = {
    "revise": "agentkit, Budget(max_revisions=3) (default)",
    "no_revision": "agentkit, Budget(max_revisions=0)",
    "replan_loop": "re-planning loop: new plan after a failed step, up to 3",
    "plain_loop": "plain loop over the first plan, no re-planning",
}
MAX_REVISIONS = 3  # agentkit's default, and the re-planning loop's
EXECUTOR_STEPS = 3  # agentkit's step limit for a "trivial" subtask; the plain loop uses the same
MAX_TOOL_ERRORS = 3  # as agentkit's executor


# --- the world -------------------------------------------------------------------------------


def is_clear(state: State, block: str) -> bool:
    return all(below != block for below in state.values())


def why_illegal(state: State, block: str, dest: str) -> str | None:
    if block not in state:
        return f"there is no block {block!r}"
    if dest != TABLE and dest not in state:
        return f"there is no block {dest!r}"
    if block == dest:
        return "a block cannot go onto itself"
    if state[block] == dest:
        return f"{block} is already on {dest}"
    if not is_clear(state, block):
        return f"{block} is not clear: {_above(state, block)} is on it"
    if dest != TABLE and not is_clear(state, dest):
        return f"{dest} is not clear: {_above(state, dest)} is on it"
    return None


def _above(state: State, block: str) -> str:
    return next(b for b, below in state.items() if below == block)


def render(state: State) -> str:
    return ", ".join(f"{b} on {state[b]}" for b in sorted(state))


STATE = re.compile(r"State \(t=(\d+)\): ((?:[A-Z] on (?:[A-Z]|table)(?:, )?)+)")


def parse_state(text: str) -> State:
    return dict(re.findall(r"\b([A-Z]) on ([A-Z]|table)\b", text))


def newest_state(text: str) -> State | None:
    """The state with the highest clock among those `text` shows, or None."""
    seen = [(int(t), body) for t, body in STATE.findall(text)]
    return parse_state(max(seen)[1]) if seen else None


def legal_moves(state: State) -> list[Move]:
    return [(b, d) for b in sorted(state) for d in [*sorted(state), TABLE]
            if why_illegal(state, b, d) is None]


def simulate(state: State, moves: list[Move]) -> State | None:
    """The state after `moves`, or None if one of them is illegal."""
    s = dict(state)
    for block, dest in moves:
        if why_illegal(s, block, dest) is not None:
            return None
        s[block] = dest
    return s


def solve(state: State, goal: State) -> list[Move]:
    """A competent Blocksworld plan: put blocks straight into place, else clear them away."""
    s, moves = dict(state), []

    def placed(b: str) -> bool:  # b and everything under it are as in the goal
        while b != TABLE:
            if s[b] != goal[b]:
                return False
            b = s[b]
        return True

    for _ in range(4 * len(s)):
        if s == goal:
            return moves
        todo = [b for b in sorted(s) if is_clear(s, b) and not placed(b)]
        direct = [b for b in todo
                  if goal[b] == TABLE or (is_clear(s, goal[b]) and placed(goal[b]))]
        if direct:
            move = (direct[0], goal[direct[0]])
        else:
            move = next((b, TABLE) for b in todo if s[b] != TABLE)
        moves.append(move)
        s[move[0]] = move[1]
    raise AssertionError(f"no plan from {render(state)} to {render(goal)}")


def random_state(rng: random.Random) -> State:
    order = list(BLOCKS)
    rng.shuffle(order)
    state: State = {}
    tops: list[str] = []
    for b in order:
        if tops and rng.random() < 0.6:
            below = rng.choice(tops)
            tops.remove(below)
        else:
            below = TABLE
        state[b] = below
        tops.append(b)
    return state


def make_task(seed: int) -> tuple[State, State]:
    """A start and a goal whose competent plan has 4 to 6 moves (so a change can hit mid-plan)."""
    rng = random.Random(f"blocks-{seed}")
    while True:
        start, goal = random_state(rng), random_state(rng)
        if 4 <= len(solve(start, goal)) <= 6:
            return start, goal


@dataclass
class World:
    """The real state, the changes someone else makes, and what the run did (for the metrics)."""

    state: State
    goal: State
    changes: list[tuple[int, str]]  # (agent moves after which, kind), in order
    clock: int = 0  # every move made in the world, the agent's and the others'
    moves: int = 0  # the agent's moves
    made: list[str] = field(default_factory=list)  # the changes made, described
    plans_made_before_change: set[str] = field(default_factory=set)
    stale_steps: int = 0
    started_steps: set[str] = field(default_factory=set)
    active_plan: list[tuple[str, Move]] = field(default_factory=list)
    done_steps: set[str] = field(default_factory=set)

    def look(self) -> str:
        return f"State (t={self.clock}): {render(self.state)}."

    def move(self, block: str, dest: str) -> str:
        block, dest = block.strip().upper(), dest.strip()
        dest = TABLE if dest.lower() == TABLE else dest.upper()
        reason = why_illegal(self.state, block, dest)
        if reason is not None:
            raise ToolRetry(f"cannot move {block} onto {dest}: {reason}. {self.look()}")
        self.state[block] = dest
        self.moves += 1
        self.clock += 1
        return f"moved {block} onto {dest}. {self.look()}"

    def solved(self) -> bool:
        return self.state == self.goal

    def step_starts(self, plan_id: str, step_id: str, move: Move | None) -> None:
        """Called when an executor begins a step: the world may change now, between steps."""
        if step_id in self.started_steps:
            return
        self.started_steps.add(step_id)
        if len(self.made) < len(self.changes):
            after, kind = self.changes[len(self.made)]
            if self.moves >= after:
                self._change(kind)
        if self.made and move is not None and plan_id in self.plans_made_before_change:
            self.stale_steps += 1

    def _change(self, kind: str) -> None:
        rest = [m for sid, m in self.active_plan if sid not in self.done_steps]
        legal = legal_moves(self.state)
        blocking, silent = [], []
        for block, dest in legal:
            if rest and (block, dest) == rest[0]:
                continue  # doing the agent's next move for it is no obstacle
            after = {**self.state, block: dest}
            if rest and why_illegal(after, *rest[0]) is not None:
                blocking.append((block, dest))
            elif simulate(after, rest) != self.goal:
                silent.append((block, dest))
        pools = {"random": legal, "blocking": blocking or silent or legal,
                 "silent": silent or blocking or legal}
        rng = random.Random(f"change-{render(self.state)}-{kind}-{len(self.made)}")
        block, dest = rng.choice(pools[kind])
        self.state[block] = dest
        self.clock += 1
        self.made.append(f"someone moved {block} onto {dest}")


def world_tools(world: World) -> list[Any]:
    @tool
    def move(block: str, dest: str) -> str:
        """Move a clear block onto another clear block or onto the table.

        Args:
            block: the block to move, e.g. "A".
            dest: a block letter, or "table".
        """
        return world.move(block, dest)

    @tool
    def look() -> str:
        """Show where every block is."""
        return world.look()

    return [move, look]


# --- the scripted model ----------------------------------------------------------------------

STEP_TITLE = re.compile(r"\[(p\d+)\.(\w+)\]$")


class Scripted:
    """The decisions of a competent model that errs with probability p, for every role. It
    reads only its request; the world is touched only to make its errors (`slip`) and for the
    benchmark's bookkeeping (which plan and step are active)."""

    def __init__(self, world: World, p: float, seed: int) -> None:
        self.world, self.p = world, p
        self.rng = random.Random(f"model-{seed}-{p}")
        self.plans = 0

    def __call__(self, request: ModelRequest) -> object:
        if request.role == "strategist":
            return self.plan(request)
        if request.role == "finalizer":
            return "Done."
        return self.act(request)

    def plan(self, request: ModelRequest) -> Plan:
        """A plan from the newest state the prompt shows (the goal's start, or later reports)."""
        self.plans += 1
        plan_id = f"p{self.plans}"
        text = "\n".join(str(m.get("content") or "") for m in request.messages)
        state = newest_state(text)
        assert state is not None, f"no state in the strategist's prompt: {text[:300]!r}"
        moves = solve(state, self.world.goal)
        if len(moves) >= 2 and self.rng.random() < self.p:  # a planning error: two steps swapped
            i = self.rng.randrange(len(moves) - 1)
            moves[i], moves[i + 1] = moves[i + 1], moves[i]
        steps: list[PlanStep] = []
        for i, (block, dest) in enumerate(moves, start=1):
            steps.append(PlanStep(
                id=f"{plan_id}.{i}", title=f"Move {block} onto {dest} [{plan_id}.{i}]",
                instructions=f"Call move(block={block!r}, dest={dest!r}).",
                success_criteria=f"{block} is on {dest}", difficulty="trivial",
                depends_on=[steps[-1].id] if steps else []))
        steps.append(PlanStep(
            id=f"{plan_id}.check", title=f"Check the goal [{plan_id}.check]",
            instructions="Call look() and compare with the goal.",
            success_criteria="the state is the goal", difficulty="trivial",
            depends_on=[steps[-1].id] if steps else []))
        self.world.active_plan = [(s.id, m) for s, m in zip(steps, moves, strict=False)]
        if not self.world.made:
            self.world.plans_made_before_change.add(plan_id)
        return Plan(strategy=f"From {render(state)}: {len(moves)} moves, then check the goal.",
                    steps=steps)

    def act(self, request: ModelRequest) -> object:
        title = next(m["content"] for m in request.messages if m["role"] == "user")
        title = title.split("Your subtask", 1)[1].split("\n", 1)[0]
        found = STEP_TITLE.search(title)
        assert found, f"no step tag in {title!r}"
        plan_id, step_id = found.group(1), f"{found.group(1)}.{found.group(2)}"
        wanted = re.search(r"Move ([A-Z]) onto ([A-Z]|table)", title)
        move: Move | None = (wanted.group(1), wanted.group(2)) if wanted else None
        self.world.step_starts(plan_id, step_id, move)
        results = [str(m["content"]) for m in request.messages if m["role"] == "tool"]
        last = results[-1] if results else ""
        if move is None:  # the check step: look, then report what it shows
            if not results:
                return ToolCall(name="look", arguments={})
            if parse_state(last.split(": ", 1)[-1]) == self.world.goal:
                self.world.done_steps.add(step_id)
                return ToolCall(name="finish", arguments={"result": f"goal reached. {last}"})
            return ToolCall(name="fail", arguments={"reason": f"goal not reached. {last}"})
        block, dest = move
        if last.startswith(f"moved {block} onto {dest}.") or f"{block} is already on" in last:
            self.world.done_steps.add(step_id)
            return ToolCall(name="finish", arguments={"result": last})
        if last.startswith(f"cannot move {block} onto {dest}:"):  # its own move is impossible
            return ToolCall(name="fail", arguments={"reason": last})
        if self.rng.random() < self.p:
            block, dest = self.slip(move)
        return ToolCall(name="move", arguments={"block": block, "dest": dest})

    def slip(self, wanted: Move) -> Move:
        """A wrong action: half the time an illegal move, else a legal but wrong one."""
        state = self.world.state
        legal = [m for m in legal_moves(state) if m != wanted]
        illegal = [(b, d) for b in sorted(state) for d in [*sorted(state), TABLE]
                   if b != d and why_illegal(state, b, d) is not None]
        pool = illegal if (self.rng.random() < 0.5 or not legal) else legal
        return self.rng.choice(pool)


# --- the four ways to run it -----------------------------------------------------------------


def goal_text(world: World) -> str:
    return f"Stack the blocks so that: {render(world.goal)}. Now: {world.look()}"


async def run_agent(world: World, model: Scripted, max_revisions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        agent = Agent(FunctionModel(model), tools=world_tools(world), db=Path(tmp) / "runs.db",
                      workspace=tmp, budget=Budget(max_revisions=max_revisions,
                                                  merge_below_tokens=0))  # a move a subtask
        result = await agent.run(goal_text(world))
        versions = len(agent.store.plan_versions(result.run_id))
        agent.store.close()
    return {"status": result.status, "error": result.error, "plan_versions": versions,
            "model_calls": result.usage.model_calls, "tool_calls": result.usage.tool_calls}


@dataclass
class StepOutcome:
    ok: bool
    report: str
    model_calls: int = 0
    tool_calls: int = 0


async def run_step(model: Scripted, tools: dict[str, Any], goal: str, number: int,
                   step: PlanStep) -> StepOutcome:
    """One step in a loop of this module: agentkit's executor limits, `finish` and `fail`."""
    ctx = ToolContext(workspace=Path(tempfile.gettempdir()))
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are an executor."},
        {"role": "user", "content": f"Goal of the run: {goal}\n"
                                    f"Your subtask (t{number}): {step.title}\n"
                                    f"{step.instructions}"}]
    out, errors = StepOutcome(ok=False, report=f"not finished within {EXECUTOR_STEPS} steps"), 0
    for _ in range(EXECUTOR_STEPS):
        call = model(ModelRequest(role="executor", messages=messages))
        out.model_calls += 1
        assert isinstance(call, ToolCall)
        if call.name in ("finish", "fail"):
            out.ok = call.name == "finish"
            out.report = str(next(iter(call.arguments.values())))
            return out
        outcome = await tools[call.name].run(call.arguments, ctx)
        out.tool_calls += 1
        errors = errors + 1 if outcome.status != "ok" else 0
        messages += [{"role": "assistant", "content": None},
                     {"role": "tool", "content": outcome.content}]
        if errors >= MAX_TOOL_ERRORS:
            out.report = f"stopped after {errors} tool errors in a row: {outcome.content}"
            return out
    return out


async def run_loop(world: World, model: Scripted, *, replan: bool) -> dict[str, Any]:
    """The same model in a loop of a few lines: the plan's steps in order. With `replan`, the
    first failed step ends the round and the strategist writes a new plan from what the steps
    reported (up to `MAX_REVISIONS` times); without, the loop goes on with the next step."""
    tools = {t.name: t for t in world_tools(world)}
    goal = goal_text(world)
    prompt = f"Goal: {goal}\nTools: move, look"
    reports: list[str] = []
    model_calls = tool_calls = versions = number = 0
    while True:
        plan = model(ModelRequest(role="strategist", messages=[{"role": "user",
                                                                 "content": prompt}]))
        assert isinstance(plan, Plan)
        versions, model_calls = versions + 1, model_calls + 1
        failed = None
        for step in plan.steps:
            number += 1
            out = await run_step(model, tools, goal, number, step)
            model_calls, tool_calls = model_calls + out.model_calls, tool_calls + out.tool_calls
            reports.append(f"- {step.title}: {'done' if out.ok else 'failed'}: {out.report}")
            if not out.ok and replan:
                failed = out.report
                break
        if failed is None or versions > MAX_REVISIONS:
            break
        prompt = (f"Goal: {goal}\nTools: move, look\n\nWhat the steps reported:\n"
                  + "\n".join(reports) + f"\n\nThe plan must change because: {failed}")
    return {"status": "finished", "plan_versions": versions, "model_calls": model_calls,
            "tool_calls": tool_calls}


async def one_run(strategy: str, seed: int, p: float, change: str) -> dict[str, Any]:
    start, goal = make_task(seed)
    k = len(solve(start, goal)) // 2
    world = World(state=dict(start), goal=goal,
                  changes=[(k + 2 * i, kind) for i, kind in enumerate(CHANGES[change])])
    model = Scripted(world, p, seed)
    if strategy in ("plain_loop", "replan_loop"):
        info = await run_loop(world, model, replan=strategy == "replan_loop")
    else:
        info = await run_agent(world, model, MAX_REVISIONS if strategy == "revise" else 0)
    return {**info, "success": world.solved(), "stale_steps": world.stale_steps,
            "changes_made": len(world.made)}


async def _run(size: str) -> list[dict[str, Any]]:
    spec = SIZES[size]
    seeds = range(spec["seeds"])
    rows = []
    for p in spec["ps"]:
        for change in spec["changes"]:
            for strategy, label in STRATEGIES.items():
                started = time.perf_counter()
                runs = [await one_run(strategy, seed, p, change) for seed in seeds]
                rows.append(_row(p, change, strategy, label, runs, started))
    return rows


def _row(p: float, change: str, strategy: str, label: str, runs: list[dict[str, Any]],
         started: float) -> dict[str, Any]:
    n = len(runs)
    wins = sum(r["success"] for r in runs)
    return {
        "p": p, "world_change": change, "strategy": strategy, "how": label, "runs": n,
        "successes": wins, "success_rate": wins / n,
        "stderr": math.sqrt(wins / n * (1 - wins / n) / n),
        "stale_steps": sum(r["stale_steps"] for r in runs),
        "changes_made": sum(r["changes_made"] for r in runs),
        "mean_plan_versions": sum(r["plan_versions"] for r in runs) / n,
        "mean_model_calls": sum(r["model_calls"] for r in runs) / n,
        "agent_end_reasons": _end_reasons(runs),
        "seconds": round(time.perf_counter() - started, 2),
        "outcomes": [bool(r["success"]) for r in runs],
    }


def _end_reasons(runs: list[dict[str, Any]]) -> str:
    """Why agentkit runs that were not `completed` ended, counted by kind."""
    kinds: dict[str, int] = {}
    for r in runs:
        if r["status"] in ("completed", "finished"):
            continue
        error = r.get("error") or ""
        kind = ("revision cap" if "revision cap" in error
                else "plan unusable" if "plan is unusable" in error
                else f"{r['status']}: {error[:60]}")
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())) or "-"


def paired(rows: list[dict[str, Any]], a: str, b: str) -> dict[str, int]:
    """Runs of strategies `a` and `b` on the same seed and condition: who succeeded."""
    by = {(r["p"], r["world_change"], r["strategy"]): r["outcomes"] for r in rows}
    out = {"runs": 0, "a": 0, "b": 0, "only_a": 0, "only_b": 0}
    for (p, change, strategy), outcomes in by.items():
        if strategy != a or (p, change, b) not in by:
            continue
        for x, y in zip(outcomes, by[(p, change, b)], strict=True):
            out["runs"] += 1
            out["a"] += x
            out["b"] += y
            out["only_a"] += x and not y
            out["only_b"] += y and not x
    return out


def _table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": "Success rate (real final state = goal) per error rate p and world change",
        "columns": ["p", "world change", "strategy", "succeeded", "rate ± stderr",
                    "mean plan versions", "mean model calls", "stale steps", "changes made",
                    "agentkit end reasons"],
        "rows": [[r["p"], r["world_change"], r["how"], f"{r['successes']}/{r['runs']}",
                  f"{r['success_rate']:.2f} ± {r['stderr']:.2f}",
                  f"{r['mean_plan_versions']:.2f}", f"{r['mean_model_calls']:.1f}",
                  r["stale_steps"], r["changes_made"], r["agent_end_reasons"]] for r in rows],
    }


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for a, b in (("revise", "replan_loop"), ("revise", "plain_loop"),
                 ("revise", "no_revision")):
        c = paired(rows, a, b)
        out.append(
            f"{STRATEGIES[a]} vs {STRATEGIES[b]}, paired over {c['runs']} runs (same seed, p "
            f"and change): {c['a']} vs {c['b']} successes; only the first succeeded in "
            f"{c['only_a']}, only the second in {c['only_b']}.")
    return out


def run(size: str = "full") -> dict[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: no cost map fetch
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    import litellm  # noqa: F401  (imported once here, so its import is not in the first row)

    rows = asyncio.run(_run(size))
    return {"name": "bench_strategy", "title": "Plan revision vs re-planning and plain loops: "
            "Blocksworld success rate under errors and world changes", "rows": rows,
            "tables": [_table(rows)], "notes": _notes(rows)}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
