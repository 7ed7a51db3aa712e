"""A subtask's lifecycle, as pure transitions: start, finish (done or failed), stop on budget.

```
pending ─► running ─┬─► done | failed     (the executor's outcome, or a model error)
   │   ▲            └─► pending           (a spent budget stopped it: it runs again on resume)
   │   └── a later attempt (after a revision) starts again from pending
   └─► skipped                            (a revision planned its step again)
```

A subtask that is `running` when its node starts was cut off (a crash, or a pause for approval):
the same attempt goes on with the ledger it opened with, so a resumed attempt sends the very same
prompts and the journal can serve the calls it already made.
"""

from __future__ import annotations

from collections.abc import Callable

from agentkit.schema import Subtask

FINISHED = ("done", "failed")


def is_finished(subtask: Subtask) -> bool:
    """Done or failed: the record wins over a checkpoint that missed it; never redo it."""
    return subtask.status in FINISHED


def start(subtask: Subtask, ledger: Callable[[], str]) -> Subtask:
    """Mark `subtask` running; a new attempt opens with the ledger as it is now."""
    if subtask.status != "running" or subtask.opening_ledger is None:
        if subtask.status != "running":
            subtask.attempts += 1
        subtask.opening_ledger = ledger()
    subtask.status = "running"
    return subtask


def finish(
    subtask: Subtask, status: str, result: str, *, contradiction: str | None = None
) -> Subtask:
    """Record the attempt's outcome: `done` or `failed`, with its result."""
    if status not in FINISHED:
        raise ValueError(f"a subtask finishes 'done' or 'failed', not {status!r}")
    subtask.status = "done" if status == "done" else "failed"
    subtask.result = result
    subtask.contradiction = contradiction
    return subtask


def stop(subtask: Subtask) -> Subtask:
    """A spent budget cut the attempt off: not judged, it can run again when the run resumes."""
    subtask.status = "pending"
    return subtask


def supersede(subtask: Subtask, version: int) -> bool:
    """Skip a pending subtask of an older plan version, whose step plan `version` plans again;
    True when it changed."""
    if subtask.status != "pending" or subtask.plan_version >= version:
        return False
    subtask.status = "skipped"
    return True
