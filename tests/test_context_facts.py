"""Facts that do not decay, and compaction with a budget of its own.

Facts are carried in code (the facts table), not through the summarizer: a lossy summarizer
cannot drop, garble or stale them in the prompt; recall finds a fact by its subject's name;
summarizer prompts stay under their cap; compaction runs every several steps, not every step.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentkit import FunctionModel, ModelRequest
from agentkit.context import ContextManager, Fact, Summary, recall_text
from agentkit.models import ModelClient
from agentkit.store import Store
from agentkit.tokens import count_messages

SENTENCE = re.compile(r"unit (F\d+) (pressure) is now (\d+ kPa)")
FILLER = "The crate on shelf nine was logged by the night crew near the east bay. " * 12


def output(unit: str, value: str) -> str:
    return f"{FILLER}Inspection note: unit {unit} pressure is now {value}. {FILLER}"


def pair(i: int, content: str) -> list[dict[str, Any]]:
    call = {"id": f"c{i}", "type": "function",
            "function": {"name": "inspect", "arguments": json.dumps({"n": i})}}
    return [{"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": content}]


PINNED = [{"role": "system", "content": "You are an executor."},
          {"role": "user", "content": "Goal: report the latest pressure of every unit."}]


def summarizer(drop: set[str] = frozenset(), garble: set[str] = frozenset()):  # type: ignore[assignment]
    """A scripted summarizer that reads every 'unit X pressure is now V' of its input, except it
    drops the values in `drop` and garbles those in `garble` (as a lossy model would)."""

    def reply(request: ModelRequest) -> Summary:
        text = request.messages[-1]["content"].split("of its conversation:", 1)[-1]
        facts = []
        for unit, attr, value in SENTENCE.findall(text):
            if value in drop:
                continue
            facts.append(Fact(key=f"unit {unit} {attr}",
                              value="1 kPa" if value in garble else value))
        return Summary(goal="inspect", done=["read logs"], facts=facts)

    return reply


def setup(db: str, reply: Any, **kwargs: Any) -> tuple[ContextManager, FunctionModel]:
    store = Store(db)
    run_id = store.create_run(goal="g", model="scripted/x", workspace=".", settings={})
    model = FunctionModel(reply)
    return ContextManager(store=store, client=ModelClient(default=model.model_name),
                          run_id=run_id, **kwargs), model


async def run_steps(context: ContextManager, contents: list[str], budget: int
                    ) -> tuple[list[dict[str, Any]], int]:
    """Feed one output per step through `fit`; return the last prompt and how many fits
    compacted."""
    messages, compacted = list(PINNED), 0
    for i, content in enumerate(contents):
        messages += pair(i, content)
        fitted = await context.fit(messages, budget_tokens=budget)
        compacted += fitted is not messages
        messages = fitted
    return messages, compacted


def facts_block(messages: list[dict[str, Any]]) -> str:
    [block] = [m["content"] for m in messages if m["content"] and
               str(m["content"]).startswith("[context facts")]
    return block


def filler(n: int) -> list[str]:
    return [f"{FILLER} Log {i} has nothing new. {FILLER}" for i in range(n)]


async def test_a_fact_learned_once_stays_verbatim_when_later_summaries_drop_it(db: str) -> None:
    # Every summary after the first drops the value (a lossy summarizer re-summarizing).
    seen: list[int] = []

    def forgetful(request: ModelRequest) -> Summary:
        seen.append(1)
        return summarizer()(request) if len(seen) == 1 else Summary(goal="inspect")

    context, model = setup(db, forgetful, summary_share=0.02)
    last, _ = await run_steps(context, [output("F188", "4512 kPa"), *filler(60)], budget=3000)

    assert len(model.requests) > 3, "the test must make the manager summarize and merge often"
    assert any("Summaries, oldest first" in r.messages[-1]["content"] for r in model.requests)
    assert "- unit F188 pressure = 4512 kPa" in facts_block(last)


async def test_a_newer_value_the_summarizer_drops_never_leaves_the_old_one_current(
    db: str
) -> None:
    context, _ = setup(db, summarizer(drop={"7001 kPa"}))
    contents = [output("F188", "4512 kPa"), *filler(30), output("F188", "7001 kPa"), *filler(30)]
    last, _ = await run_steps(context, contents, budget=3000)

    block = facts_block(last)
    assert "- unit F188 pressure = 4512 kPa" not in block  # never shown as current
    # Marked as possibly out of date, with the newer mention quoted verbatim from its source.
    assert re.search(r"^- unit F188 pressure: was 4512 kPa, may be out of date; newer mention "
                     r"in [^«]+«Inspection note: unit F188 pressure is now 7001 kPa\.»$",
                     block, re.MULTILINE), block
    tools = [m["content"] for m in last if m["role"] == "tool"]
    assert not any("7001 kPa" in t for t in tools), "the new value must have left the turns"
    # One recall by the subject's name brings the newest value, newest output first.
    answer = recall_text(context.store, context.run_id, "unit F188")
    assert "fact (may be out of date" in answer and "7001 kPa" in answer
    assert context.store.get_facts(context.run_id)["unit F188 pressure"].startswith(
        "4512 kPa [unconfirmed]")


async def test_a_garbled_value_is_not_kept(db: str) -> None:
    context, _ = setup(db, summarizer(garble={"7001 kPa"}))
    contents = [output("F188", "4512 kPa"), *filler(20), output("F188", "7001 kPa"), *filler(30)]
    last, _ = await run_steps(context, contents, budget=3000)

    assert "1 kPa" not in context.store.get_facts(context.run_id)["unit F188 pressure"]
    assert "= 1 kPa" not in json.dumps(last)


async def test_recall_finds_a_fact_by_its_subjects_name_first(db: str) -> None:
    context, _ = setup(db, summarizer())
    # The unit comes up in many later outputs that do not state its value.
    noisy = [f"{FILLER} Unit F188 was inspected again by the crew {i}. {FILLER}"
             for i in range(40)]
    await run_steps(context, [output("F188", "4512 kPa"), *noisy], budget=3000)

    answer = recall_text(context.store, context.run_id, "unit F188")
    first = answer.splitlines()[1]
    assert first == "fact: unit F188 pressure = 4512 kPa", answer[:400]


async def test_summarizer_prompts_stay_under_their_cap(db: str) -> None:
    context, model = setup(db, summarizer(), summarizer_max_prompt_tokens=1500)
    big = [output(f"F{100 + i}", f"{1000 + i} kPa") * 3 for i in range(40)]  # ~900 tokens each
    await run_steps(context, big, budget=6000)

    sizes = [count_messages(r.messages) for r in model.requests]
    assert len(sizes) > 5
    assert max(sizes) <= 1500, sizes
    # The values were read by the summarizer, in chunks under the cap (the newest outputs are
    # still in the prompt, masked or not).
    assert len(context.store.get_fact_rows(context.run_id)) >= 25


async def test_compaction_runs_every_several_steps_not_every_step(db: str) -> None:
    context, model = setup(db, summarizer())
    _, compacted = await run_steps(context, filler(80), budget=4000)

    events = [e for e in context.store.get_events(context.run_id)
              if e.kind == "context_compacted"]
    assert compacted == len(events) >= 3
    assert len(events) <= 80 / 3, f"{len(events)} compactions in 80 steps"
    # Down to well below the trigger (80%): at least halfway from it to the target (50%).
    assert all(e.data["tokens_after"] <= 0.65 * 4000 for e in events)
