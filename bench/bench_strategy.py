"""Plan revision under errors and a changing world: a Blocksworld with a checker.

Four blocks, a seeded start and goal stacking, and two agentkit tools, `move(block, dest)` and
`look()`. A scripted model (`FunctionModel`) plays every role like a competent model that
sometimes errs: the strategist plans from what `look()` shows, one step per move and a last
"check the goal" step; with probability p a plan has two moves swapped, and with probability p
each executor action is wrong (an illegal move, or a legal move of the wrong block or to the
wrong place). After k of the agent's moves, "someone else" moves one block, chosen so that the
rest of the plan in force no longer leads to the goal. Success is decided by a checker on the
real world state at the end of the run, never by the agent's own report.

The same scripted model runs three ways: agentkit with revision (default `Budget`,
max_revisions=3), agentkit with `Budget(max_revisions=0)`, and a plain tool loop written here
that follows the first plan to its end, step after step, with the executor's own limits (3 steps,
3 tool errors in a row) and no re-planning.
"""

from __future__ import annotations

import asyncio
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

# Every p runs with the world change; the listed `control` ps also run without it.
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"ps": [0.0, 0.3], "control": [0.0], "seeds": 3},
    "full": {"ps": [0.0, 0.1, 0.2, 0.3], "control": [0.0, 0.1, 0.2, 0.3], "seeds": 20},
}
# Run databases go to memory-backed /dev/shm when there is one: with a disk, fsyncs of the
# SQLite checkpoints triple the time of a run, and this benchmark is about control flow.
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None
STRATEGIES = {
    "revise": "agentkit, Budget(max_revisions=3) (default)",
    "no_revision": "agentkit, Budget(max_revisions=0)",
    "plain_loop": "plain tool loop over the first plan",
}
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


def parse_state(text: str) -> State:
    return dict(re.findall(r"\b([A-Z]) on ([A-Z]|table)\b", text))


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
    """The real state, the injected change, and what the run did (for the metrics)."""

    state: State
    goal: State
    change_after: int | None  # agent moves after which someone else moves a block
    change_kind: str  # "block" (the next planned move becomes illegal) or "undo" (silent)
    moves: int = 0
    changed: bool = False
    change: str = ""
    plans_made_before_change: set[str] = field(default_factory=set)
    stale_steps: int = 0
    started_steps: set[str] = field(default_factory=set)
    active_plan: list[tuple[str, Move]] = field(default_factory=list)
    done_steps: set[str] = field(default_factory=set)

    def look(self) -> str:
        return f"State: {render(self.state)}."

    def move(self, block: str, dest: str) -> str:
        block, dest = block.strip().upper(), dest.strip()
        dest = TABLE if dest.lower() == TABLE else dest.upper()
        reason = why_illegal(self.state, block, dest)
        if reason is not None:
            raise ToolRetry(f"cannot move {block} onto {dest}: {reason}. {self.look()}")
        self.state[block] = dest
        self.moves += 1
        return f"moved {block} onto {dest}. {self.look()}"

    def solved(self) -> bool:
        return self.state == self.goal

    def step_starts(self, plan_id: str, step_id: str, move: Move | None) -> None:
        """Called when an executor begins a step: the world may change now, between steps."""
        if step_id in self.started_steps:
            return
        self.started_steps.add(step_id)
        if (not self.changed and self.change_after is not None
                and self.moves >= self.change_after):
            self._inject_change()
        if self.changed and move is not None and plan_id in self.plans_made_before_change:
            self.stale_steps += 1

    def _inject_change(self) -> None:
        rest = [m for sid, m in self.active_plan if sid not in self.done_steps]
        blocking, silent = [], []
        for block, dest in legal_moves(self.state):
            if rest and (block, dest) == rest[0]:
                continue  # doing the agent's next move for it is no obstacle
            after = {**self.state, block: dest}
            if rest and why_illegal(after, *rest[0]) is not None:
                blocking.append((block, dest))
            elif simulate(after, rest) != self.goal:
                silent.append((block, dest))
        preferred = blocking if self.change_kind == "block" else silent
        choices = preferred or blocking or silent or legal_moves(self.state)
        rng = random.Random(f"change-{render(self.state)}-{self.change_kind}")
        block, dest = rng.choice(choices)
        self.state[block] = dest
        self.changed = True
        self.change = f"someone moved {block} onto {dest}"


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
    """The decisions of a competent model that errs with probability p, for every role."""

    def __init__(self, world: World, p: float, seed: int) -> None:
        self.world, self.p = world, p
        self.rng = random.Random(f"model-{seed}-{p}")
        self.plans = 0

    def __call__(self, request: ModelRequest) -> object:
        if request.role == "strategist":
            return self.plan()
        if request.role == "finalizer":
            return f"Final state: {render(self.world.state)}."
        return self.act(request)

    def plan(self) -> Plan:
        # Looks at the world (as a strategist with a look tool would) and plans from there.
        self.plans += 1
        plan_id = f"p{self.plans}"
        state = parse_state(self.world.look())
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
        if not self.world.changed:
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
        results = [m["content"] for m in request.messages if m["role"] == "tool"]
        if move is None:  # the check step: look, and finish only if the goal is there
            if results and parse_state(results[-1]) == self.world.goal:
                self.world.done_steps.add(step_id)
                return ToolCall(name="finish", arguments={"result": "the goal is reached"})
            return ToolCall(name="look", arguments={})  # looks again: never claims success
        block, dest = move
        if results and (results[-1].startswith(f"moved {block} onto {dest}.")
                        or f"{block} is already on {dest}" in results[-1]):
            self.world.done_steps.add(step_id)
            return ToolCall(name="finish", arguments={"result": f"moved {block} onto {dest}"})
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


# --- the three ways to run it ----------------------------------------------------------------


def goal_text(goal: State) -> str:
    return f"Stack the blocks so that: {render(goal)}."


async def run_agent(world: World, model: Scripted, max_revisions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        agent = Agent(FunctionModel(model), tools=world_tools(world), db=Path(tmp) / "runs.db",
                      workspace=tmp, budget=Budget(max_revisions=max_revisions,
                                                  merge_below_tokens=0))  # a move a subtask
        result = await agent.run(goal_text(world.goal))
        versions = len(agent.store.plan_versions(result.run_id))
        agent.store.close()
    return {"status": result.status, "error": result.error, "plan_versions": versions,
            "model_calls": result.usage.model_calls, "tool_calls": result.usage.tool_calls}


async def run_plain_loop(world: World, model: Scripted) -> dict[str, Any]:
    """The same model in a loop with no monitor: every step of the first plan, in order."""
    tools = {t.name: t for t in world_tools(world)}
    ctx = ToolContext(workspace=Path(tempfile.gettempdir()))
    goal = goal_text(world.goal)
    plan = model(ModelRequest(role="strategist", messages=[
        {"role": "user", "content": f"Goal: {goal}\nTools: move, look"}]))
    assert isinstance(plan, Plan)
    model_calls, tool_calls = 1, 0
    for number, step in enumerate(plan.steps, start=1):
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are an executor."},
            {"role": "user", "content": f"Goal of the run: {goal}\n"
                                        f"Your subtask (t{number}): {step.title}\n"
                                        f"{step.instructions}"}]
        errors = 0
        for _ in range(EXECUTOR_STEPS):
            call = model(ModelRequest(role="executor", messages=messages))
            model_calls += 1
            assert isinstance(call, ToolCall)
            if call.name == "finish":
                break
            outcome = await tools[call.name].run(call.arguments, ctx)
            tool_calls += 1
            errors = errors + 1 if outcome.status != "ok" else 0
            messages += [{"role": "assistant", "content": None},
                         {"role": "tool", "content": outcome.content}]
            if errors >= MAX_TOOL_ERRORS:
                break
        # a failed step is not re-planned: the loop goes on with the next step of the plan
    return {"status": "finished", "plan_versions": 1, "model_calls": model_calls,
            "tool_calls": tool_calls}


async def one_run(strategy: str, seed: int, p: float, change: bool) -> dict[str, Any]:
    start, goal = make_task(seed)
    k = len(solve(start, goal)) // 2
    world = World(state=dict(start), goal=goal, change_after=k if change else None,
                  change_kind="block" if seed % 2 == 0 else "undo")
    model = Scripted(world, p, seed)
    if strategy == "plain_loop":
        info = await run_plain_loop(world, model)
    else:
        info = await run_agent(world, model, 3 if strategy == "revise" else 0)
    return {**info, "success": world.solved(), "stale_steps": world.stale_steps,
            "changed": world.changed, "change": world.change}


async def _run(size: str) -> list[dict[str, Any]]:
    spec = SIZES[size]
    seeds = range(spec["seeds"])
    rows = []
    conditions = [(p, True) for p in spec["ps"]] + [(p, False) for p in spec["control"]]
    for p, change in conditions:
        for strategy, label in STRATEGIES.items():
            started = time.perf_counter()
            runs = [await one_run(strategy, seed, p, change) for seed in seeds]
            n = len(runs)
            rows.append({
                "p": p, "world_change": change, "strategy": strategy, "how": label,
                "runs": n,
                "success_rate": sum(r["success"] for r in runs) / n,
                "stale_steps": sum(r["stale_steps"] for r in runs),
                "stale_steps_per_run": sum(r["stale_steps"] for r in runs) / n,
                "changes_injected": sum(r["changed"] for r in runs),
                "mean_plan_versions": sum(r["plan_versions"] for r in runs) / n,
                "mean_model_calls": sum(r["model_calls"] for r in runs) / n,
                "agent_end_reasons": _end_reasons(runs),
                "seconds": round(time.perf_counter() - started, 2),
            })
    return rows


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


def run(size: str = "full") -> dict[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: no cost map fetch
    if size not in SIZES:
        raise ValueError(f"size {size!r} is unknown; use one of {', '.join(SIZES)}")
    import litellm  # noqa: F401  (imported once here, so its ~10 s are not in the first row)

    rows = asyncio.run(_run(size))
    notes = (
        "This measures agentkit's control flow (a failed subtask -> the monitor -> a revised "
        "plan from the current world), not model quality: every decision comes from a scripted "
        "model with a known error rate p (a plan with two moves swapped, or a wrong executor "
        "action: half illegal moves, half legal moves of the wrong block or to the wrong "
        "place). The strategist reads the world through look() when it plans (agentkit's "
        "strategist has no tools; the scripted one is given that view). World: 4 blocks, "
        "seeded start and goal with 4-6 planned moves; the change comes after "
        "k = plan length // 2 agent moves, at the next step boundary; on even seeds it makes "
        "the next planned move illegal, on odd seeds it silently breaks the rest of the plan "
        "(its moves stay legal; only the final check can notice). Success = the real final "
        "state equals the goal (checked by the benchmark, not by the agent). stale_steps = "
        "move steps of a plan made before the change that were started after it (summed over "
        "runs). Executors fail a step by exhausting agentkit's limits (3 steps for a trivial "
        "subtask, 3 tool errors in a row); the scripted executor does not use agentkit's "
        "fail(reason) action, which would end a hopeless step sooner. The "
        "plain loop uses the same model and the same limits, and goes on after a failed step. "
        "world_change=False rows are the no-change control. Same seeds for every strategy, "
        "so runs are paired; with few seeds the rates are coarse."
    )
    return {"name": "strategy", "title": "Plan revision vs a plain tool loop: Blocksworld "
            "success rate vs error rate p, with a world change mid-run", "rows": rows,
            "notes": notes}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
