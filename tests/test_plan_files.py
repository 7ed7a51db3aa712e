"""Saved plans: export → run → the same plan; bad files name the file, the place and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import FunctionModel, PlanFileError
from agentkit.cli import app
from agentkit.planning import plan_file
from agentkit.store import Store
from tests.scripts import hello_agent, hello_primes

PLANS = Path(__file__).resolve().parent.parent / "plans"
GOAL = "Create hello.py that prints the first 10 primes, then run it"


def test_shipped_schema_is_current() -> None:
    assert json.loads((PLANS / "plan.schema.json").read_text()) == plan_file.schema()


@pytest.mark.parametrize("name", ["fix_failing_test.yaml", "survey_documents.yaml"])
def test_shipped_plans_load(name: str) -> None:
    plan, goal = plan_file.load(PLANS / name)
    assert goal and len(plan.steps) >= 3


def test_export_then_run_uses_the_same_plan_without_the_strategist(
    db: str, workspace: Path, tmp_path: Path
) -> None:
    first = hello_agent(db, workspace).run_sync(GOAL)
    out = tmp_path / "hello.yaml"
    exported = CliRunner().invoke(
        app, ["plans", "export", first.run_id, "-o", str(out), "--db", db]
    )
    assert exported.exit_code == 0, exported.output

    model = FunctionModel(hello_primes)
    plan, goal = plan_file.load(out)
    again = hello_agent(db, workspace, model).run_sync(goal or "", plan=plan)

    assert again.status == "completed"
    assert again.plan == first.plan
    assert "strategist" not in [r.role for r in model.requests]
    versions = Store(db).plan_versions(again.run_id)
    assert versions[0].trigger == "plan_file"


def test_cli_runs_a_plan_file(db: str, workspace: Path) -> None:
    # A plan file whose steps the scripted model can carry out (it follows titles).
    plan, _ = plan_file.load(PLANS / "fix_failing_test.yaml")
    assert plan.steps[0].id == "reproduce"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--plan",
            str(PLANS / "fix_failing_test.yaml"),
            "--model",
            "scripted/nope",
            "--db",
            db,
            "--workspace",
            str(workspace),
        ],
    )
    assert result.exit_code == 2
    assert "no scripted model named 'nope'" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("strategy: x\nsteps: [\n", r"is not valid YAML at line 3"),
        ("- just\n- a list\n", r"must be a mapping with 'strategy' and 'steps'; found list"),
        (
            "strategy: x\nsteps:\n- {id: build, title: Build}\n"
            "- {id: deploy, title: Deploy, depends_on: [biuld]}\n",
            r"step 2 \('deploy'\) depends on 'biuld', which is not an earlier step; "
            r"earlier steps: 'build'",
        ),
        (
            "strategy: x\nsteps:\n- {id: a, title: A, colour: red}\n",
            r"step 1 \('a'\), field 'colour': unknown field; remove it",
        ),
        ("strategy: x\nsteps:\n- {id: a}\n", r"step 1 \('a'\), field 'title': missing; add it"),
        ("steps:\n- {id: a, title: A}\n", r"strategy: missing; add it"),
    ],
)
def test_bad_plan_files(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PlanFileError, match=expected) as info:
        plan_file.load(path)
    assert str(path) in str(info.value)


def test_missing_plan_file_via_cli(db: str, workspace: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", "--plan", str(tmp_path / "none.yaml"), "--db", db, "--workspace", str(workspace)],
    )
    assert result.exit_code == 2
    assert "none.yaml' cannot be read" in result.output


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize("content", [PNG, bytes(range(256)) * 4], ids=["png", "random"])
def test_a_binary_plan_file_is_refused_by_name_not_with_a_traceback(
    db: str, workspace: Path, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "picture.yaml"
    path.write_bytes(content)
    with pytest.raises(PlanFileError, match=r"picture\.yaml' is not UTF-8 text"):
        plan_file.load(path)

    result = CliRunner().invoke(
        app, ["run", "--plan", str(path), "--db", db, "--workspace", str(workspace)])
    assert result.exit_code == 2
    assert "picture.yaml' is not UTF-8 text" in result.output
    assert "Traceback" not in result.output
