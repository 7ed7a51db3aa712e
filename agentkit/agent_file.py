"""Agent files: one YAML (or JSON) file that declares an agent, loaded with errors that say where
and how to fix them. Its JSON Schema is docs/agent.schema.json (`schema()`).

```yaml
agentkit_agent: 1
model: openai/gpt-4.1                  # a LiteLLM model string, or a factory: pkg.mod:make
aliases:                               # model tiers, used by calibration
  fast: openai/gpt-4.1-mini
  strong: {model: anthropic/claude-sonnet-4-5, reasoning_effort: high}
roles: {finalizer: fast}               # per-role models (or tier names)
tools: [files, shell, ./my_tools.py]   # packs, plugins, .py files, folders
mcpServers:                            # the shape MCP clients use
  github: {command: npx, args: [-y, "@modelcontextprotocol/server-github"],
           env: {GITHUB_TOKEN: "${GITHUB_TOKEN}"}}
  docs: {url: "https://docs.example.com/mcp", headers: {Authorization: "Bearer ${DOCS_TOKEN}"}}
budget: {max_tokens: 500000, max_cost_usd: 2.0}
context: {max_prompt_tokens: 30000}
max_concurrency: 4
sandbox: {mode: bwrap, network: false}
needs_approval: [run_shell]
```

Relative paths (tool files and folders, a model factory's file, a server's `cwd`, `workspace`)
are relative to the agent file's folder; `resolve` makes them absolute, and that resolved content
is what a run records. `${VAR}` in an `env` or `headers` value is read from the environment when
the agent is built and is recorded as written: a run's record holds the names of secrets, never
their values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from agentkit.errors import AgentFileError
from agentkit.models import DEFAULT_MODEL
from agentkit.schema import Budget, Role
from agentkit.tools import DEFAULT_TIMEOUT
from agentkit.yaml_files import load_yaml, read_text

FORMAT_VERSION = 1
DEFAULT_TOOLS = ["files", "shell", "python"]
SCHEMA_PATH = "docs/agent.schema.json"

__all__ = [
    "DEFAULT_TOOLS",
    "AgentFile",
    "HttpServer",
    "StdioServer",
    "Tier",
    "is_factory",
    "load",
    "override",
    "parse",
    "resolve",
    "schema",
]

Effort = Literal["low", "medium", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tier(_Strict):
    """A model tier: a LiteLLM model string (or a factory) and the reasoning effort it gets."""

    model: str = Field(min_length=1)
    reasoning_effort: Effort | None = None


class StdioServer(_Strict):
    """An MCP server agentkit starts as a process and speaks to over stdio."""

    type: Literal["stdio"] | None = None
    command: str = Field(min_length=1)
    args: list[str] = []
    env: dict[str, str] = Field(default={}, description="Added to the server's environment; "
                                "write secrets as ${VAR}, read from agentkit's environment.")
    cwd: str | None = None
    prefix: str = Field(default="", description="Put before every tool name of this server.")
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds per tool call.")
    needs_approval: bool = Field(default=False, description="Every tool of it needs approval.")


class HttpServer(_Strict):
    """An MCP server reached over streamable HTTP."""

    type: Literal["http", "streamable-http", "streamableHttp"] | None = None
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default={}, description="Sent with every request; write "
                                    "secrets as ${VAR}, read from agentkit's environment.")
    prefix: str = Field(default="", description="Put before every tool name of this server.")
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds per tool call.")
    needs_approval: bool = Field(default=False, description="Every tool of it needs approval.")


def _server_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "http" if "url" in value else "stdio" if "command" in value else None
    return "http" if isinstance(value, HttpServer) else "stdio"


Server = Annotated[
    Annotated[StdioServer, Tag("stdio")] | Annotated[HttpServer, Tag("http")],
    Discriminator(
        _server_kind, custom_error_type="mcp_server",
        custom_error_message="an MCP server needs 'command' (stdio) or 'url' (streamable HTTP)",
    ),
]


def _tier_kind(value: Any) -> str | None:
    return "str" if isinstance(value, str) else "Tier" if isinstance(value, dict | Tier) else None


TierLike = Annotated[
    Annotated[str, Tag("str")] | Annotated[Tier, Tag("Tier")],
    Discriminator(
        _tier_kind, custom_error_type="tier",
        custom_error_message="a tier is a model string or {model: ..., reasoning_effort: ...}",
    ),
]


class BudgetSpec(Budget):
    """Every budget of a run (see `agentkit.Budget`); null means unlimited."""

    model_config = ConfigDict(extra="forbid")


class ContextSpec(_Strict):
    max_prompt_tokens: int | None = Field(
        default=None, ge=1, description="A cap on every executor prompt; older history is "
        "compacted to stay under it.")


class SandboxSpec(_Strict):
    mode: Literal["bwrap", "none"] = "bwrap"
    network: bool = False


class AgentFile(_Strict):
    """The content of an agent file."""

    model_config = ConfigDict(extra="forbid", title="agentkit agent file",
                              populate_by_name=True)

    agentkit_agent: int = Field(default=FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    model: str = Field(default=DEFAULT_MODEL, min_length=1, description=(
        "A LiteLLM model string, or a factory returning a model: 'pkg.module:function' or "
        "'path/to/file.py:function'."))
    aliases: dict[str, TierLike] = Field(default={}, description=(
        "Model tiers such as 'fast' and 'strong' (used by calibration): a model string or "
        "factory, or {model, reasoning_effort}."))
    roles: dict[Role, str] = Field(default={}, description="A model (or tier name) per role.")
    tools: list[str] | None = Field(default=list(DEFAULT_TOOLS), description=(
        "Built-in packs, installed plugins (entry points), .py files and folders. Null in a "
        "run's record: the tools were given in Python."))
    mcp_servers: dict[str, Server] = Field(default={}, alias="mcpServers")
    budget: BudgetSpec = BudgetSpec()
    context: ContextSpec = ContextSpec()
    max_concurrency: int = Field(default=4, ge=1, description="Subtasks run at once.")
    sandbox: SandboxSpec = SandboxSpec()
    needs_approval: list[str] = Field(default=[], description="Tools whose calls need approval.")
    workspace: str | None = Field(default=None, description="The folder tools work in.")
    small: bool = Field(default=False, description=(
        "The model is small (say 1-8B through Ollama or llama.cpp): small-model mode, as the "
        "embedded local models always get: compact prompts with a worked example, only the tools "
        "a subtask needs, no model-written final answer."))
    calibrate_run: bool | None = Field(default=None, description=(
        "Whether a classifier call first decides if one executor can do the whole goal (then "
        "run as a plan of one step); null: only when the strategist's model is small."))

    def record(self) -> dict[str, Any]:
        """The content as JSON values, in the file's own spelling (`mcpServers`)."""
        return self.model_dump(mode="json", by_alias=True)


def schema() -> dict[str, Any]:
    """The JSON Schema of agent files (committed as docs/agent.schema.json)."""
    return AgentFile.model_json_schema(by_alias=True)


def write_schema(path: Path) -> None:
    path.write_text(json.dumps(schema(), indent=2) + "\n")


def load(path: str | Path) -> AgentFile:
    """Read an agent file and make its paths absolute; a bad one raises `AgentFileError`
    naming the file, the field and the fix."""
    path = Path(path)
    text = read_text(path, "agent file", AgentFileError,
                     "an agent file is YAML or JSON (see examples/agent.yaml)")
    return resolve(parse(text, str(path)), path.resolve().parent)


def parse(text: str, name: str) -> AgentFile:
    """The agent file `name` whose content is `text` (YAML, of which JSON is a subset)."""
    data = load_yaml(text, name, "agent file", AgentFileError, what="YAML or JSON")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AgentFileError(
            f"agent file {name!r} must be a mapping of fields such as 'model' and 'tools'; "
            f"found {type(data).__name__}. See {SCHEMA_PATH}"
        )
    try:
        return AgentFile.model_validate(data)
    except ValidationError as e:
        raise AgentFileError(f"agent file {name!r}: {_describe(e)}") from e


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        loc = [str(p) for p in item["loc"] if p not in ("stdio", "http", "str", "Tier")]
        where = f"field {'.'.join(loc)!r}" if loc else "the file"
        if loc[-1:] == ["[key]"]:
            where = f"field {'.'.join(loc[:-2])!r}, key {loc[-2]!r}"
        message = item["msg"].removeprefix("Value error, ")
        kind = item["type"]
        if kind == "extra_forbidden":
            message = f"unknown field; remove it or fix its spelling (fields: {SCHEMA_PATH})"
        elif kind == "missing":
            message = "missing; add it"
        elif kind == "literal_error":
            message = f"{item['input']!r} is not allowed; {message[0].lower()}{message[1:]}"
        elif kind == "string_pattern_mismatch" and loc and loc[-1] == "url":
            message = f"{item['input']!r} is not an http(s) URL, e.g. 'http://127.0.0.1:8000/mcp'"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


_MODULE_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_FILE_REF = re.compile(r"^(?P<file>.+\.py):(?P<name>[A-Za-z_]\w*)$")


def is_factory(model: str) -> bool:
    """Whether `model` names a factory (`file.py:function`, `module:function`), not a LiteLLM
    model string. A `module:function` form counts only when the module can be found, so
    model strings such as 'llama3:latest' stay model strings."""
    if _FILE_REF.match(model):
        return True
    if not _MODULE_REF.match(model):
        return False
    import importlib.util

    top = model.split(":", 1)[0].split(".", 1)[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def resolve(spec: AgentFile, base: Path) -> AgentFile:
    """`spec` with every relative path made absolute against `base` (the file's folder)."""

    def model(value: str) -> str:
        found = _FILE_REF.match(value)
        if found is None:
            return value
        return f"{_absolute(found['file'], base)}:{found['name']}"

    aliases = {name: model(t) if isinstance(t, str) else t.model_copy(
        update={"model": model(t.model)}) for name, t in spec.aliases.items()}
    servers = {
        name: s.model_copy(update={"cwd": _absolute(s.cwd, base)})
        if isinstance(s, StdioServer) and s.cwd else s
        for name, s in spec.mcp_servers.items()
    }
    return spec.model_copy(update={
        "model": model(spec.model),
        "aliases": aliases,
        "roles": {role: model(m) for role, m in spec.roles.items()},
        "tools": None if spec.tools is None else [_tool_ref(t, base) for t in spec.tools],
        "mcp_servers": servers,
        "workspace": _absolute(spec.workspace, base) if spec.workspace else None,
    })


def _absolute(path: str, base: Path) -> str:
    return str((base / Path(path).expanduser()).resolve())


def _tool_ref(ref: str, base: Path) -> str:
    """A pack or plugin name stays a name (as `load_tools` tries names first); a path becomes
    absolute."""
    from agentkit.plugins import builtin_packs, installed_plugins

    is_name = "/" not in ref and "\\" not in ref and not ref.endswith(".py")
    if is_name and (ref in {*builtin_packs(), *installed_plugins()} or not (base / ref).exists()):
        return ref
    return _absolute(ref, base)


def override(spec: AgentFile, *, base: Path, **flags: Any) -> AgentFile:
    """`spec` with the command line's flags over its fields (None: not given), its paths
    relative to `base`.

    Flags: model, tools, workspace, max_prompt_tokens, max_concurrency, sandbox,
    sandbox_network, and any budget field (max_tokens, max_cost_usd, ...).
    """
    given = {k: v for k, v in flags.items() if v is not None}
    data = spec.record()
    for key in ("model", "tools", "max_concurrency"):
        if key in given:
            data[key] = given.pop(key)
    if "workspace" in given:
        data["workspace"] = str(given.pop("workspace"))
    if "max_prompt_tokens" in given:
        data["context"] = {**data["context"], "max_prompt_tokens": given.pop("max_prompt_tokens")}
    if "sandbox" in given:
        data["sandbox"] = {**data["sandbox"], "mode": given.pop("sandbox")}
    if "sandbox_network" in given:
        data["sandbox"] = {**data["sandbox"], "network": given.pop("sandbox_network")}
    data["budget"] = {**data["budget"], **given}
    try:
        merged = AgentFile.model_validate(data)
    except ValidationError as e:
        raise AgentFileError(f"command-line flags: {_describe(e)}") from e
    return resolve(merged, base)
