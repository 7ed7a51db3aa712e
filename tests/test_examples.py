"""The examples in examples/ run end to end, driven by scripted models that act like competent ones
(tests/example_models.py): the same `run.py` code users run, checked on what really happened — the
files edited and the tests green in the workspace, the report's citations true to the corpus, the
plugin and MCP tools really called."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import pytest

from agentkit import FunctionModel, Store, ToolContext, UserError, load_tools
from agentkit.planning import plan_file
from agentkit.store import ToolCallRow
from tests.example_models import (
    QUESTIONS_PATTERN,
    coding_model,
    custom_answer,
    custom_calls,
    research_model,
    time_answer,
    time_calls,
    tool_use_model,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def example(name: str) -> ModuleType:
    """Import examples/NAME/run.py as a module, the way `python examples/NAME/run.py` runs it."""
    path = EXAMPLES / name / "run.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The example repository's tests need no plugin; loading the ones installed here (LangSmith's,
# pytest-asyncio, ...) takes seconds per run.
NO_PLUGINS = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture
def venv_python_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python` in the shell tool is this interpreter (which has pytest), as in an active venv."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for name, value in NO_PLUGINS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AGENTKIT_SANDBOX_ENV", ",".join(NO_PLUGINS))  # through the scrub


def pytest_in(workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=workspace, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **NO_PLUGINS})


def tool_calls(db: Path, run_id: str) -> list[ToolCallRow]:
    return Store(str(db)).get_tool_calls(run_id)


# --- coding agent -------------------------------------------------------------------------------

REPO = EXAMPLES / "coding_agent" / "repo"


def test_the_shipped_repository_has_failing_tests(tmp_path: Path) -> None:
    done = pytest_in(shutil.copytree(REPO, tmp_path / "repo"))
    assert done.returncode == 1
    assert "2 failed, 4 passed" in done.stdout


@pytest.mark.usefixtures("venv_python_first")
def test_coding_agent_fixes_the_code_and_revises_its_plan_while_tests_stay_red(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    result = example("coding_agent").main(["--workspace", str(workspace)],
                                          model=FunctionModel(coding_model))

    assert result.status == "completed", result.error
    assert re.fullmatch(r"all tests pass: 6 passed in [\d.]+s", result.answer or "")
    # The bugs are really fixed in the workspace, the tests untouched, and the suite is green.
    for name in ("test_calc.py", "test_textutils.py"):
        assert (workspace / name).read_text() == (REPO / name).read_text()
    assert "sum(values) / len(values)" in (workspace / "calc.py").read_text()
    assert "title.lower()" in (workspace / "textutils.py").read_text()
    assert (REPO / "calc.py").read_text() != (workspace / "calc.py").read_text()
    assert pytest_in(workspace).returncode == 0

    db = workspace / ".agentkit" / "runs.db"
    calls = tool_calls(db, result.run_id)
    shell = [str(c.result) for c in calls if c.name == "run_shell"]
    assert shell[0].startswith("exit code 1") and "2 failed, 4 passed" in shell[0]
    assert shell[-1].startswith("exit code 0") and "6 passed" in shell[-1]
    edits = [(c.status, json.loads(str(c.arguments))["path"])
             for c in calls if c.name == "edit_file"]
    assert edits == [("ok", "calc.py"), ("ok", "textutils.py")]

    # The first fix ran out of steps with a test still red; the monitor revised the plan.
    store = Store(str(db))
    versions = store.plan_versions(result.run_id)
    assert [(v.version, v.trigger) for v in versions] == [(1, "initial"), (2, "failure")]
    assert "not finished within the step limit" in versions[1].reason
    subtasks = store.get_subtasks(result.run_id)
    assert [(s.step_id, s.plan_version, s.status) for s in subtasks] == [
        ("s1", 1, "done"), ("s2", 1, "failed"), ("s3", 1, "skipped"),
        ("s2", 2, "done"), ("s3", 2, "done"),
    ]
    failed_output = [str(c.result) for c in calls
                     if c.name == "run_shell" and c.subtask_id == subtasks[1].id]
    assert failed_output[-1].startswith("exit code 1")  # red when the step limit cut it off


@pytest.mark.usefixtures("venv_python_first")
async def test_coding_plan_file_drives_a_run(tmp_path: Path) -> None:
    coding = example("coding_agent")
    plan, goal = plan_file.load(ROOT / "plans" / "coding_agent.yaml")
    assert goal == coding.GOAL
    workspace = coding.prepare_workspace(tmp_path / "ws")
    model = FunctionModel(coding_model)
    agent = coding.build_agent(model, workspace, db=tmp_path / "runs.db")

    result = await agent.run(goal, plan=plan)

    assert result.status == "completed", result.error
    assert pytest_in(workspace).returncode == 0
    store = Store(str(tmp_path / "runs.db"))
    assert [(v.version, v.trigger) for v in store.plan_versions(result.run_id)] == [
        (1, "plan_file")]
    assert [(s.step_id, s.status) for s in store.get_subtasks(result.run_id)] == [
        ("reproduce", "done"), ("repair", "done"), ("verify", "done")]
    assert "strategist" not in {r.role for r in model.requests}  # the plan came from the file
    edited = {c.subtask_id for c in store.get_tool_calls(result.run_id)
              if c.name == "edit_file"}
    assert edited == {"t2"}  # only the repair step edits


# --- research agent -----------------------------------------------------------------------------

CORPUS = EXAMPLES / "research_agent" / "corpus"
CITED = re.compile(r"^- (.+) \((corpus/[\w.-]+\.md):(\d+)\)$", re.M)


def check_report(report: str, questions: list[str]) -> list[tuple[str, str, int]]:
    """Every cited line exists in the corpus and says the cited fact; returns the citations."""
    cited = [(fact, file, int(line)) for fact, file, line in CITED.findall(report)]
    for fact, file, line in cited:
        lines = (CORPUS / file.removeprefix("corpus/")).read_text().splitlines()
        assert 1 <= line <= len(lines), f"{file}:{line} does not exist"
        assert fact in lines[line - 1], f"{file}:{line} does not say {fact!r}"
    for question in questions:
        assert f"## {question}" in report
    return cited


def test_the_corpus_is_a_dozen_documents_with_figures() -> None:
    files = sorted(CORPUS.glob("*.md"))
    assert len(files) >= 12
    assert all(re.search(r"\d", f.read_text()) for f in files)


def test_research_agent_writes_a_report_with_true_citations(tmp_path: Path) -> None:
    research = example("research_agent")
    workspace = tmp_path / "ws"
    result = research.main(["--workspace", str(workspace)], model=FunctionModel(research_model))

    assert result.status == "completed", result.error
    report = (workspace / "report.md").read_text()
    cited = check_report(report, research.QUESTIONS)
    assert len(cited) >= 12
    assert result.answer == f"report.md written: {len(cited)} cited facts from 4 notes files"
    # The facts that answer each question were found by the search tool, not made up.
    for fact in ("61% of the city's water", "27% of the city's water",
                 "184 million litres per day", "13.4%", "4,800 acoustic loggers",
                 "fell to 34% of its capacity", "Demand fell by 18%"):
        assert fact in report
    assert sorted(p.name for p in (workspace / "notes").iterdir()) == [
        "q1.md", "q2.md", "q3.md", "q4.md"]

    calls = tool_calls(workspace / ".agentkit" / "runs.db", result.run_id)
    searches = [c for c in calls if c.name == "search_docs"]
    assert len(searches) == 4 and all(c.status == "ok" for c in searches)
    assert all(str(c.result).startswith('["corpus/') for c in searches)
    writes = [json.loads(str(c.arguments))["path"] for c in calls if c.name == "write_file"]
    assert writes[-1] == "report.md" and len(writes) == 5
    assert QUESTIONS_PATTERN.findall(research.GOAL) == research.QUESTIONS


async def test_research_plan_file_drives_a_run(tmp_path: Path) -> None:
    research = example("research_agent")
    plan, goal = plan_file.load(ROOT / "plans" / "research_agent.yaml")
    assert goal is not None and QUESTIONS_PATTERN.findall(goal) == research.QUESTIONS
    workspace = research.prepare_workspace(tmp_path / "ws")
    agent = research.build_agent(FunctionModel(research_model), workspace,
                                 db=tmp_path / "runs.db")

    result = await agent.run(goal, plan=plan)

    assert result.status == "completed", result.error
    assert len(check_report((workspace / "report.md").read_text(), research.QUESTIONS)) >= 12
    store = Store(str(tmp_path / "runs.db"))
    assert [v.trigger for v in store.plan_versions(result.run_id)] == ["plan_file"]


# --- custom tools: a folder loaded by path, a package through its entry point -------------------

CUSTOM = EXAMPLES / "custom_tool"


async def test_a_folder_of_tool_modules_loads_by_path(tmp_path: Path) -> None:
    tools = load_tools(CUSTOM / "my_tools")
    assert tools.names == ["days_between", "convert_length"]
    ctx = ToolContext(workspace=tmp_path)
    days_between, convert_length = tools
    days = await days_between.run({"start": "2025-03-01", "end": "2025-12-25"}, ctx)
    assert (days.status, days.content) == ("ok", "299")
    bad = await convert_length.run({"value": 1, "from_unit": "km", "to_unit": "yd"}, ctx)
    assert bad.status == "error" and "unknown unit 'yd'" in bad.content


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/custom_tool/pkg really installed (pip, offline) into a folder put on sys.path."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(CUSTOM / "pkg")],
        check=True, capture_output=True, timeout=300,
    )
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.delitem(sys.modules, "agentkit_textstats", raising=False)
    return target


def test_the_package_declares_its_entry_point() -> None:
    project = tomllib.loads((CUSTOM / "pkg" / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["agentkit.tools"] == {"textstats": "agentkit_textstats"}


def test_the_installed_package_is_found_by_its_entry_point_name(installed_plugin: Path) -> None:
    assert "textstats" in (installed_plugin / "agentkit_textstats-0.1.0.dist-info" /
                           "entry_points.txt").read_text()
    tools = load_tools("textstats")
    assert tools.names == ["text_stats"]
    assert tools.get("text_stats").source == "plugin 'textstats' (agentkit_textstats):text_stats"  # type: ignore[union-attr]


@pytest.mark.usefixtures("installed_plugin")
def test_custom_tool_agent_calls_the_plugin_and_folder_tools(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    model = FunctionModel(tool_use_model(custom_calls, custom_answer))
    result = example("custom_tool").main(["--workspace", str(workspace)], model=model)

    assert result.status == "completed", result.error
    words = len((workspace / "README.md").read_text().split())
    assert result.answer == f"{words} words; 25.476219 miles; 299 days"  # 41 km, in miles
    calls = tool_calls(workspace / ".agentkit" / "runs.db", result.run_id)
    assert [(c.name, c.status) for c in calls] == [
        ("text_stats", "ok"), ("convert_length", "ok"), ("days_between", "ok"), ("finish", "ok")]


def test_without_the_package_the_example_says_how_to_install_it() -> None:
    if entry_points(group="agentkit.tools", name="textstats"):
        pytest.skip("the example plugin is installed in this environment")
    with pytest.raises(UserError, match="pip install -e examples/custom_tool/pkg"):
        example("custom_tool").my_tools()


# --- MCP ----------------------------------------------------------------------------------------


async def test_mcp_example_calls_the_real_time_server(tmp_path: Path) -> None:
    mcp = example("mcp_tool")
    model = FunctionModel(tool_use_model(time_calls, time_answer))

    result = await mcp.run(model, tmp_path)

    assert result.status == "completed", result.error
    calls = tool_calls(tmp_path / ".agentkit" / "runs.db", result.run_id)
    assert [(c.name, c.status) for c in calls[:2]] == [("convert_time", "ok")] * 2
    tokyo, new_york = (json.loads(str(c.result))["target"] for c in calls[:2])
    assert tokyo["datetime"][11:16] == "00:00"  # Japan has no daylight saving time
    assert result.answer == (f"15:00 UTC is 00:00 in Asia/Tokyo; 15:00 UTC is "
                             f"{new_york['datetime'][11:16]} in America/New_York")
    executor = next(r for r in model.requests if r.role == "executor")
    assert {"get_current_time", "convert_time"} <= set(executor.tool_names)



@pytest.mark.parametrize("name", ["coding_agent", "custom_tool", "mcp_tool", "research_agent"])
def test_an_example_without_a_model_says_which_to_give(name: str) -> None:
    done = subprocess.run([sys.executable, str(EXAMPLES / name / "run.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--model is required: this example needs a capable model" in done.stderr
    assert "local/smollm2 only shows that the pipeline runs" in done.stderr
