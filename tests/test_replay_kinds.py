"""Exact replay of every kind of run, in a fresh process: compacted, forked, approved, parallel,
resumed after a kill. Byte-identical: the same prompts, tool results and event log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, Budget, FunctionModel
from agentkit.store import Store
from agentkit.store.journal import request_key
from tests import replay_kinds
from tests.replay_kinds import KINDS, TOOLS

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONHASHSEED": "12345", "AGENTKIT_ALLOW_MODEL_REQUESTS": "0",
       "PYTHONPATH": str(ROOT)}


def _record(kind: str, db: str, workspace: Path) -> str:
    if kind not in replay_kinds.KILLERS:
        return replay_kinds.record(kind, db, workspace)
    killed = subprocess.run([sys.executable, "-m", "tests.replay_kinds", kind, db,
                             str(workspace)], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    run_id = Store(db).list_runs()[0].id
    resumed = subprocess.run([sys.executable, "-m", "tests.replay_kinds", "resume", kind, db,
                              str(workspace), run_id], cwd=ROOT, env=ENV, capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    return run_id


def _prompts(store: Store, run_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [(request_key(c.role, c.subtask_id, c.request), c.model, c.response)
            for c in store.get_model_calls(run_id)]


def _tool_results(store: Store, run_id: str) -> list[tuple[Any, ...]]:
    return [(c.subtask_id, c.call_id, c.name, c.arguments, c.status, c.result)
            for c in store.get_tool_calls(run_id)]


def _log(store: Store, run_id: str) -> bytes:
    events = [(e.seq, e.kind, e.subtask_id, e.data) for e in store.get_events(run_id)]
    return json.dumps(events, sort_keys=True).encode()


def _is_of_its_kind(kind: str, store: Store, run_id: str) -> None:
    """The recorded run really is of `kind` (else the test would prove nothing)."""
    events = store.get_events(run_id)
    kinds = [e.kind for e in events]
    tools = _tool_results(store, run_id)
    assert store.get_run(run_id).status == "completed"
    if kind == "compacted":
        tiers = {t.split(":")[0] for e in events if e.kind == "context_compacted"
                 for t in e.data["tiers"]}
        assert "summarize" in tiers and any(t.startswith("mask") for t in tiers)
        recalled = [t[5] for t in tools if t[2] == "recall"]
        assert recalled and recalled[0].startswith("Output #m7 of read_record")
        numbers = [r.number for r in store.get_summaries(run_id)]
        assert numbers == list(range(1, len(numbers) + 1)) and numbers  # per run, from 1
        assert any("[context summary #" in json.dumps(c.request)
                   for c in store.get_model_calls(run_id) if c.role == "executor")
    elif kind == "forked":
        assert kinds[0] == "forked" and "strategist" not in {
            c.role for c in store.get_model_calls(run_id)}
    elif kind == "approved":
        given = [e.data["allowed"] for e in events if e.kind == "approval_given"]
        assert given == [True, False]
        assert [t[4] for t in tools if t[2] == "deploy"] == ["ok", "denied"]
    elif kind == "parallel":
        first_call = kinds.index("model_call", kinds.index("subtask_started"))
        assert kinds[first_call - 3:first_call] == ["subtask_started"] * 3
        assert [c.role for c in store.get_model_calls(run_id)].count("thinker") == 3
    else:
        assert "resumed" in kinds
        assert [t[4] for t in tools if t[2] == "append_entry"] == ["error"]  # in doubt


def _replays_byte_identical(db: str, workspace: Path, original: str) -> None:
    store = Store(db)
    files = {p.name: p.read_bytes() for p in workspace.iterdir()}

    done = subprocess.run(
        [sys.executable, "-m", "agentkit.cli", "replay", original, "--db", db, "--json",
         "--tools", str(TOOLS)],
        cwd=ROOT, env=ENV, capture_output=True, text=True,
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["event_log_identical"] is True
    replayed = summary["replay"]
    assert _prompts(store, replayed) == _prompts(store, original)
    assert _tool_results(store, replayed) == _tool_results(store, original)
    assert _log(store, replayed) == _log(store, original)
    assert store.get_run(replayed).answer == store.get_run(original).answer
    assert {p.name: p.read_bytes() for p in workspace.iterdir()} == files  # no tool ran


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_run_replays_byte_identical_in_a_fresh_process(
    kind: str, db: str, workspace: Path
) -> None:
    original = _record(kind, db, workspace)
    _is_of_its_kind(kind, Store(db), original)
    _replays_byte_identical(db, workspace, original)


def test_a_sampling_served_on_resume_counts_against_the_subtask_budget(
    db: str, workspace: Path
) -> None:
    run_id = _record("thinking_killed", db, workspace)
    store = Store(db)

    # Killed after think_parallel's result was recorded: the resumed step was served it, and
    # its 80000 sampled tokens still put the subtask over its budget, as they did before.
    (subtask,) = store.get_subtasks(run_id)
    assert subtask.status == "failed"
    assert subtask.result and "over the subtask budget" in subtask.result
    used = int(subtask.result.split()[1])
    assert used > 80_000 and used > subtask.effort.budget_tokens
    assert [c.role for c in store.get_model_calls(run_id)].count("thinker") == 2  # not redone
    _replays_byte_identical(db, workspace, run_id)


def test_replay_leaves_the_calling_agents_settings_alone(db: str, workspace: Path) -> None:
    original = replay_kinds.record("compacted", db, workspace)
    from agentkit import load_tools

    caller = Agent(FunctionModel(lambda request: "unused"), tools=[load_tools(TOOLS)], db=db,
                   workspace=workspace, budget=Budget(max_tokens=5), roles={"judge": "x/y"})
    before = (caller.model, caller.roles, caller.aliases, caller.budget, caller.max_prompt_tokens,
              caller.max_concurrency)

    replayed = caller.replay_sync(original)

    store = Store(db)
    assert (caller.model, caller.roles, caller.aliases, caller.budget, caller.max_prompt_tokens,
            caller.max_concurrency) == before
    assert _log(store, replayed.run_id) == _log(store, original)  # from the record's settings


async def test_a_served_sampling_never_asks_a_model_again(db: str, workspace: Path) -> None:
    """A record without the sampling's model calls (an older agentkit's): the recount stops
    at the first unrecorded call instead of making it, and the recorded result is served."""
    from agentkit import ToolCall, Toolset
    from agentkit.execution import toolbox
    from agentkit.models import ModelClient
    from agentkit.runtime import RunContext
    from agentkit.store.journal import Journal

    model = FunctionModel(lambda request: pytest.fail("a served sampling asked the model"))
    store = Store(db)
    run_id = store.create_run(goal="g", model=model.model_name, workspace=str(workspace),
                              settings={})
    call = ToolCall(name="think_parallel", arguments={"question": "6 x 7?", "n": 2}, id="c1")
    store.record_tool_call(run_id, subtask_id="t1", call_id="c1", name=call.name,
                           arguments=call.arguments_json(), result="Answer: 42", status="ok",
                           latency_ms=1.0)
    ctx = RunContext(run_id=run_id, goal="g", store=store,
                     models=ModelClient(default=model.model_name), tools=Toolset(),
                     workspace=workspace, budget=Budget(), mode="resume",
                     journal=Journal.for_run(store, run_id))
    tools = toolbox.for_subtask(Toolset(), client=ctx.client, thinking_on=True,
                                tokens_left=lambda: 10_000, context=None)

    result = await ctx.call_tool("t1", call, tools)

    assert (result.status, result.content) == ("ok", "Answer: 42")
    assert model.requests == [] and store.usage(run_id).model_calls == 0
