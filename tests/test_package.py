"""The package's shape: public API, lazy imports, one home per dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import agentkit

ROOT = Path(__file__).resolve().parent.parent / "agentkit"


def test_public_api_is_exactly_this() -> None:
    assert sorted(agentkit.__all__) == sorted(
        [
            "Agent",
            "AgentFileError",
            "AgentkitError",
            "Budget",
            "BudgetExceeded",
            "Effort",
            "FunctionModel",
            "ModelConfigError",
            "ModelError",
            "ModelRequest",
            "ModelRequestsBlocked",
            "Plan",
            "PlanFileError",
            "PlanStep",
            "Reply",
            "RunError",
            "RunEvent",
            "RunResult",
            "ScriptedModel",
            "StorageConfigError",
            "StorageError",
            "Store",
            "StructuredOutputError",
            "Subtask",
            "Tool",
            "ToolCall",
            "ToolContext",
            "ToolDefinitionError",
            "ToolRetry",
            "Toolset",
            "Usage",
            "UserError",
            "allow_model_requests",
            "load_plan",
            "load_tools",
            "set_allow_model_requests",
            "tool",
        ]
    )
    for name in agentkit.__all__:
        assert getattr(agentkit, name) is not None


def test_import_agentkit_does_not_import_litellm_or_langgraph() -> None:
    code = (
        "import sys, agentkit; "
        "print(sorted(m for m in ('litellm', 'langgraph', 'llama_cpp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_each_dependency_has_one_home() -> None:
    homes = {
        "litellm": ("models/",),
        "llama_cpp": ("models/local.py",),
        "sqlalchemy": ("store/",),
        # server.py: the LangGraph server's one-node shell around Agent.run, not the agent's wiring
        "langgraph": ("graph.py", "store/", "server.py"),
        "ray": ("batch/_ray.py",),
        "mcp": ("mcp.py",),
        "typer": ("cli.py",),
        "jsonschema": ("_tool_schema.py", "tools.py"),  # tools.py: the Validator type only
        "referencing": ("_tool_schema.py",),
    }
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for dep in _imports(path) & homes.keys():
            assert rel.startswith(homes[dep]), f"{rel} imports {dep}; only {homes[dep]} may"


def test_every_function_of_the_package_is_at_most_60_lines() -> None:
    root = Path(agentkit.__file__).parent
    long = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines})")
    assert not long, "functions over 60 lines: " + ", ".join(long)
