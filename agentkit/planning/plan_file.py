"""Saved plans: a plan version exported to YAML, loaded back with errors that say where and how.

A plan file holds an optional goal and the plan's fields:

```yaml
agentkit_plan: 1
goal: Fix the failing test in calc.py
strategy: Reproduce, fix, re-run.
steps:
  - id: s1
    title: Run the tests
    ...
```
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentkit.errors import PlanFileError
from agentkit.schema import Plan
from agentkit.yaml_files import load_yaml, read_text

FORMAT_VERSION = 1


class PlanFile(Plan):
    """The content of a plan file: a `Plan` plus the format version and an optional goal."""

    model_config = ConfigDict(extra="forbid", title="agentkit plan file")

    agentkit_plan: int = Field(default=FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    goal: str | None = None


def schema() -> dict[str, Any]:
    """The JSON Schema of plan files (shipped as plans/plan.schema.json)."""
    return PlanFile.model_json_schema()


def dump(plan: Plan, goal: str | None) -> str:
    data = {
        "agentkit_plan": FORMAT_VERSION,
        "goal": goal,
        **plan.model_dump(exclude_defaults=False),
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export(plan: Plan, goal: str | None, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(plan, goal))
    except OSError as e:
        raise PlanFileError(f"cannot write plan file {str(path)!r}: {e}") from e


def load(path: str | Path) -> tuple[Plan, str | None]:
    """Read a plan file; a bad one raises `PlanFileError` naming the file, the place and the fix."""
    path = Path(path)
    text = read_text(path, "plan file", PlanFileError,
                     "a plan file is YAML, as `agentkit plans export` writes it")
    data = load_yaml(text, str(path), "plan file", PlanFileError)
    if not isinstance(data, dict):
        raise PlanFileError(
            f"plan file {str(path)!r} must be a mapping with 'strategy' and 'steps'; "
            f"found {type(data).__name__}. See plans/plan.schema.json"
        )
    try:
        parsed = PlanFile.model_validate(data)
    except ValidationError as e:
        raise PlanFileError(f"plan file {str(path)!r}: {_describe(e, data)}") from e
    plan = Plan.model_validate(parsed.model_dump(exclude={"agentkit_plan", "goal"}))
    return plan, parsed.goal


def load_plan(path: str | Path) -> tuple[Plan, str | None]:
    """Read a saved plan file: `(plan, goal)`; run it with `agent.run(goal, plan=plan)`."""
    return load(path)


def _describe(error: ValidationError, data: dict[str, Any]) -> str:
    problems = []
    for item in error.errors()[:5]:
        loc = item["loc"]
        where = ".".join(str(p) for p in loc) or "the file"
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            step = (data.get("steps") or [None] * (loc[1] + 1))[loc[1]]
            name = step.get("id") if isinstance(step, dict) else None
            where = f"step {loc[1] + 1}" + (f" ({name!r})" if name else "")
            if len(loc) > 2:
                where += f", field {'.'.join(str(p) for p in loc[2:])!r}"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field; remove it (see plans/plan.schema.json for the fields)"
        elif item["type"] == "missing":
            message = "missing; add it"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def write_schema(path: Path) -> None:
    path.write_text(json.dumps(schema(), indent=2) + "\n")


class PlanDiff(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[str]


def diff(old: Plan, new: Plan) -> PlanDiff:
    before = {s.id: s for s in old.steps}
    after = {s.id: s for s in new.steps}
    return PlanDiff(
        added=[i for i in after if i not in before],
        removed=[i for i in before if i not in after],
        changed=[i for i in after if i in before and after[i] != before[i]],
    )
