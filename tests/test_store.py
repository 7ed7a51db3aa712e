"""The store's typed rows, the per-run facade over them, and the protocol `Store` satisfies."""

from __future__ import annotations

import dataclasses

import pytest

from agentkit import Plan, PlanStep, Subtask
from agentkit.store import (
    EventRow,
    MemoryHit,
    ModelCallRow,
    PlanVersion,
    RunRecord,
    RunRow,
    RunStore,
    Store,
    ToolCallRow,
)

pytestmark = pytest.mark.both_stores

PLAN = Plan(strategy="write, then run", steps=[PlanStep(id="s1", title="Write hello.py")])


@pytest.fixture
def store(db: str) -> Store:
    return Store(db)


def _run(store: Store) -> RunRecord:
    run_id = store.create_run(goal="g", model="scripted/x", workspace="/ws",
                              settings={"budget": {"max_tokens": 10}})
    return store.run(run_id)


def test_plan_versions_are_typed_rows_with_trigger_and_reason(store: Store) -> None:
    run = _run(store)
    assert run.plan() is None and run.plans() == []
    assert run.add_plan(PLAN, trigger="initial", reason="first plan") == 1
    revised = PLAN.model_copy(update={"strategy": "run, then write"})
    assert run.add_plan(revised, trigger="failure", reason="s1 failed") == 2

    latest = run.plan()
    assert isinstance(latest, PlanVersion)
    assert (latest.version, latest.plan, latest.trigger, latest.reason) == (
        2, revised, "failure", "s1 failed")
    first = run.plan(1)
    assert first is not None and first.plan == PLAN and first.run_id == run.run_id
    assert [(v.version, v.trigger) for v in run.plans()] == [(1, "initial"), (2, "failure")]
    assert run.plan(3) is None


def test_run_row_carries_settings_as_data_and_resolves_a_prefix(store: Store) -> None:
    run = _run(store)
    run.finish("completed", answer="42")
    row = store.get_run(run.run_id[:5])
    assert isinstance(row, RunRow) and row == run.row()
    assert (row.id, row.status, row.answer, row.error) == (run.run_id, "completed", "42", None)
    assert row.settings == {"budget": {"max_tokens": 10}}
    assert [r.id for r in store.list_runs()] == [run.run_id]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = "failed"  # type: ignore[misc]


def test_records_of_a_run_come_back_typed_through_the_facade(store: Store) -> None:
    run = _run(store)
    run.save_subtasks([Subtask(id="t1", step_id="s1", title="Write", instructions="do it",
                               plan_version=1)])
    request = {"messages": [{"role": "user", "content": "hi"}]}
    run.record_model_call(subtask_id="t1", role="executor", model="scripted/x",
                          request=request, response={"content": "ok"}, error=None,
                          prompt_tokens=3, completion_tokens=1, cost_usd=0.0, latency_ms=1.0,
                          event=("model_call", {"role": "executor"}, "t1"))
    run.record_tool_call(subtask_id="t1", call_id="c1", name="write_file", arguments="{}",
                         result="wrote", status="ok", latency_ms=2.0)
    assert run.add_event("note", {"x": 1}) == 2

    [call] = run.model_calls()
    assert isinstance(call, ModelCallRow)
    assert (call.role, call.request, call.response) == ("executor", request, {"content": "ok"})
    [tool] = run.tool_calls()
    assert isinstance(tool, ToolCallRow) and (tool.name, tool.result) == ("write_file", "wrote")
    assert run.events() == [
        EventRow(seq=1, kind="model_call", subtask_id="t1", data={"role": "executor"}),
        EventRow(seq=2, kind="note", subtask_id=None, data={"x": 1}),
    ]
    assert [s.id for s in run.subtasks()] == ["t1"] and run.subtask("t1").title == "Write"
    usage = run.usage()
    assert (usage.prompt_tokens, usage.model_calls, usage.tool_calls) == (3, 1, 1)


def test_memory_comes_back_as_typed_hits(store: Store) -> None:
    run = _run(store)
    run.set_facts([("river", "Seine")], subtask_id=None, source="test")
    masked = run.add_masked_output(subtask_id=None, call_id="c1", name="read_file",
                                   content="the Seine flows through Paris")
    summary = run.add_summary(subtask_id=None, level=1, first_message=2, last_message=5,
                              merged_ids=[], tokens_before=100, tokens_after=10,
                              model="scripted/x", data="{}", text="read the river notes")

    assert run.facts() == {"river": "Seine"}
    output = run.masked_output(masked)
    assert output is not None and output.content == "the Seine flows through Paris"
    [row] = run.summaries()
    assert (row.id, row.merged_ids, row.tokens_before) == (summary, [], 100)
    for full_text in (None, False):  # FTS5 where SQLite has it, and the LIKE path
        hits = run.search_memory("Seine river", full_text=full_text)
        assert all(isinstance(h, MemoryHit) for h in hits)
        assert {(h.kind, h.ref) for h in hits} == {
            ("fact", "river"), ("masked", str(masked)), ("summary", str(summary))}


def test_each_variant_gets_a_new_database_of_its_family(store: Store, backend: str) -> None:
    # The PostgreSQL variant is PostgreSQL (a fresh schema), not SQLite again.
    assert store.dialect.name == backend
    assert store.list_runs() == []
    assert store.full_text and store.dialect.search == {"sqlite": "fts5",
                                                        "postgresql": "tsvector"}[backend]


def test_store_satisfies_the_run_store_protocol(store: Store) -> None:
    assert isinstance(store, RunStore)
    record = store.run("abc")
    assert record == RunRecord(store=store, run_id="abc")  # made without touching the database
