"""The journal: a run's recorded model and tool results, served back instead of redoing them.

Two uses of one mechanism:

- **resume** (lenient): after a crash the node that was in flight runs again; the calls it had
  already made are served from the record, so no model is asked twice and no tool's side effect is
  repeated. A tool call that was in flight at the crash is answered as *in doubt* unless the tool
  declared itself idempotent.
- **replay** (strict): a whole run is re-executed from its record with zero model calls; the first
  request that is not in the record stops the replay and is reported (`ReplayDivergence`).

Requests match by a hash of their role, subtask and stored request form, in recorded order. Each
recorded call also knows the position of its event in the run's log, so a replay can write it at
the same position (`Cue`): parallel subtasks then interleave exactly as they did.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentkit.errors import ReplayDivergence
from agentkit.store.protocol import RunStore
from agentkit.store.records import ModelCallRow, ToolCallRow

__all__ = [
    "Cue", "InDoubt", "Journal", "LifeEnded", "RecordedCall", "ReplayDivergence", "request_key",
    "tool_key",
]

# A replay waiting this long for its turn with no event written has diverged (a safety net:
# every wait is normally ended by another task writing the event before it).
STALL_SECONDS = 60.0


def request_key(role: str, subtask_id: str | None, request: dict[str, Any]) -> str:
    text = json.dumps(
        {"role": role, "subtask": subtask_id, "request": request}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def tool_key(subtask_id: str | None, call_id: str, name: str, arguments: str) -> str:
    return json.dumps([subtask_id, call_id, name, arguments])


@dataclass(kw_only=True, frozen=True)
class RecordedCall:
    """A recorded model answer; `seq` is the position of its `model_call` event (0: unknown)."""

    model: str
    response: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seq: int = 0


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
        model_seqs: Sequence[int] = (),
        tool_seqs: Sequence[int] = (),
    ) -> None:
        self.strict = strict
        self._models: dict[str, deque[RecordedCall]] = defaultdict(deque)
        model_at = list(model_seqs) if len(model_seqs) == len(model_calls) else []
        for i, c in enumerate(model_calls):
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
                    seq=model_at[i] if model_at else 0,
                )
            )
        self._tools: dict[str, deque[ToolCallRow]] = defaultdict(deque)
        tool_at = list(tool_seqs) if len(tool_seqs) == len(tool_calls) else []
        self._tool_seqs = {t.id: tool_at[i] for i, t in enumerate(tool_calls) if tool_at}
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
        log = store.get_events(run_id)
        for e in log:
            if e.kind != "tool_started":
                continue
            started = InDoubt(subtask_id=e.subtask_id, call_id=e.data["call_id"],
                              name=e.data["name"], arguments=e.data["arguments"])
            key = tool_key(started.subtask_id, started.call_id, started.name, started.arguments)
            if finished[key] > 0:
                finished[key] -= 1
            else:
                in_flight.append(started)
        # Each record was written in one transaction with its event, in the same order.
        return cls(
            model_calls=store.get_model_calls(run_id),
            tool_calls=tool_calls,
            in_flight=in_flight,
            strict=strict,
            model_seqs=[e.seq for e in log if e.kind == "model_call"],
            tool_seqs=[e.seq for e in log if e.kind == "tool_call"],
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

    def tool_seq(self, row: ToolCallRow) -> int:
        """The position of the recorded call's `tool_call` event (0: unknown)."""
        return self._tool_seqs.get(row.id, 0)

    def put_back_model(
        self, role: str, subtask_id: str | None, request: dict[str, Any], call: RecordedCall
    ) -> None:
        """Return a call taken by `model` that was not used (its life ended first)."""
        normalized = json.loads(json.dumps(request, default=str))
        self._models[request_key(role, subtask_id, normalized)].appendleft(call)
        self.served_models -= 1

    def put_back_tool(self, row: ToolCallRow) -> None:
        """Return a call taken by `tool` that was not used (its life ended first)."""
        self._tools[tool_key(row.subtask_id, row.call_id, row.name, row.arguments)].appendleft(row)
        self.served_tools -= 1

    def in_doubt(self, subtask_id: str | None, call_id: str, name: str, arguments: str) -> bool:
        """Whether this call was in flight when the run stopped (answered once)."""
        key = tool_key(subtask_id, call_id, name, arguments)
        return self._in_flight.pop(key, None) is not None


class LifeEnded(ReplayDivergence):
    """Replay signal: the original's process ended here (killed, or paused), before the call or
    event at hand; the replay ends this life too and goes on as the original went on."""


@dataclass(kw_only=True)
class Cue:
    """When a replay may write its next record: at the position the original wrote it.

    `written` counts the replay's events; `last` is the position of the last event of the
    original's current life (a process from start, resume or approval to its end). A recorded
    call waits until the events before it are written, so concurrent subtasks interleave as in
    the original; one the original never reached in this life ends the life (`LifeEnded`).
    """

    written: int
    last: int
    final: bool = True
    _waiting: list[asyncio.Future[None]] = field(default_factory=list, init=False, repr=False)

    def wrote(self) -> None:
        """One more event is in the replay's log (the emitter calls this)."""
        self.written += 1
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    def before_event(self) -> None:
        """Called before an event is written: the original's life had no more events."""
        if not self.final and self.written >= self.last:
            raise LifeEnded(f"the original's process ended after event {self.last}")

    async def turn(self, seq: int) -> None:
        """Wait until the `seq - 1` events before this record are written."""
        if seq <= 0:
            return
        while self.written < seq - 1:
            if not self.final and self.written >= self.last:
                raise LifeEnded(f"the original's process ended after event {self.last}")
            future = asyncio.get_running_loop().create_future()
            self._waiting.append(future)
            try:
                await asyncio.wait_for(future, STALL_SECONDS)
            except TimeoutError:
                raise ReplayDivergence(
                    f"replay stalled at event {self.written + 1}: the record has event {seq} "
                    "next, but nothing the replay does writes the events before it"
                ) from None
        if self.written >= seq:
            raise ReplayDivergence(
                f"replay diverged at event {self.written}: the original recorded this call as "
                f"event {seq}, after events the replay has not written"
            )
        if not self.final and seq > self.last:
            raise LifeEnded(f"the original's process ended after event {self.last}")
