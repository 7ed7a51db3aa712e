"""Prompt caching on a long run: the share of prompt tokens a provider's cache could reuse.

A scripted run of two plan steps, each a long executor conversation of 120 (smoke: 30) sequential
`read` calls whose outputs are large (about 370 tokens), with `max_prompt_tokens` small enough that
the context manager compacts every several steps (and a wider cap in the full size). The
cache-eligible share is `agentkit.context.cache_share`: for each model call, the tokens of the
longest prefix (tool schemas, then whole messages) it shares with the previous call of the same
subtask and role, over all prompt tokens, counted with tiktoken. The same run with compaction off
(no prompt cap) gives the share an append-only prompt reaches; compaction's own tokens (summarizer
calls) are reported as a share of all tokens.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from pathlib import Path
from typing import Any

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall, tool
from agentkit.context import Summary, cache_share, prompt_cache
from agentkit.store import ModelCallRow, Store

SIZES = {"smoke": (2, 30), "full": (2, 120)}  # plan steps, read calls per step
MAX_PROMPT_TOKENS = 8000
# A second cap in the full size: how the share depends on the cap against the output size.
WIDER_CAP = {"smoke": None, "full": 16000}
WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor"]
TMP_ROOT = "/dev/shm" if Path("/dev/shm").is_dir() else None


@tool
def read(n: int) -> str:
    """Read record `n` and return its text."""
    rng = random.Random(n)
    words = " ".join(rng.choice(WORDS) + str(rng.randint(1, 999)) for _ in range(120))
    return f"Record {n}: {words}\nFact: key_{n % 40} = v{n}"


class Script:
    """The scripted model: `calls` reads per step, then finish; summaries keep the facts."""

    def __init__(self, steps: int, calls: int) -> None:
        self.steps, self.calls = steps, calls
        self.done: dict[str, int] = {}
        self.model = FunctionModel(self.reply)

    def reply(self, request: ModelRequest) -> object:
        if request.role == "strategist":
            return Plan(strategy="read the records in order", steps=[
                PlanStep(id=f"s{n}", title=f"Read batch {n}", expected_calls=self.calls,
                         instructions=f"Call read {self.calls} times, then finish.")
                for n in range(1, self.steps + 1)])
        if request.role == "summarizer":
            return Summary(goal="read the records", plan_status="reading")
        if request.role == "finalizer":
            return "all records read"
        key = request.subtask_id or ""
        done = self.done.get(key, 0)
        self.done[key] = done + 1
        if done < self.calls:
            return ToolCall(name="read", arguments={"n": done + 1})
        return ToolCall(name="finish", arguments={"result": f"{done} records read"})


async def one_run(steps: int, calls: int, folder: Path, *, cap: int | None) -> dict[str, Any]:
    script = Script(steps, calls)
    db = folder / f"cache-{cap}.db"
    big = 100_000_000
    budget = Budget(max_model_calls=steps * (calls + 5) + 50, max_tokens=None,
                    max_tool_calls=None, subtask_tokens=big, max_subtask_tokens=big,
                    min_subtask_tokens=big)
    agent = Agent(script.model, tools=[read], db=db, workspace=folder, budget=budget,
                  max_prompt_tokens=cap)
    result = await agent.run("Read every record")
    store = Store(str(db))
    found = cache_share(store, result.run_id)
    compactions = [e for e in store.get_events(result.run_id) if e.kind == "context_compacted"]
    executor = [c for c in store.get_model_calls(result.run_id) if c.role == "executor"]
    return {"status": result.status, "executor_calls": len(executor),
            "compactions": len(compactions), "prefix_breaks": _breaks(executor),
            "executor_cache_share": round(prompt_cache(executor).cache_share, 4),
            **found.as_dict()}


def _breaks(executor: list[ModelCallRow]) -> int:
    """Executor calls that do not repeat the whole previous prompt of their subtask."""
    last: dict[str | None, list[Any]] = {}
    breaks = 0
    for call in executor:
        before = last.get(call.subtask_id)
        messages = call.request["messages"]
        if before is not None:
            breaks += messages[: len(before)] != before
        last[call.subtask_id] = messages
    return breaks


async def _run(size: str) -> dict[str, Any]:
    steps, calls = SIZES[size]
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp:
        on = await one_run(steps, calls, Path(tmp), cap=MAX_PROMPT_TOKENS)
        wider = WIDER_CAP[size]
        more = [] if wider is None else [await one_run(steps, calls, Path(tmp), cap=wider)]
        off = await one_run(steps, calls, Path(tmp), cap=None)
    rows = [{"max_prompt_tokens": MAX_PROMPT_TOKENS, **on},
            *({"max_prompt_tokens": wider, **m} for m in more),
            {"max_prompt_tokens": "none (compaction off)", **off}]
    return {
        "name": "bench_cache",
        "title": f"Prompt caching: {steps} steps × {calls} read calls, large outputs, "
                 f"max_prompt_tokens {MAX_PROMPT_TOKENS}",
        "rows": rows,
        "targets": [
            {"what": f"cache-eligible share, max_prompt_tokens {MAX_PROMPT_TOKENS}",
             "target": "≥ 85%",
             "measured": f"{on['cache_share']:.1%}", "met": on["cache_share"] >= 0.85},
            {"what": "executor prompts append-only between compactions",
             "target": "prefix breaks ≤ compactions",
             "measured": f"{on['prefix_breaks']} breaks, {on['compactions']} compactions",
             "met": on["prefix_breaks"] <= on["compactions"]},
        ],
        "notes": [
            "cache share = tokens of each call repeating the previous call's prefix (tools, then "
            "whole messages; same subtask and role) over all prompt tokens, tiktoken cl100k_base; "
            "compaction share = summarizer prompt+completion tokens over all recorded tokens."
        ],
    }


def run(size: str = "full") -> dict[str, Any]:
    """Run the benchmark at `size` ("smoke" or "full")."""
    if size not in SIZES:
        raise ValueError(f"size {size!r} is not one of {sorted(SIZES)}")
    return asyncio.run(_run(size))


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "smoke"), indent=1))
