"""The whole graph, driven by a scripted model through LiteLLM, checked in the database."""

from __future__ import annotations

from pathlib import Path

from agentkit import FunctionModel, ModelRequest
from agentkit.store import Store
from tests.scripts import hello_agent, hello_primes


async def test_run_is_planned_executed_and_recorded(db: str, workspace: Path) -> None:
    model = FunctionModel(hello_primes)
    agent = hello_agent(db, workspace, model)

    result = await agent.run("Create hello.py that prints the first 10 primes, then run it")

    assert result.status == "completed", result.error
    assert (workspace / "hello.py").is_file()
    assert result.answer == "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    store = Store(db)
    assert [v.version for v in store.plan_versions(result.run_id)] == [1]
    subtasks = store.get_subtasks(result.run_id)
    assert [(s.id, s.step_id, s.status) for s in subtasks] == [("t1", "s1", "done"),
                                                               ("t2", "s2", "done")]
    assert subtasks[1].depends_on == ["t1"]
    tools = store.get_tool_calls(result.run_id)
    assert [(t.name, t.status) for t in tools] == [
        ("write_file", "ok"), ("finish", "ok"), ("run_shell", "ok"), ("finish", "ok")]
    assert "exit code 0" in tools[2].result
    calls = store.get_model_calls(result.run_id)
    assert [c.role for c in calls] == ["strategist"] + ["executor"] * 4 + ["finalizer"]
    assert all(c.model == model.model_name for c in calls)
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in calls)
    assert calls[0].request["output_schema"]["title"] == "Plan"
    usage = store.usage(result.run_id)
    assert usage.model_calls == 6 and usage.tool_calls == 2  # the two `finish` calls not counted
    assert result.usage == usage
    kinds = [e.kind for e in store.get_events(result.run_id)]
    assert kinds[0] == "calibrated" and kinds[-1] == "run_finished"
    assert store.get_run(result.run_id).status == "completed"


async def test_executor_sees_the_request_it_is_given(db: str, workspace: Path) -> None:
    model = FunctionModel(hello_primes)
    agent = hello_agent(db, workspace, model)
    await agent.run("Create hello.py that prints the first 10 primes, then run it")

    executor = [r for r in model.requests if r.role == "executor"]
    assert {"write_file", "run_shell", "finish"} <= set(executor[0].tool_names)
    strategist = next(r for r in model.requests if r.role == "strategist")
    assert strategist.output_schema is not None and strategist.tools is None


def test_run_sync_returns_the_same_result_shape(db: str, workspace: Path) -> None:
    agent = hello_agent(db, workspace)
    result = agent.run_sync("Create hello.py that prints the first 10 primes, then run it")
    assert result.status == "completed"
    assert result.plan is not None and [s.id for s in result.plan.steps] == ["s1", "s2"]


async def test_requests_are_stored_as_deltas_and_read_back_whole(db: str, workspace: Path) -> None:
    import copy

    sent: list[list[dict]] = []

    def snapshot(request: ModelRequest) -> object:
        sent.append(copy.deepcopy(request.messages))  # the executor keeps appending to its list
        return hello_primes(request)

    agent = hello_agent(db, workspace, FunctionModel(snapshot))
    result = await agent.run("Create hello.py that prints the first 10 primes, then run it")

    store = Store(db)
    calls = store.get_model_calls(result.run_id)
    def plain(value: object) -> object:  # LiteLLM drops `content: None` on the way out
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    assert [plain(c.request["messages"]) for c in calls] == plain(sent)  # whole again
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT prefix_id, prefix_len, request FROM model_calls ORDER BY id").all()
    second_step = rows[2]  # t1's second executor call continues its first
    assert second_step[0] == calls[1].id and second_step[1] == len(sent[1])
    import json

    assert len(json.loads(second_step[2])["messages"]) == len(sent[2]) - len(sent[1])
