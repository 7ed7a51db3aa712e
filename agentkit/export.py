"""Recorded runs as trajectories: JSON lines that fine-tuning and evaluation tools can read.

`agentkit export RUN` (or `trajectory(store, run_id)`) writes one JSON object per line, each with a
`type`, in the order the run recorded them:

- `run` (first line): `schema` (`"agentkit.trajectory/1"`), `run_id`, `goal`, `model`, `status`,
  `answer`, `error`, `parent_run_id`, `workspace`, `settings`, `usage`, `created_at`,
  `updated_at`: the run and its outcome.
- `plan`: `version`, `trigger`, `reason`, `plan` (the `Plan` as JSON), `created_at`.
- `model_call`: `index` (from 0, in call order), `role`, `model`, `subtask_id`, `messages` (the
  full prompt as OpenAI-style chat messages), `tools` (OpenAI function specs, or null),
  `output_schema` (a structured answer's JSON Schema, or null), `response` (the assistant
  message, with `tool_calls` when it called tools; null when the call failed), `error`,
  `usage` (`prompt_tokens`, `completion_tokens`), `cost_usd`, `latency_ms`, `created_at`.
- `tool_call`: `subtask_id`, `call_id` (the id in the assistant message that asked for it),
  `name`, `arguments` (the JSON text as the model sent it), `status` (`ok`, `error`,
  `invalid`, `timeout`, `denied`), `result` (the text the model got back), `latency_ms`,
  `created_at`.

`--format chat` writes one line per successful model call instead, in the shape of OpenAI's
chat fine-tuning files: `{"messages": [...prompt, response], "tools": [...]}` plus agentkit's
`run_id`, `index` and `role`, so a dataset can be filtered by role (`executor`, `strategist`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from agentkit.errors import UserError
from agentkit.store import ModelCallRow, Store
from agentkit.store.records import to_dict

SCHEMA = "agentkit.trajectory/1"
ExportFormat = Literal["jsonl", "chat"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "chat")


def trajectory(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """The run's records as trajectory lines (see the module's docstring for the schema)."""
    run = store.get_run(run_id)
    usage = store.usage(run.id)
    yield {"type": "run", "schema": SCHEMA, "run_id": run.id, "goal": run.goal,
           "model": run.model, "status": run.status, "answer": run.answer, "error": run.error,
           "parent_run_id": run.parent_run_id, "workspace": run.workspace,
           "settings": run.settings, "usage": usage.model_dump(mode="json"),
           "created_at": run.created_at, "updated_at": run.updated_at}
    for version in store.plan_versions(run.id):
        row = to_dict(version)
        yield {"type": "plan", **{k: row[k] for k in
                                  ("version", "trigger", "reason", "plan", "created_at")}}
    for index, call in enumerate(store.get_model_calls(run.id)):
        yield _model_call(index, call)
    for tool_call in store.get_tool_calls(run.id):
        row = to_dict(tool_call)
        yield {"type": "tool_call", **{k: row[k] for k in (
            "subtask_id", "call_id", "name", "arguments", "status", "result", "latency_ms",
            "created_at")}}


def chat_examples(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """One OpenAI-style fine-tuning line per model call that got an answer."""
    run = store.get_run(run_id)
    for index, call in enumerate(store.get_model_calls(run.id)):
        if call.response is None:
            continue
        line: dict[str, Any] = {"messages": [*call.request["messages"], call.response]}
        if call.request.get("tools"):
            line["tools"] = call.request["tools"]
        yield {**line, "run_id": run.id, "index": index, "role": call.role}


def check_format(fmt: str) -> ExportFormat:
    """`fmt` if it is an export format, else a `UserError` naming the choices."""
    for known in FORMATS:
        if fmt == known:
            return known
    raise UserError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}; use jsonl "
                    "(whole trajectories) or chat (one fine-tuning example per model call)")


def lines(store: Store, run_ids: Iterable[str], fmt: str) -> Iterator[dict[str, Any]]:
    """The export of several runs, one after the other, in format `fmt` (checked at once)."""
    export = trajectory if check_format(fmt) == "jsonl" else chat_examples
    return (line for run_id in run_ids for line in export(store, run_id))


def read_trajectories(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """A `jsonl` export read back: each run's lines by run id (the `run` line first)."""
    runs: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for number, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        try:
            line = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{path}:{number} is not a JSON line ({e.msg}); is it an agentkit "
                            "export written with --format jsonl?") from e
        if line.get("type") == "run":
            if line.get("schema") != SCHEMA:
                raise UserError(f"{path}:{number} has schema {line.get('schema')!r}; this "
                                f"agentkit reads {SCHEMA!r}")
            current = runs.setdefault(line["run_id"], [])
        elif current is None:
            raise UserError(f"{path}:{number} comes before any 'run' line; the file must start "
                            "with one (write it with agentkit export --format jsonl)")
        current.append(line)
    return runs


def _model_call(index: int, call: ModelCallRow) -> dict[str, Any]:
    request = call.request
    return {
        "type": "model_call", "index": index, "role": call.role, "model": call.model,
        "subtask_id": call.subtask_id, "messages": request["messages"],
        "tools": request.get("tools") or None, "output_schema": request.get("output_schema"),
        "response": call.response, "error": call.error,
        "usage": {"prompt_tokens": call.prompt_tokens,
                  "completion_tokens": call.completion_tokens},
        "cost_usd": call.cost_usd, "latency_ms": call.latency_ms, "created_at": call.created_at,
    }
