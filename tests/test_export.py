"""`agentkit export`: a recorded run as trajectory lines, read back into the same calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Store, UserError
from agentkit.cli import app
from agentkit.export import SCHEMA, read_trajectories
from tests.scripts import HELLO_GOAL, hello_agent


def _run(db: str, workspace: Path) -> str:
    result = hello_agent(db, workspace).run_sync(HELLO_GOAL)
    assert result.status == "completed", result.error
    return result.run_id


def _export(*args: str) -> str:
    done = CliRunner().invoke(app, ["export", *args])
    assert done.exit_code == 0, done.output
    return done.output


def test_a_run_round_trips_through_its_export(db: str, workspace: Path, tmp_path: Path) -> None:
    run_id = _run(db, workspace)
    out = tmp_path / "run.jsonl"
    # the run, its one plan version, 6 model calls and 4 tool calls
    assert "wrote 12 lines from 1 run(s)" in _export(run_id, "--db", db, "-o", str(out))

    lines = read_trajectories(out)[run_id]
    store = Store(db)
    run = lines[0]
    assert (run["type"], run["schema"], run["goal"], run["status"]) == (
        "run", SCHEMA, HELLO_GOAL, "completed")
    assert run["answer"] == store.get_run(run_id).answer
    # Two work calls: the two `finish` calls are recorded but not counted as tool calls.
    assert run["usage"]["model_calls"] == 6 and run["usage"]["tool_calls"] == 2

    plans = [line for line in lines if line["type"] == "plan"]
    assert [(p["version"], p["plan"]) for p in plans] == [
        (v.version, v.plan.model_dump(mode="json")) for v in store.plan_versions(run_id)]

    calls = [line for line in lines if line["type"] == "model_call"]
    recorded = store.get_model_calls(run_id)
    assert [c["index"] for c in calls] == list(range(len(recorded)))
    rebuilt = [(c["role"], c["model"], c["subtask_id"], c["messages"], c["tools"] or [],
                c["response"]) for c in calls]
    assert rebuilt == [(r.role, r.model, r.subtask_id, r.request["messages"],
                        r.request.get("tools") or [], r.response) for r in recorded]
    assert calls[0]["output_schema"]["title"] == "Plan"  # the strategist's structured answer

    tools = [line for line in lines if line["type"] == "tool_call"]
    assert [(t["name"], t["status"], t["result"]) for t in tools] == [
        (t.name, t.status, t.result) for t in store.get_tool_calls(run_id)]
    # Each tool result answers a call that a model response asked for, by the same id and name.
    asked = {(c["subtask_id"], tc["id"], tc["function"]["name"], tc["function"]["arguments"])
             for c in calls for tc in (c["response"] or {}).get("tool_calls") or []}
    assert all((t["subtask_id"], t["call_id"], t["name"], t["arguments"]) in asked
               for t in tools)


def test_chat_format_is_one_fine_tuning_example_per_call(db: str, workspace: Path) -> None:
    run_id = _run(db, workspace)
    examples = [json.loads(text) for text in
                _export(run_id, "--db", db, "--format", "chat").splitlines()]
    recorded = Store(db).get_model_calls(run_id)
    assert len(examples) == len(recorded) == 6
    for example, call in zip(examples, recorded, strict=True):
        assert example["messages"] == [*call.request["messages"], call.response]
        assert example["messages"][-1]["role"] == "assistant"
        assert example.get("tools") == (call.request.get("tools") or None)
        assert (example["run_id"], example["role"]) == (run_id, call.role)


def test_export_all_filters_by_status(db: str, workspace: Path) -> None:
    done = _run(db, workspace)
    store = Store(db)
    failed = store.create_run(goal="never ran", model="m", workspace=str(workspace), settings={})
    store.finish_run(failed, "failed", answer=None, error="boom")

    def exported(*args: str) -> list[str]:
        text = _export("--all", "--db", db, *args)
        return [json.loads(t)["run_id"] for t in text.splitlines() if '"type": "run"' in t]

    assert sorted(exported()) == sorted([done, failed])
    assert exported("--status", "completed") == [done]
    assert exported("--status", "failed") == [failed]


@pytest.mark.parametrize(("args", "message"), [
    ([], "give one run id, or --all"),
    (["RUN", "--all"], "give one run id, or --all"),
    (["RUN", "--format", "csv"], "export format 'csv' is not one of jsonl, chat"),
])
def test_bad_export_arguments_name_the_fix(db: str, args: list[str], message: str) -> None:
    done = CliRunner().invoke(app, ["export", *args, "--db", db])
    assert done.exit_code == 2
    assert message in done.output


def test_reading_a_file_that_is_not_an_export_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "model_call"}\n')
    with pytest.raises(UserError, match=r"bad.jsonl:1 comes before any 'run' line"):
        read_trajectories(bad)
    bad.write_text(f'{{"type": "run", "schema": "{SCHEMA}", "run_id": "r"}}\nnot json\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2 is not a JSON line"):
        read_trajectories(bad)
