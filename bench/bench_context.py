"""Context management on a long run: peak and total prompt tokens, and retention of facts.

A simulated executor reads hundreds of records; each output is filler plus one `key = value`
fact, and keys are updated later with new values. At the end every key is asked for, answered
from the final prompt (latest occurrence wins) — and, for agentkit, from `recall` for keys the
prompt lacks. Strategies: agentkit's tiers (mask, summarize, merge), the full history, plain
truncation to the same threshold, and observation masking only (the last few outputs kept).

The summarizer is a deterministic FunctionModel that copies every `key = value` from its input,
latest value kept: it measures what the context manager keeps and costs, not summary quality.
Its calls go through LiteLLM like any model and their prompts count in agentkit's total.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any

from agentkit import FunctionModel, ModelRequest
from agentkit.context import ContextManager, Fact, Summary, TokenCounter
from agentkit.models import ModelClient
from agentkit.store import Store

SIZES = {"smoke": (150, 30, 3000), "full": (500, 80, 6000)}  # steps, keys, budget
TRIGGER = 0.8
KEEP_RECENT = 2
FACT = re.compile(r"\b(key_\d+) = (\S+)")
WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo",
         "jasper"]
SENTENCE = ("Shelf {a} holds {b} bins of {c}; the audit counted them twice and logged the "
            "discrepancy against batch {d} for the quarterly review. ")
TOOLS = [{"type": "function", "function": {
    "name": "read_record", "description": "Read record n.",
    "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}}]
Message = dict[str, Any]


def _world(steps: int, keys: int, seed: int = 7) -> tuple[list[str], dict[str, str]]:
    """Tool outputs, one per step, and the latest value of every key."""
    rng = random.Random(seed)
    outputs, truth = [], {}
    for i in range(steps):
        filler = "".join(
            SENTENCE.format(a=rng.randint(1, 99), b=rng.randint(1, 999), c=rng.choice(WORDS),
                            d=rng.randint(1000, 9999))
            for _ in range(rng.randint(2, 5))
        )
        key = f"key_{i:03d}" if i < keys else f"key_{rng.randrange(keys):03d}"
        value = f"{rng.choice(WORDS)}-{rng.randint(100, 99999)}"
        truth[key] = value
        outputs.append(f"Record {i}. {filler}\nFact: {key} = {value}")
    return outputs, truth


def _pinned(keys: int) -> list[Message]:
    return [
        {"role": "system", "content": "You are an executor. Carry out one subtask with the tools."},
        {"role": "user", "content": "Goal of the run: audit the records.\nPlan:\n1. Read every "
         f"record\n2. Report the latest value of each of the {keys} keys\n\nDone:\n- nothing yet"},
    ]


def _pair(i: int, output: str) -> list[Message]:
    call = {"id": f"call_{i}", "type": "function",
            "function": {"name": "read_record", "arguments": json.dumps({"n": i})}}
    return [{"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"call_{i}", "content": output}]


def _answers(messages: list[Message]) -> dict[str, str]:
    found: dict[str, str] = {}
    for message in messages:
        for key, value in FACT.findall(str(message.get("content") or "")):
            found[key] = value
    return found


def _truncate(messages: list[Message], limit: int, counter: TokenCounter) -> list[Message]:
    head, body = messages[:2], messages[2:]
    while body and counter.count(head + body, TOOLS) > limit:
        body = body[2:]  # a call and its result leave together
    return head + body


def _mask_all_but_recent(messages: list[Message], keep: int) -> list[Message]:
    tools = [i for i, m in enumerate(messages) if m["role"] == "tool"]
    old = set(tools[:-keep]) if keep else set(tools)
    return [{**m, "content": "[output masked]"} if i in old else m
            for i, m in enumerate(messages)]


def _summarizer(request: ModelRequest) -> Summary:
    latest = dict(FACT.findall(request.messages[-1]["content"]))
    return Summary(goal="audit the records", plan_status="reading records",
                   facts=[Fact(key=k, value=v) for k, v in latest.items()])


async def _strategy(name: str, outputs: list[str], keys: int, budget: int,
                    db: Path) -> dict[str, Any]:
    counter = TokenCounter()
    limit = int(budget * TRIGGER)
    context = model = None
    if name == "agentkit":
        store = Store(str(db))
        run_id = store.create_run(goal="audit", model="bench", workspace=".", settings={})
        model = FunctionModel(_summarizer)
        context = ContextManager(store=store, client=ModelClient(default=model.model_name),
                                 run_id=run_id, trigger=TRIGGER, keep_recent=KEEP_RECENT,
                                 counter=counter)
    history = _pinned(keys)  # what the strategy carries from step to step
    sizes: list[int] = []
    for i, output in enumerate([*outputs, None]):
        if name == "agentkit":
            assert context is not None
            history = await context.fit(history, tools=TOOLS, budget_tokens=budget)
            prompt = history
        elif name == "truncation":
            history = prompt = _truncate(history, limit, counter)
        elif name == "masking only":
            prompt = _mask_all_but_recent(history, KEEP_RECENT)
        else:
            prompt = history
        sizes.append(counter.count(prompt, TOOLS))
        if output is not None:
            history = history + _pair(i, output)
    answers = _answers(prompt)
    summarizer_tokens = sum(counter.count(r.messages) for r in model.requests) if model else 0
    recalled = dict(answers)
    if context is not None:
        # Asked about a key it did not just read, the agent checks its memory (newest first).
        verbatim = _answers([m for m in prompt if m["role"] == "tool"])
        for key in (f"key_{k:03d}" for k in range(keys)):
            found = [v for k, v in FACT.findall(await context.recall(key)) if k == key]
            if found and key not in verbatim:
                recalled[key] = found[0]
    return {"sizes": sizes, "answers": answers, "recalled": recalled,
            "summarizer_tokens": summarizer_tokens,
            "summarizer_calls": len(model.requests) if model else 0}


def _row(name: str, result: dict[str, Any], truth: dict[str, str], full_total: int) -> dict:
    sizes = result["sizes"]
    total = sum(sizes) + result["summarizer_tokens"]
    quarter = max(len(sizes) // 4, 1)
    hits = sum(result["answers"].get(k) == v for k, v in truth.items())
    recall_hits = sum(result["recalled"].get(k) == v for k, v in truth.items())
    return {
        "strategy": name,
        "steps": len(sizes) - 1,
        "peak_prompt_tokens": max(sizes),
        "peak_by_quarter": [max(sizes[q:q + quarter]) for q in range(0, quarter * 4, quarter)],
        "total_prompt_tokens": total,
        "x_fewer_than_full": round(full_total / total, 2),
        "retention_in_prompt": round(hits / len(truth), 3),
        "retention_with_recall": round(recall_hits / len(truth), 3),
        "summarizer_calls": result["summarizer_calls"],
    }


async def _run(size: str) -> dict[str, Any]:
    steps, keys, budget = SIZES[size]
    outputs, truth = _world(steps, keys)
    names = ["full history", "agentkit", "truncation", "masking only"]
    with tempfile.TemporaryDirectory() as tmp:
        results = {n: await _strategy(n, outputs, keys, budget, Path(tmp) / "bench.db")
                   for n in names}
    full_total = sum(results["full history"]["sizes"])
    rows = [_row(n, results[n], truth, full_total) for n in names]
    return {
        "name": "context",
        "title": f"Context management: {steps} tool steps, {keys} keys, budget {budget} tokens "
                 f"(compaction at {TRIGGER:.0%})",
        "rows": rows,
        "notes": (
            "Simulated executor (no executor model): each step's prompt is counted with tiktoken "
            "(cl100k_base). Totals include the summarizer's prompts for agentkit. Retention = "
            "latest values answered exactly from the final prompt (later occurrences win); "
            "'with recall' answers each key from agentkit's recall(key), newest hit first (the "
            "other strategies have no store to recall from). The summarizer is a deterministic "
            "FunctionModel that copies every 'key = value' it sees, latest value kept — a "
            "real model may lose or garble facts; this measures what the tiers keep and cost. "
            f"Masking only keeps the last {KEEP_RECENT} outputs (observation masking); "
            "truncation drops the oldest call/result pairs to the same threshold."
        ),
    }


def run(size: str = "full") -> dict[str, Any]:
    """Run the benchmark at `size` ("smoke" or "full")."""
    if size not in SIZES:
        raise ValueError(f"size {size!r} is not one of {sorted(SIZES)}")
    return asyncio.run(_run(size))


if __name__ == "__main__":
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
