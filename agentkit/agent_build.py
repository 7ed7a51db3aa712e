"""From an agent file's content to the parts of an `Agent`: models (factories called), tools
loaded, MCP servers described (started by the agent around each run, which is when their
`${NAME}` secrets are read).

Also the fingerprints of an agent's tools, which a run records so that resuming it with other
tools is refused rather than guessed at (`check_tools`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.agent_file import DEFAULT_TOOLS, AgentFile, HttpServer, StdioServer, Tier, is_factory
from agentkit.errors import AgentFileError, UserError
from agentkit.models.scripted import ScriptedBase
from agentkit.plugins import import_file, load_tools
from agentkit.tools import Toolset

__all__ = [
    "Parts", "check_tools", "load_factory", "parts", "refs_from_prints", "tool_prints",
    "variables",
]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(kw_only=True)
class Parts:
    """What an `Agent` is built from, for one agent file."""

    model: str | ScriptedBase
    roles: dict[str, str | ScriptedBase] = field(default_factory=dict)
    aliases: dict[str, str | ScriptedBase] = field(default_factory=dict)
    efforts: dict[str, str] = field(default_factory=dict)
    tools: list[Toolset] = field(default_factory=list)
    servers: list[Any] = field(default_factory=list)  # MCPToolset, connected per run


def parts(spec: AgentFile, *, tools: bool = True) -> Parts:
    """Call the model factories, load the tools and describe the MCP servers of `spec`.

    Args:
        tools: load the tools and servers too (False for the models alone).
    """
    made: dict[str, str | ScriptedBase] = {}  # one call per factory, however often it is named

    def model(value: str) -> str | ScriptedBase:
        if value not in made:
            made[value] = load_factory(value) if is_factory(value) else value
        return made[value]

    aliases: dict[str, str | ScriptedBase] = {}
    efforts: dict[str, str] = {}
    for name, tier in spec.aliases.items():
        aliases[name] = model(tier if isinstance(tier, str) else tier.model)
        if isinstance(tier, Tier) and tier.reasoning_effort is not None:
            efforts[name] = tier.reasoning_effort
    roles: dict[str, str | ScriptedBase] = {
        role: aliases.get(m) or model(m) for role, m in spec.roles.items()}
    found = Parts(model=model(spec.model), roles=roles, aliases=aliases, efforts=efforts)
    if tools:
        refs = DEFAULT_TOOLS if spec.tools is None else spec.tools
        found.tools = [load_tools(ref) for ref in refs]
        found.servers = [_server(s) for s in spec.mcp_servers.values()]
    return found


def load_factory(reference: str) -> str | ScriptedBase:
    """Call the factory `module:function` or `path/to/file.py:function`; it must return a
    LiteLLM model string or a scripted model (`FunctionModel`, `ScriptedModel`)."""
    where, name = reference.rsplit(":", 1)
    module = _import_file(Path(where)) if where.endswith(".py") else _import_module(where)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise AgentFileError(
            f"model factory {reference!r}: {where!r} has no function {name!r}; define it or "
            "fix the name after ':'"
        )
    try:
        value = factory()
    except Exception as e:
        raise AgentFileError(
            f"model factory {reference!r} failed: {type(e).__name__}: {e}") from e
    if not isinstance(value, str | ScriptedBase):
        raise AgentFileError(
            f"model factory {reference!r} returned {type(value).__name__!r}; it must return a "
            "LiteLLM model string or a FunctionModel/ScriptedModel"
        )
    return value


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise AgentFileError(
            f"model factory module {name!r} cannot be imported ({e}); put its folder on "
            "PYTHONPATH or name the file instead: path/to/file.py:function"
        ) from e


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise AgentFileError(f"model factory file {str(path)!r} does not exist; fix the path")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"agentkit_model_factory_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    return import_file(path, name, what="model factory file", error=AgentFileError)


def _server(server: StdioServer | HttpServer) -> Any:
    from agentkit.mcp import MCPToolset

    # `${NAME}` in env and headers stays as written: MCPToolset reads it when the server starts.
    common = {"prefix": server.prefix, "timeout": server.timeout,
              "needs_approval": server.needs_approval}
    if isinstance(server, HttpServer):
        return MCPToolset(url=server.url, headers=server.headers, **common)  # type: ignore[arg-type]
    return MCPToolset(command=server.command, args=server.args, env=server.env, cwd=server.cwd,
                      **common)  # type: ignore[arg-type]


def tool_prints(tools: Toolset) -> dict[str, dict[str, str]]:
    """Per tool: where it comes from and the digest of its schema (name and parameters)."""
    return {
        t.name: {"source": t.source, "digest": hashlib.sha256(
            json.dumps(t.parameters, sort_keys=True).encode()).hexdigest()[:16]}
        for t in tools
    }


def check_tools(run_id: str, recorded: Mapping[str, Mapping[str, str]], tools: Toolset) -> None:
    """Refuse (`UserError`) to go on with tools that differ from those run `run_id` had."""
    now = tool_prints(tools)
    missing = [n for n in recorded if n not in now]
    changed = [n for n in recorded if n in now and now[n]["digest"] != recorded[n]["digest"]]
    added = [n for n in now if n not in recorded]
    if not (missing or changed or added):
        return
    problems = []
    if missing:
        problems.append("missing tool(s) " + ", ".join(
            f"{n!r} (from {recorded[n]['source']})" for n in missing))
    if changed:
        problems.append("tool(s) whose schema changed " + ", ".join(map(repr, changed)))
    if added:
        problems.append("tool(s) the run did not have " + ", ".join(map(repr, added)))
    raise UserError(
        f"run {run_id!r} cannot go on with these tools: {'; '.join(problems)}. Nothing was "
        "changed; give the run the tools it was made with (the agent file, --tools, the MCP "
        "servers it used) and try again"
    )


def variables(spec: AgentFile) -> list[str]:
    """The environment variables the MCP servers of `spec` read (`${VAR}`), in order."""
    found: list[str] = []
    for server in spec.mcp_servers.values():
        values = server.headers if isinstance(server, HttpServer) else server.env
        for value in values.values():
            found += [n for n in _VAR.findall(value) if n not in found]
    return found


_PACK_SOURCE = re.compile(r"^(?:pack|plugin) '(?P<name>[^']+)'")
_FILE_SOURCE = re.compile(r"^(?P<file>.+\.py):[A-Za-z_][\w-]*$")


def refs_from_prints(prints: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The tool references (packs, plugins, files) that gave a run's tools, read from where
    each came from; a tool from elsewhere (a function given in Python, an MCP server given as
    an object) has none, and `check_tools` then names it as missing."""
    refs: list[str] = []
    for print_ in prints.values():
        source = print_["source"]
        found = _PACK_SOURCE.match(source) or _FILE_SOURCE.match(source)
        if found is not None:
            ref = found.groupdict().get("name") or found["file"]
            refs += [ref] if ref not in refs else []
    return refs
