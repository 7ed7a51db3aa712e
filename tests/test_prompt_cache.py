"""The cache-eligible share and the compaction share of a run, from its recorded model calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentkit import Store
from agentkit.cli import app
from agentkit.context import cache_share
from agentkit.tokens import count_message, count_messages, count_tools

# Keys in sorted order: the store writes JSON with sorted keys, and the count follows the text.
TOOLS = [{"function": {"description": "Read record n.", "name": "read",
                       "parameters": {"properties": {}, "type": "object"}}, "type": "function"}]
SYSTEM = {"role": "system", "content": "You are an executor."}
TASK = {"role": "user", "content": "Read the records."}
CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}]}
OUTPUT = {"role": "tool", "tool_call_id": "c1", "content": "record one: " + "amber " * 50}
STUB = {"role": "tool", "tool_call_id": "c1", "content": "[output masked #m1: read]"}


def _record(store: Store, run_id: str, role: str, subtask: str, messages: list[Any],
            tools: list[Any] | None, prompt_tokens: int) -> None:
    store.record_model_call(
        run_id, subtask_id=subtask, role=role, model="scripted", response=None, error=None,
        request={"messages": messages, "tools": tools}, prompt_tokens=prompt_tokens,
        completion_tokens=10, cost_usd=0.0, latency_ms=1.0,
    )


def _hand_built(db: Path) -> tuple[Store, str]:
    store = Store(str(db))
    run_id = store.create_run(goal="read", model="scripted", workspace=".", settings={})
    _record(store, run_id, "executor", "s1", [SYSTEM, TASK], TOOLS, 90)
    _record(store, run_id, "executor", "s1", [SYSTEM, TASK, CALL, OUTPUT], TOOLS, 90)
    _record(store, run_id, "executor", "s2", [SYSTEM, TASK], TOOLS, 90)  # another chain
    _record(store, run_id, "executor", "s1", [SYSTEM, TASK, CALL, STUB], TOOLS, 90)  # compacted
    _record(store, run_id, "summarizer", "s1", [SYSTEM, OUTPUT], None, 30)
    return store, run_id


def test_cache_share_counts_the_prefix_each_call_repeats_in_its_chain(tmp_path: Path) -> None:
    store, run_id = _hand_built(tmp_path / "runs.db")
    head = count_tools(TOOLS) + count_message(SYSTEM) + count_message(TASK)
    # call 2 repeats call 1 whole; call 3 starts chain s2; call 4 repeats call 2 up to the
    # rewritten output; the summarizer call has no earlier call in its chain.
    cached = head + (head + count_message(CALL))
    total = (4 * head + count_messages([CALL, OUTPUT]) + count_messages([CALL, STUB])
             + count_messages([SYSTEM, OUTPUT]))
    found = cache_share(store, run_id)
    assert (found.cached_tokens, found.prompt_tokens) == (cached, total)
    assert found.cache_share == cached / total
    assert (found.compaction_calls, found.compaction_tokens, found.total_tokens) == (1, 40, 440)
    assert found.compaction_share == 40 / 440


def test_runs_show_prints_the_cache_share_and_compaction_share(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    store, run_id = _hand_built(db)
    expected = cache_share(store, run_id)
    shown = CliRunner().invoke(app, ["runs", "show", run_id, "--db", str(db), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["prompt_cache"] == expected.as_dict()
    text = CliRunner().invoke(app, ["runs", "show", run_id, "--db", str(db)],
                              env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert f"prompt cache: {expected.cache_share:.1%} of {expected.prompt_tokens}" in text.output
    assert "1 summarizer calls, 40 tokens, 9.1% of all tokens" in text.output
