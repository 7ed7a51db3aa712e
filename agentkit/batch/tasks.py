"""Tasks files: JSON lines, one task each.

```jsonl
{"goal": "Create hello.py that prints hello", "check": "python hello.py | grep -qx hello"}
{"id": "primes", "goal": "Write primes.py ...", "check": "python -m pytest -q", "repeat": 3}
```

`goal` is required. `id` names the task (default `t<line>`); `check` is a shell command run in the
task's workspace after its run, exit 0 meaning the task passed (without one, a completed run
passes); `repeat` runs the task that many times, each in a workspace of its own, for pass^k.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentkit.errors import UserError
from agentkit.store.batches import NewTask

__all__ = ["TaskSpec", "expand", "load_tasks"]

_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,99}$")


class TaskSpec(BaseModel):
    """One line of a tasks file."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=_ID.pattern)
    goal: str = Field(min_length=1)
    check: str | None = Field(default=None, min_length=1)
    repeat: int = Field(default=1, ge=1, le=1000)


def load_tasks(path: str | Path) -> list[TaskSpec]:
    """The tasks of a JSONL file, each with its id; a bad line raises `UserError` naming it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UserError(f"tasks file {str(path)!r} cannot be read ({e.strerror}); give a JSONL "
                        "file with one {\"goal\": ...} per line") from e
    except UnicodeDecodeError as e:
        raise UserError(f"tasks file {str(path)!r} is not UTF-8 text") from e
    tasks: list[TaskSpec] = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            task = _parse(line, f"tasks file {str(path)!r}, line {number}")
            tasks.append(task if task.id else task.model_copy(update={"id": f"t{number}"}))
    if not tasks:
        raise UserError(f"tasks file {str(path)!r} has no tasks; write one JSON object per "
                        'line, e.g. {"goal": "Create hello.py", "check": "python hello.py"}')
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise UserError(f"tasks file {str(path)!r}: task id {task.id!r} is used twice; "
                            "give each task its own id")
        seen.add(task.id or "")
    return tasks


def _parse(line: str, where: str) -> TaskSpec:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise UserError(f"{where}: not JSON ({e.msg} at column {e.colno}); write one JSON "
                        'object per line, e.g. {"goal": "..."}') from e
    if not isinstance(data, dict):
        raise UserError(f"{where}: a task is a JSON object with 'goal' (and optional 'id', "
                        f"'check', 'repeat'); found {type(data).__name__}")
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as e:
        # A misspelt field first: it is why a required one is "missing".
        first = sorted(e.errors(), key=lambda item: item["type"] != "extra_forbidden")[0]
        field = ".".join(str(p) for p in first["loc"]) or "the task"
        message = ("unknown field; the fields are goal, id, check, repeat"
                   if first["type"] == "extra_forbidden" else first["msg"])
        raise UserError(f"{where}: field {field!r}: {message}") from e


def expand(tasks: list[TaskSpec], workspaces: Path) -> list[NewTask]:
    """One row per repetition, each with its own workspace `workspaces/<id>-<repetition>`."""
    return [
        NewTask(key=f"{task.id}#{rep}", task_id=task.id or "", repetition=rep, position=index,
                goal=task.goal.strip(), check_command=task.check,
                workspace=str((workspaces / f"{task.id}-{rep}").resolve()))
        for index, task in enumerate(tasks) for rep in range(1, task.repeat + 1)
    ]
