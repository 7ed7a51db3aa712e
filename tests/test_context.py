"""The context manager: token trigger, masking, summaries, merging, recall, guards."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agentkit import Effort, FunctionModel, ModelRequest, Subtask, ToolCall, Toolset, tool
from agentkit.context import ContextManager, ContextOverflow, Fact, Summary, load_summaries
from agentkit.execution.executor import execute, prompt
from agentkit.execution.toolbox import recall_tool
from agentkit.models import ModelClient, context_window
from agentkit.runtime import RunContext
from agentkit.schema import Budget
from agentkit.store import Store
from agentkit.tools import ToolContext

FACT = re.compile(r"\b(key_\d+) = (\S+)")
FILLER = "The inventory log lists shelves, bins and counts for the warehouse audit. " * 6


def extract_summary(request: ModelRequest) -> Summary:
    """A deterministic summarizer: every `key_N = value` in its input, the latest value kept."""
    text = request.messages[-1]["content"]
    return Summary(goal="audit the records", facts=[Fact(key=k, value=v)
                                                   for k, v in FACT.findall(text)])


def setup(db: str, summarizer: Any = extract_summary, **kwargs: Any) -> tuple[ContextManager,
                                                                             FunctionModel]:
    store = Store(db)
    run_id = store.create_run(goal="g", model="scripted/x", workspace=".", settings={})
    model = FunctionModel(summarizer)
    client = ModelClient(default=model.model_name)
    return ContextManager(store=store, client=client, run_id=run_id, **kwargs), model


def pinned() -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You are an executor."},
            {"role": "user", "content": "Goal: audit.\nPlan:\n1. Read every record\n2. Report"}]


def pair(i: int, output: str, calls: int = 1) -> list[dict[str, Any]]:
    ids = [f"c{i}_{j}" for j in range(calls)]
    assistant = {"role": "assistant", "content": None, "tool_calls": [
        {"id": c, "type": "function",
         "function": {"name": "read_record", "arguments": json.dumps({"n": i})}} for c in ids]}
    return [assistant, *({"role": "tool", "tool_call_id": c, "content": output} for c in ids)]


def conversation(n: int, *, facts: dict[int, str] | None = None, calls: int = 1) -> list[dict]:
    messages = pinned()
    for i in range(n):
        line = (facts or {}).get(i, f"key_{i} = v{i}")
        messages += pair(i, f"{FILLER}\n{line}", calls=calls)
    return messages


def assert_pairs_whole(messages: list[dict[str, Any]]) -> None:
    for i, message in enumerate(messages):
        if message["role"] == "assistant" and message.get("tool_calls"):
            ids = [c["id"] for c in message["tool_calls"]]
            following = [m.get("tool_call_id") for m in messages[i + 1: i + 1 + len(ids)]]
            assert following == ids, (i, ids, following)
        if message["role"] == "tool":
            owner = next(m for m in reversed(messages[:i]) if m["role"] == "assistant")
            assert message["tool_call_id"] in [c["id"] for c in owner["tool_calls"]]


def summaries_in(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if str(m.get("content") or "").startswith(
        "[context summary #")]


async def test_trigger_is_tokens_not_message_count(db: str) -> None:
    context, model = setup(db)
    tiny = pinned() + [{"role": "user" if i % 2 else "assistant", "content": "ok"}
                       for i in range(300)]
    assert await context.fit(tiny, budget_tokens=4000) is tiny  # 302 messages, ~1.5k tokens

    long = pinned() + pair(1, "x " * 5000) + pair(2, "short") + pair(3, "short")
    fitted = await context.fit(long, budget_tokens=4000)
    assert fitted is not long
    assert context.counter.count(fitted) <= 0.8 * 4000
    assert fitted[3]["content"].startswith("[output masked #m")
    assert model.requests == []  # masking was enough: no summarizer call
    assert long[3]["content"] == "x " * 5000  # the caller's list is not rewritten


async def test_tool_pairs_are_never_split(db: str) -> None:
    context, _ = setup(db)
    for calls in (1, 3):
        messages = conversation(60, calls=calls)
        fitted = await context.fit(messages, budget_tokens=3000, subtask_id=f"t{calls}")
        assert summaries_in(fitted), "the test must make the manager summarize"
        assert_pairs_whole(fitted)
        assert fitted[-len(pair(0, "", calls)):][0]["role"] == "assistant"


def facts_block(messages: list[dict[str, Any]]) -> str:
    [block] = [m["content"] for m in messages
               if str(m.get("content") or "").startswith("[context facts")]
    return block


async def test_plan_stays_pinned_and_facts_keep_their_latest_value(db: str) -> None:
    context, _ = setup(db)
    messages = conversation(80, facts={3: "key_3 = old-33", 50: "key_3 = new-77"})
    fitted = await context.fit(messages, budget_tokens=3000)

    assert fitted[:2] == pinned()
    assert summaries_in(fitted)
    assert "- key_3 = new-77" in facts_block(fitted)
    assert "old-33" not in json.dumps(fitted)
    assert "key_79 = v79" in fitted[-1]["content"]  # the newest turn is verbatim
    assert context.store.get_facts(context.run_id)["key_3"] == "new-77"


async def test_merges_rewrite_prose_but_never_drop_or_alter_facts(db: str) -> None:
    def careless_merger(request: ModelRequest) -> Summary:
        if "Summaries, oldest first" in request.messages[-1]["content"]:
            # A careless merge: drops every fact but one, and garbles that one.
            return Summary(goal="merged", facts=[Fact(key="key_2", value="garbled")])
        return extract_summary(request)

    context, model = setup(db, careless_merger, summary_share=0.01, facts_share=0.3)
    messages = conversation(30, facts={2: "key_2 = first"})
    messages = await context.fit(messages, budget_tokens=3000)
    for i in range(30, 60):
        messages += pair(i, f"{FILLER}\nkey_{i} = v{i}" if i != 40 else f"{FILLER}\nkey_2 = second")
        messages = await context.fit(messages, budget_tokens=3000)

    rows = context.store.get_summaries(context.run_id)
    merged = [r for r in rows if r.merged_ids]
    assert merged, "the summaries grew past their share, so they must have been merged"
    assert merged[-1].level >= 2
    block = facts_block(messages)
    assert "- key_2 = second" in block and "garbled" not in json.dumps(messages)
    summarized = {k for r in rows if not r.merged_ids
                  for k in Summary.model_validate_json(r.data).fact_map()}
    in_prompt = {k for k, _ in FACT.findall(json.dumps(messages))}
    assert summarized - {"key_2"} <= in_prompt  # every key a summary kept is still shown
    assert any("Summaries, oldest first" in r.messages[-1]["content"] for r in model.requests)


async def test_masked_output_comes_back_through_recall(db: str, workspace: Path) -> None:
    context, _ = setup(db)
    secret = "the vault combination is zebra-4417"
    messages = pinned() + pair(1, f"{FILLER}\n{secret}\n{FILLER}") + pair(2, "ok") + pair(3, "ok")
    fitted = await context.fit(messages, budget_tokens=400)
    stub = fitted[3]["content"]
    masked = re.match(r"\[output masked #(m\d+)", stub)
    assert masked and "zebra-4417" not in stub

    recall = recall_tool(context)
    ctx = ToolContext(workspace=workspace, run_id=context.run_id)
    by_id = await recall.run({"query": masked[1]}, ctx)
    assert by_id.status == "ok" and secret in by_id.content and FILLER.strip() in by_id.content
    by_words = await recall.run(json.dumps({"query": "vault combination"}), ctx)
    assert "zebra-4417" in by_words.content
    like = context.store.search_memory(context.run_id, "vault", full_text=False)
    assert like and "zebra-4417" in like[0].text  # the LIKE path PostgreSQL uses


async def test_summaries_persist_and_reload_identical(db: str) -> None:
    written: list[Summary] = []

    def summarizer(request: ModelRequest) -> Summary:
        written.append(extract_summary(request).model_copy(update={
            "plan_status": "step 1 of 2", "done": ["read records"], "next_step": "report",
            "open_questions": ["is key_1 final?"]}))
        return written[-1]

    context, model = setup(db, summarizer)
    await context.fit(conversation(40), budget_tokens=3000, subtask_id="t1")

    assert written
    again = Store(db)
    assert load_summaries(again, context.run_id, subtask_id="t1") == written
    row = again.get_summaries(context.run_id)[0]
    assert row.model == model.model_name and row.subtask_id == "t1"
    assert row.first_message == 2 and row.last_message > row.first_message
    assert row.tokens_before > row.tokens_after
    events = again.get_events(context.run_id)
    assert [e.kind for e in events] == ["context_compacted"]


async def test_a_prompt_that_cannot_fit_raises_instead_of_looping(db: str) -> None:
    def bloated(request: ModelRequest) -> Summary:
        return Summary(done=["padding " * 45] * 30)

    context, model = setup(db, bloated)
    with pytest.raises(ContextOverflow, match=r"over the threshold of 1200 .*budget 1500"):
        await context.fit(conversation(40), budget_tokens=1500)
    merges = [r for r in model.requests if "Summaries, oldest first" in r.messages[-1]["content"]]
    # One summary per chunk of old turns, one merge, one condensing merge; then the last resort
    # (every turn but the newest summarized, and merged) — then it gives up.
    chunks = [r for r in context.store.get_summaries(context.run_id) if not r.merged_ids]
    assert len(merges) == 3 and len(model.requests) == 3 + len(chunks)

    huge_plan = [pinned()[0], {"role": "user", "content": "plan step " * 3000}]
    with pytest.raises(ContextOverflow, match="the pinned plan and task alone take"):
        await context.fit(huge_plan + pair(1, "ok"), budget_tokens=3000)


async def test_calibration_with_reported_usage_moves_the_trigger(db: str) -> None:
    context, _ = setup(db)
    messages = conversation(12)
    size = context.counter.count(messages)
    budget = int(size / 0.7)  # 70% of the budget: under the 80% trigger
    assert await context.fit(messages, budget_tokens=budget) is messages
    context.observe("scripted/x", messages, None, reported_prompt_tokens=2 * size)
    context.observe(context.client.default, messages, None, reported_prompt_tokens=2 * size)
    assert context.counter.ratio(context.client.default) == pytest.approx(2.0)
    assert await context.fit(messages, budget_tokens=budget) is not messages


def test_context_windows_and_settings() -> None:
    assert context_window("local/smollm2") == 8192
    assert context_window("scripted/anything") is None
    with pytest.raises(Exception, match="0 < target < trigger"):
        ContextManager(store=None, client=None, run_id="r", trigger=0.5, target=0.6)  # type: ignore[arg-type]


async def test_executor_fits_every_prompt_and_offers_recall(db: str, workspace: Path) -> None:
    store = Store(db)
    run_id = store.create_run(goal="audit", model="m", workspace=str(workspace), settings={})

    @tool
    def read_record(n: int) -> str:
        """Read record n."""
        value = "blue-9" if n == 5 else f"v{n}"
        return f"{FILLER}\nkey_{n % 20} = {value if n != 25 else 'red-1'}"

    steps: list[int] = []

    def agent(request: ModelRequest) -> object:
        if request.role == "summarizer":
            return extract_summary(request)
        steps.append(len(steps))
        done = [m for m in request.messages if m["role"] == "tool"]
        recalled = [m["content"] for m in done if m["content"].startswith("Output #m")]
        if recalled:
            return ToolCall(name="finish", arguments={"result": recalled[-1][-40:]})
        if len(steps) <= 40:
            return ToolCall(name="read_record", arguments={"n": len(steps)})
        # The first output compaction took out of the prompt (masked or summarized: it is kept).
        return ToolCall(name="recall", arguments={"query": "m1"})

    model = FunctionModel(agent)
    ctx = RunContext(run_id=run_id, goal="audit", store=store,
                     models=ModelClient(default=model.model_name), tools=Toolset([read_record]),
                     workspace=workspace, budget=Budget(max_model_calls=None),
                     max_prompt_tokens=3000)
    context = ctx.context
    subtask = Subtask(id="t1", step_id="s1", plan_version=1, title="Read the records",
                      effort=Effort(max_steps=60, budget_tokens=10_000_000))

    outcome = await execute(subtask, prompt(subtask, "audit", "1. Read the records",
                                            "Done: nothing yet"),
                            client=ctx.client, tools=ctx.tools, call_tool=ctx.call_tool,
                            context=context)

    assert outcome.status == "done", outcome.result
    executor = [r for r in model.requests if r.role == "executor"]
    assert "recall" in executor[0].tool_names
    assert all(r.messages[1]["content"].startswith("Goal of the run: audit\nPlan:")
               for r in executor)  # the plan is in every prompt, before and after compaction
    assert any(summaries_in(r.messages) for r in executor)
    assert max(context.counter.count(r.messages, r.tools) for r in executor) <= 0.8 * 3000
    assert [t.name for t in store.get_tool_calls(run_id)][-2:] == ["recall", "finish"]
    assert "key_" in outcome.result
