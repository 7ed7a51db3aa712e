"""The journal: a run's recorded model and tool results, served back instead of redoing them.

Two uses of one mechanism:

- **resume** (lenient): after a crash the node that was in flight runs again; the calls it had
  already made are served from the record, so no model is asked twice and no tool's side effect is
  repeated. A tool call that was in flight at the crash is answered as *in doubt* unless the tool
  declared itself idempotent.
- **replay** (strict): a whole run is re-executed from its record with zero model calls; the first
  request that is not in the record stops the replay and is reported (`ReplayDivergence`).

Requests match by a hash of their role, subtask and stored request form, in recorded order.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentkit.errors import ReplayDivergence
from agentkit.store.protocol import RunStore
from agentkit.store.records import ModelCallRow, ToolCallRow

__all__ = ["InDoubt", "Journal", "RecordedCall", "ReplayDivergence", "request_key", "tool_key"]


def request_key(role: str, subtask_id: str | None, request: dict[str, Any]) -> str:
    text = json.dumps(
        {"role": role, "subtask": subtask_id, "request": request}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def tool_key(subtask_id: str | None, call_id: str, name: str, arguments: str) -> str:
    return json.dumps([subtask_id, call_id, name, arguments])


@dataclass(kw_only=True, frozen=True)
class RecordedCall:
    model: str
    response: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(kw_only=True, frozen=True)
class InDoubt:
    """A tool call in flight when the run stopped: whether it took effect is unknown."""

    subtask_id: str | None
    call_id: str
    name: str
    arguments: str


class Journal:
    """Recorded results of one run, consumed in order as the same requests come again."""

    def __init__(
        self,
        *,
        model_calls: Sequence[ModelCallRow],
        tool_calls: Sequence[ToolCallRow],
        in_flight: Sequence[InDoubt] = (),
        strict: bool = False,
    ) -> None:
        self.strict = strict
        self._models: dict[str, deque[RecordedCall]] = defaultdict(deque)
        for c in model_calls:
            if c.response is None:
                continue
            key = request_key(c.role, c.subtask_id, json.loads(json.dumps(c.request)))
            self._models[key].append(
                RecordedCall(
                    model=c.model,
                    response=c.response,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    cost_usd=c.cost_usd,
                )
            )
        self._tools: dict[str, deque[ToolCallRow]] = defaultdict(deque)
        for t in tool_calls:
            self._tools[tool_key(t.subtask_id, t.call_id, t.name, t.arguments)].append(t)
        self._in_flight = {
            tool_key(c.subtask_id, c.call_id, c.name, c.arguments): c for c in in_flight
        }
        self.served_models = 0
        self.served_tools = 0

    @classmethod
    def for_run(cls, store: RunStore, run_id: str, *, strict: bool = False) -> Journal:
        """The journal of a recorded run; tool calls started but never finished are in flight."""
        tool_calls = store.get_tool_calls(run_id)
        finished: dict[str, int] = defaultdict(int)
        for t in tool_calls:
            finished[tool_key(t.subtask_id, t.call_id, t.name, t.arguments)] += 1
        in_flight = []
        for e in store.get_events(run_id):
            if e.kind != "tool_started":
                continue
            started = InDoubt(subtask_id=e.subtask_id, call_id=e.data["call_id"],
                              name=e.data["name"], arguments=e.data["arguments"])
            key = tool_key(started.subtask_id, started.call_id, started.name, started.arguments)
            if finished[key] > 0:
                finished[key] -= 1
            else:
                in_flight.append(started)
        return cls(
            model_calls=store.get_model_calls(run_id),
            tool_calls=tool_calls,
            in_flight=in_flight,
            strict=strict,
        )

    def model(
        self, role: str, subtask_id: str | None, request: dict[str, Any]
    ) -> RecordedCall | None:
        normalized = json.loads(json.dumps(request, default=str))
        queue = self._models.get(request_key(role, subtask_id, normalized))
        if queue:
            self.served_models += 1
            return queue.popleft()
        if self.strict:
            raise ReplayDivergence(
                f"replay diverged at model call {self.served_models + 1} (role {role!r}, subtask "
                f"{subtask_id!r}): the record holds no such request; the code or the tools changed "
                "since the run was recorded"
            )
        return None

    def tool(
        self, subtask_id: str | None, call_id: str, name: str, arguments: str
    ) -> ToolCallRow | None:
        """The recorded call, or None (not recorded, or in doubt: see `in_doubt`)."""
        key = tool_key(subtask_id, call_id, name, arguments)
        queue = self._tools.get(key)
        if queue:
            self.served_tools += 1
            return queue.popleft()
        if self.strict and key not in self._in_flight:
            raise ReplayDivergence(
                f"replay diverged at tool call {self.served_tools + 1} ({name!r} in subtask "
                f"{subtask_id!r}): the record holds no such call"
            )
        return None

    def in_doubt(self, subtask_id: str | None, call_id: str, name: str, arguments: str) -> bool:
        """Whether this call was in flight when the run stopped (answered once)."""
        key = tool_key(subtask_id, call_id, name, arguments)
        return self._in_flight.pop(key, None) is not None
