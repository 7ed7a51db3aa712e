"""A run killed with SIGKILL resumes from its checkpoint without redoing finished subtasks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Agent, FunctionModel, UserError, load_tools
from agentkit.cli import app
from agentkit.store import Store
from tests.scripts import hello_agent, hello_primes

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
GOAL = "Create hello.py that prints the first 10 primes, then run it"

CRASHING_RUN = """
import os, signal, sys
from agentkit import Agent, FunctionModel, load_tools
from tests.scripts import hello_primes, subtask_title

def crash_on_second_subtask(request):
    if request.role == "executor" and subtask_title(request) == "Run hello.py":
        os.kill(os.getpid(), signal.SIGKILL)
    return hello_primes(request)

Agent(FunctionModel(crash_on_second_subtask), tools=[load_tools("files"), load_tools("shell")],
      db=sys.argv[1], workspace=sys.argv[2]).run_sync(sys.argv[3])
"""


def _crash(db: str, workspace: Path) -> str:
    done = subprocess.run([sys.executable, "-c", CRASHING_RUN, db, str(workspace), GOAL],
                          cwd=ROOT, capture_output=True, text=True,
                          env={"AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "PATH": "/usr/bin:/bin"})
    assert done.returncode == -9, done.stderr
    runs = Store(db).list_runs()
    assert [r.status for r in runs] == ["running"]
    return runs[0].id


async def test_killed_run_resumes_without_redoing_finished_subtasks(
    db: str, workspace: Path
) -> None:
    run_id = _crash(db, workspace)
    store = Store(db)
    assert [s.status for s in store.get_subtasks(run_id)] == ["done", "running"]

    model = FunctionModel(hello_primes)
    agent = Agent(model, tools=[load_tools("files"), load_tools("shell")], db=db,
                  workspace=workspace)
    result = await agent.resume(run_id)

    assert result.status == "completed"
    assert result.answer == "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    assert "strategist" not in [r.role for r in model.requests]  # the plan was not redone
    writes = [c for c in store.get_tool_calls(run_id) if c.name == "write_file"]
    assert len(writes) == 1  # subtask t1 ran once, before the crash
    assert [(s.id, s.status, s.attempts) for s in store.get_subtasks(run_id)] == [
        ("t1", "done", 1), ("t2", "done", 1)]
    kinds = [e.kind for e in store.get_events(run_id)]
    assert "resumed" in kinds and kinds[-1] == "run_finished"


def test_finished_runs_are_not_resumed(db: str, workspace: Path) -> None:
    agent = hello_agent(db, workspace)
    run_id = agent.run_sync(GOAL).run_id
    with pytest.raises(UserError, match="already ended with status 'completed'"):
        agent.run_sync_resume(run_id)


def test_cli_resume_unknown_run(db: str) -> None:
    result = CliRunner().invoke(app, ["resume", "nope", "--db", db])
    assert result.exit_code == 2 and "no run 'nope'" in result.output


SIDE_EFFECT_RUN = """
import sys
from agentkit import Agent, FunctionModel
from tests.crash_tools import append_line, appender
Agent(FunctionModel(appender), tools=[append_line], db=sys.argv[1],
      workspace=sys.argv[2]).run_sync("append the line once")
"""


@pytest.mark.parametrize("crash_at", ["tool", "after_tool"])
async def test_no_side_effect_is_repeated_after_a_kill(
    db: str, workspace: Path, crash_at: str
) -> None:
    from tests.crash_tools import append_line, appender

    done = subprocess.run(
        [sys.executable, "-c", SIDE_EFFECT_RUN, db, str(workspace)], cwd=ROOT,
        capture_output=True, text=True,
        env={"AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "PATH": "/usr/bin:/bin", "CRASH_AT": crash_at},
    )
    assert done.returncode == -9, done.stderr
    run_id = Store(db).list_runs()[0].id
    assert (workspace / "ledger.txt").read_text() == "entry\n"

    model = FunctionModel(appender)
    result = await Agent(model, tools=[append_line], db=db, workspace=workspace).resume(run_id)

    assert result.status == "completed"
    assert (workspace / "ledger.txt").read_text() == "entry\n"  # not appended a second time
    calls = Store(db).get_tool_calls(run_id)
    appends = [c for c in calls if c.name == "append_line"]
    assert len(appends) == 1
    if crash_at == "tool":  # in flight at the kill: reported in doubt, not repeated
        assert appends[0].status == "error"
        assert "was in flight when the run stopped" in appends[0].result
    else:  # finished before the kill: served from the record, the model asked only once more
        assert appends[0].status == "ok"
        assert [r.role for r in model.requests] == ["executor", "finalizer"]


CRASH_POINT_RUN = """
import sys
from agentkit import Agent, FunctionModel
from tests import crash_points as cp
script, tools = {"fan_out": (cp.fan_out, [cp.append_slow]),
                 "compaction": (cp.audit, [cp.read_record])}[sys.argv[3]]
Agent(FunctionModel(script, name=sys.argv[4]), tools=tools, db=sys.argv[1],
      workspace=sys.argv[2], max_prompt_tokens=2000).run_sync("crash test")
"""


@pytest.mark.parametrize("point", ["fan_out", "compaction"])
async def test_a_run_killed_mid_fan_out_or_mid_compaction_resumes_to_the_same_result(
    tmp_path: Path, new_db: Callable[[], str], backend: str, point: str
) -> None:
    from tests import crash_points as cp

    script, tools = {"fan_out": (cp.fan_out, [cp.append_slow]),
                     "compaction": (cp.audit, [cp.read_record])}[point]
    # The same run without a crash, for comparison.
    calm, calm_db = tmp_path / "calm", new_db()
    calm.mkdir()
    expected = await Agent(FunctionModel(script), tools=tools, db=calm_db,
                           workspace=calm, max_prompt_tokens=2000).run("crash test")
    assert expected.status == "completed"

    db, workspace = new_db(), tmp_path / "ws"
    # Named per variant: a live model from another variant may still hold a shared name.
    name = f"crash-run-{backend}-{point}"
    workspace.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CRASH_POINT_RUN, db, str(workspace), point, name], cwd=ROOT,
        capture_output=True, text=True,
        env={"AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "PATH": "/usr/bin:/bin", "CRASH_AT": point},
    )
    assert done.returncode == -9, done.stderr
    store = Store(db)
    run_id = store.list_runs()[0].id
    calls_before = {c.id for c in store.get_tool_calls(run_id)}

    model = FunctionModel(script, name=name)  # the run's model, as a replay needs it
    result = await Agent(model, tools=tools, db=db, workspace=workspace,
                         max_prompt_tokens=2000).resume(run_id)

    assert result.status == "completed"
    assert result.answer == expected.answer
    names = [c.name for c in store.get_tool_calls(run_id)]
    assert sorted(names) == sorted(c.name for c in Store(calm_db)
                                   .get_tool_calls(expected.run_id))
    new_calls = [c for c in store.get_tool_calls(run_id) if c.id not in calls_before]
    if point == "fan_out":
        assert (workspace / "ledger.txt").read_text() == "c\n"  # the append ran once
        resumed = {r.subtask_id for r in model.requests if r.role == "executor"}
        assert resumed == {result.subtasks[2].id}  # a and b finished before the kill
        assert [c.name for c in new_calls] == ["finish"]
    else:
        assert "summarizer" in [r.role for r in model.requests]  # the cut-off call ran again
        before = [c for c in store.get_tool_calls(run_id) if c.id in calls_before]
        assert before and names.count("read_record") == cp.RECORDS  # none read twice
    # And the killed-and-resumed run replays exactly: kill, resume and all.
    silent = FunctionModel(lambda request: pytest.fail("replay called the model"))
    replayed = await Agent(silent, tools=tools, db=db, workspace=workspace).replay(run_id)
    assert [(e.kind, e.subtask_id, e.data) for e in store.get_events(replayed.run_id)] == [
        (e.kind, e.subtask_id, e.data) for e in store.get_events(run_id)]
    assert [(c.role, c.request, c.response) for c in store.get_model_calls(replayed.run_id)] == [
        (c.role, c.request, c.response) for c in store.get_model_calls(run_id)]
