"""Tools: typed Python functions the model may call.

A tool's JSON Schema comes from its type hints (through Pydantic) and its description from its
docstring. Registration is explicit: tools are grouped in a `Toolset` given to an `Agent`.

Errors follow one policy (`Tool.run`): invalid arguments and exceptions go back to the model as the
tool's result; a hung tool is stopped by its timeout; a developer's mistake (a duplicate name, an
unsupported signature) raises `ToolDefinitionError` at once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agentkit.errors import ToolDefinitionError, ToolRetry, UserError

ToolStatus = Literal["ok", "invalid", "error", "timeout", "denied"]
DEFAULT_TIMEOUT = 60.0
_PACK_NAMES = ("files", "shell", "python")


@dataclass(kw_only=True, frozen=True)
class ToolContext:
    """What a tool may ask for by declaring a parameter annotated `ToolContext`."""

    workspace: Path
    run_id: str | None = None
    subtask_id: str | None = None

    def resolve(self, path: str) -> Path:
        """`path` inside the workspace; raises `ToolRetry` if it escapes (`..`, absolute, symlink)."""
        root = self.workspace.resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise ToolRetry(
                f"path {path!r} is outside the workspace {str(root)!r}; use a path relative to it"
            )
        return target


@dataclass(kw_only=True, frozen=True)
class ToolResult:
    """The outcome of one tool call, as recorded and as shown to the model."""

    status: ToolStatus
    content: str
    latency_ms: float = 0.0


class Tool:
    """A function the model can call. Build one with `@tool` or `Tool(fn)`."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        needs_approval: bool = False,
        idempotent: bool = False,
        source: str | None = None,
    ) -> None:
        self.function = function
        self.name = name or function.__name__
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", self.name):
            raise ToolDefinitionError(
                f"tool name {self.name!r} is not valid; use letters, digits, '_' or '-' "
                "(at most 64, starting with a letter or '_')"
            )
        summary, arg_docs = _parse_docstring(inspect.getdoc(function) or "")
        self.description = description or summary or self.name
        self.timeout = timeout
        self.needs_approval = needs_approval
        self.idempotent = idempotent
        self.source = source or f"{function.__module__}.{function.__qualname__}"
        self.is_async = inspect.iscoroutinefunction(function)
        self.context_param, self.args_model = _args_model(function, self.name, arg_docs)

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, source={self.source!r})"

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style function spec sent to models."""
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }

    def signature(self) -> str:
        params = self.args_model.model_json_schema().get("properties", {})
        return f"{self.name}({', '.join(params)})"

    async def run(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolResult:
        """Validate, call and time the tool; never raises for the model's or the tool's faults."""
        started = time.perf_counter()
        status, content = await self._run(arguments, ctx)
        return ToolResult(
            status=status, content=content, latency_ms=(time.perf_counter() - started) * 1000
        )

    async def _run(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> tuple[ToolStatus, str]:
        try:
            raw = json.loads(arguments) if isinstance(arguments, str) else arguments
            args = self.args_model.model_validate(raw or {})
        except (ValidationError, json.JSONDecodeError) as e:
            return "invalid", f"Invalid arguments for tool {self.name!r}: {_brief(e)}. Fix them and call again."
        kwargs = {name: getattr(args, name) for name in type(args).model_fields}
        if self.context_param:
            kwargs[self.context_param] = ctx
        try:
            if self.is_async:
                value = await asyncio.wait_for(self.function(**kwargs), self.timeout)
            else:
                value = await asyncio.wait_for(asyncio.to_thread(self.function, **kwargs), self.timeout)
        except TimeoutError:
            return "timeout", f"Tool {self.name!r} did not finish within {self.timeout:g}s and was stopped."
        except ToolRetry as e:
            return "error", e.message
        except Exception as e:  # a tool's own failure goes back to the model, not up the stack
            return "error", f"Tool {self.name!r} raised {type(e).__name__}: {e}"
        return "ok", _render(value)


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *, name: str | None = None, timeout: float = DEFAULT_TIMEOUT, needs_approval: bool = False,
    idempotent: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    function: Callable[..., Any] | None = None, /, *, name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT, needs_approval: bool = False, idempotent: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a typed function a `Tool`: `@tool` or `@tool(timeout=5, needs_approval=True)`."""

    def wrap(fn: Callable[..., Any]) -> Tool:
        return Tool(fn, name=name, timeout=timeout, needs_approval=needs_approval,
                    idempotent=idempotent)

    return wrap(function) if function is not None else wrap


class Toolset:
    """Tools by unique name. Adding a second tool with a taken name raises `ToolDefinitionError`."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)

    def add(self, item: Tool | Callable[..., Any] | Toolset) -> None:
        if isinstance(item, Toolset):
            for each in item:
                self.add(each)
            return
        added = item if isinstance(item, Tool) else Tool(item)
        if (taken := self._tools.get(added.name)) is not None and taken is not added:
            raise ToolDefinitionError(
                f"two tools are named {added.name!r}: one from {taken.source!r}, one from "
                f"{added.source!r}; rename one with @tool(name=...)"
            )
        self._tools[added.name] = added

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self._tools.values()]


def load_tools(reference: str | Path) -> Toolset:
    """Tools from a built-in pack name (`files`, `shell`, `python`), a `.py` file or a folder."""
    text = str(reference)
    if text in _PACK_NAMES:
        return _load_file(_packs_dir() / f"{text}.py", f"agentkit_tools.{text}")
    path = Path(text).expanduser()
    if path.is_dir():
        found = Toolset()
        for file in sorted(path.glob("*.py")):
            if not file.name.startswith("_"):
                found.add(_load_file(file, None))
        return found
    if path.suffix == ".py" and path.is_file():
        return _load_file(path, None)
    raise UserError(
        f"tools {text!r} is neither a built-in pack ({', '.join(_PACK_NAMES)}), "
        "a .py file nor a folder of them"
    )


def _packs_dir() -> Path:
    spec = importlib.util.find_spec("agentkit_tools")
    if spec is not None and spec.submodule_search_locations:
        return Path(spec.submodule_search_locations[0])
    return Path(__file__).resolve().parent.parent / "tools"


def _load_file(path: Path, module_name: str | None) -> Toolset:
    name = module_name or f"agentkit_user_tools.{path.stem}_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        module = sys.modules[name]
    else:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise UserError(f"cannot import tools from {str(path)!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            del sys.modules[name]
            raise UserError(f"importing tools from {str(path)!r} failed: {type(e).__name__}: {e}") from e
    found = [v for v in vars(module).values() if isinstance(v, Tool)]
    for each in found:
        each.source = f"{path}:{each.name}"
    return Toolset(found)


def _args_model(
    function: Callable[..., Any], tool_name: str, docs: dict[str, str]
) -> tuple[str | None, type[BaseModel]]:
    try:
        hints = get_type_hints(function)
    except Exception as e:
        raise ToolDefinitionError(f"tool {tool_name!r}: cannot read its type hints: {e}") from e
    context_param: str | None = None
    fields: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"tool {tool_name!r}: *args/**kwargs ({param.name!r}) cannot be described to a "
                "model; declare each argument with a type"
            )
        hint = hints.get(param.name)
        if hint is ToolContext:
            context_param = param.name
            continue
        if hint is None:
            raise ToolDefinitionError(
                f"tool {tool_name!r}: argument {param.name!r} has no type hint; add one"
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hint, Field(default, description=docs.get(param.name)))
    model = create_model(  # type: ignore[call-overload]
        f"{tool_name}_args", __config__=ConfigDict(extra="forbid"), **fields
    )
    return context_param, model


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary and the `Args:` descriptions of a Google-style docstring."""
    parts = re.split(r"\n\s*Args:\s*\n", doc, maxsplit=1)
    summary = parts[0].strip()
    args: dict[str, str] = {}
    if len(parts) == 2:
        current = None
        for line in parts[1].splitlines():
            if re.match(r"^\S", line):  # next section (Returns:, Raises:)
                break
            match = re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
            if match:
                current = match.group(1)
                args[current] = match.group(2).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
    return summary, args


def _render(value: Any) -> str:
    if value is None:
        return "ok"
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, default=str)


def _brief(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in error.errors()
        )
    return str(error)
