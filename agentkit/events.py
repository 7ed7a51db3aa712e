"""Events: what a run does, in order, on one path to the event log and to the listener.

Every event is written to the run's append-only log and then passed to the `on_event` listener,
so both see the very same stream. Events that come with a record (a model call, a tool call) are
written in one transaction with it (`Store.record_model_call(event=...)`) and then `tell`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

EventKind = Literal[
    "calibrated",  # the run's budget and tools
    "plan",  # a plan version: trigger, reason, steps
    "subtask",  # a subtask made by the decomposer
    "step_split",  # a step over budget split: by the decomposer model, or the fallback (why)
    "monitor",  # the monitor's decision after a round
    "subtask_started",
    "subtask_stopped",  # cut off by a spent budget; it runs again on resume
    "subtask_finished",
    "model_call",
    "tool_started",  # a tool is about to run (a kill after this leaves the call in doubt)
    "tool_call",
    "context_compacted",
    "approval_requested",
    "approval_given",
    "resumed",
    "dispatch_repaired",  # a resumed checkpoint had nothing to run: the monitor decided again
    "forked",
    "run_finished",
]

EventListener = Callable[[str, dict[str, Any]], None]


class EventLog(Protocol):
    """Where events are kept (the run database)."""

    def add_event(
        self, run_id: str, kind: str, data: dict[str, Any], *, subtask_id: str | None = None
    ) -> int: ...


@dataclass(kw_only=True)
class Emitter:
    """The one path of a run's events: its log first, then its listener.

    Args:
        log: the event log (the store).
        run_id: the run the events belong to.
        listener: called with each event's kind and data (with its `subtask_id`).
        before_write: called before `emit` writes an event (a replay may refuse it there).
        written: called once for every event written, `emit`ted or with its record.
    """

    log: EventLog
    run_id: str
    listener: EventListener | None = None
    before_write: Callable[[], None] | None = None
    written: Callable[[], None] | None = None

    def emit(self, kind: EventKind, data: dict[str, Any], *, subtask_id: str | None = None) -> None:
        """Append an event to the log and tell the listener."""
        if self.before_write is not None:
            self.before_write()
        self.log.add_event(self.run_id, kind, data, subtask_id=subtask_id)
        self.tell(kind, data, subtask_id=subtask_id)

    def tell(self, kind: EventKind, data: dict[str, Any], *, subtask_id: str | None = None) -> None:
        """Tell the listener of an event just written (by `emit`, or with its record)."""
        if self.written is not None:
            self.written()
        if self.listener is not None:
            self.listener(kind, {**data, "subtask_id": subtask_id})
