"""Tools: typed Python functions the model may call.

A tool's JSON Schema comes from its type hints (through Pydantic) and its description from its
docstring; `Tool.from_schema` wraps a callable that comes with its own JSON Schema instead (as MCP
tools do). Registration is explicit: tools are grouped in a `Toolset` given to an `Agent`. Loading
tools from packs, files, folders and installed plugins (`load_tools`) lives in `agentkit.plugins`.

Errors follow one policy (`Tool.run`): invalid arguments and exceptions go back to the model as the
tool's result; a hung tool is stopped by its timeout; a developer's mistake (a duplicate name, an
unsupported signature) raises `ToolDefinitionError` at once.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agentkit._tool_calls import ToolAborted, guarded, in_thread, within
from agentkit._tool_schema import schema_problems, schema_validator
from agentkit.errors import (
    BudgetExceeded,
    ProviderUnavailable,
    ReplayDivergence,
    ToolDefinitionError,
    ToolRetry,
)
from agentkit.sandbox import SandboxMode

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

ToolStatus = Literal["ok", "invalid", "error", "timeout", "denied", "cut_off"]
# What a control tool's successful call does to its subtask (`finish`: done, `fail`: failed,
# `report_contradiction`: failed with a contradiction that revises the plan).
SubtaskEnd = Literal["done", "failed", "contradiction"]
DEFAULT_TIMEOUT = 60.0
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_PATH_CHARS = 4096
MAX_NAME_BYTES = 255


@dataclass(kw_only=True, frozen=True)
class ToolContext:
    """What a tool may ask for by declaring a parameter annotated `ToolContext`.

    Attributes:
        sandbox: how programs the tool starts are confined (`agentkit.sandbox`): "bwrap", or
            "none" when the user opted out.
        sandbox_network: whether sandboxed programs may use the network.
    """

    workspace: Path
    run_id: str | None = None
    subtask_id: str | None = None
    sandbox: SandboxMode = "bwrap"
    sandbox_network: bool = False

    def resolve(self, path: str) -> Path:
        """`path` inside the workspace; raises `ToolRetry` if it escapes or cannot be a path.

        Refused: `..` or a symlink that leads out, an absolute path outside, a NUL byte, a path
        longer than `MAX_PATH_CHARS` or with a name longer than `MAX_NAME_BYTES`.
        """
        if "\x00" in path:
            raise ToolRetry(f"path {path!r} contains a NUL byte; use a plain relative path")
        if len(path) > MAX_PATH_CHARS or any(
            len(part.encode(errors="surrogateescape")) > MAX_NAME_BYTES for part in path.split("/")
        ):
            raise ToolRetry(
                f"path {path[:60]!r}... ({len(path)} characters) is too long: at most "
                f"{MAX_PATH_CHARS} characters, {MAX_NAME_BYTES} bytes per name; use a shorter one"
            )
        root = self.workspace.resolve()
        try:
            target = (root / path).resolve()
        except (OSError, RuntimeError) as e:  # a symlink loop, an unreadable folder
            raise ToolRetry(f"path {path!r} cannot be resolved: {e}") from e
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
    """A function the model can call. Build one with `@tool`, `Tool(fn)` or `Tool.from_schema`.

    Attributes:
        parameters: the JSON Schema of the arguments, as sent to models.
        args_model: the Pydantic model arguments are validated with; None for `from_schema` tools,
            whose arguments are checked against `parameters` instead (with `jsonschema`).
    """

    _schema_validator: Validator  # `from_schema` tools only

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
        ends_subtask: SubtaskEnd | None = None,
    ) -> None:
        summary, arg_docs = _parse_docstring(inspect.getdoc(function) or "")
        self._setup(
            function, name=name or function.__name__, description=description or summary,
            timeout=timeout, needs_approval=needs_approval, idempotent=idempotent,
            source=source or f"{function.__module__}.{function.__qualname__}",
            ends_subtask=ends_subtask,
        )
        self.context_param: str | None
        self.args_model: type[BaseModel] | None
        self.context_param, self.args_model, parameters = _described(function, self.name, arg_docs)
        self.parameters = copy.deepcopy(parameters)

    @classmethod
    def from_schema(
        cls,
        function: Callable[[dict[str, Any]], Awaitable[Any] | Any],
        *,
        name: str,
        parameters: dict[str, Any],
        source: str,
        description: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        needs_approval: bool = False,
        idempotent: bool = False,
    ) -> Tool:
        """A tool described by a JSON Schema instead of a signature (an MCP server's tool, say).

        Args:
            function: called with the arguments as one dict, after they were checked against
                `parameters`; sync or async.
            name: the name models call it by.
            parameters: the JSON Schema of the arguments; it must describe an object.
            source: where the tool comes from, shown in listings and duplicate-name errors.
            description: what the tool does, for the model.
            timeout: seconds before a call is stopped.
            needs_approval: whether a call must be approved first.
            idempotent: whether calling it twice with the same arguments is harmless.
        """
        if parameters.get("type", "object") != "object":
            raise ToolDefinitionError(
                f"tool {name!r} from {source!r}: its parameters schema has type "
                f"{parameters.get('type')!r}; a tool's arguments must be an object"
            )
        self = cls.__new__(cls)
        self._setup(
            function, name=name, description=description, timeout=timeout,
            needs_approval=needs_approval, idempotent=idempotent, source=source,
        )
        self.context_param, self.args_model = None, None
        self.parameters = {"type": "object", "properties": {}, **parameters}
        self._schema_validator = schema_validator(self.parameters, name, source)
        return self

    def _setup(
        self, function: Callable[..., Any], *, name: str, description: str, timeout: float,
        needs_approval: bool, idempotent: bool, source: str, ends_subtask: SubtaskEnd | None = None,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", name):
            raise ToolDefinitionError(
                f"tool name {name!r} is not valid; use letters, digits, '_' or '-' "
                "(at most 64, starting with a letter or '_')"
            )
        self.function = function
        self.name = name
        self.description = description or name
        self.timeout = timeout
        self.needs_approval = needs_approval
        self.idempotent = idempotent
        self.source = source
        # A control tool: a call that succeeds ends the subtask this way (see `SubtaskEnd`).
        self.ends_subtask = ends_subtask
        self.is_async = inspect.iscoroutinefunction(function)

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, source={self.source!r})"

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style function spec sent to models."""
        return {
            "type": "function",
            "function": {
                "name": self.name, "description": self.description, "parameters": self.parameters,
            },
        }

    def signature(self) -> str:
        """`name(arg: type, optional: type = default)`, for listings."""
        props: dict[str, Any] = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        parts = []
        for arg, prop in props.items():
            text = f"{arg}: {_type_label(prop)}"
            if arg not in required:
                text += f" = {json.dumps(prop['default'])}" if "default" in prop else " = ..."
            parts.append(text)
        return f"{self.name}({', '.join(parts)})"

    async def run(self, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolResult:
        """Validate, call and time the tool; never raises for the model's or the tool's faults."""
        started = time.perf_counter()
        status, content = await self._run(arguments, ctx)
        return ToolResult(
            status=status, content=valid_text(content),
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def _run(
        self, arguments: dict[str, Any] | str, ctx: ToolContext
    ) -> tuple[ToolStatus, str]:
        try:
            values = self._validate(arguments)
        except _InvalidArguments as e:
            return "invalid", (
                f"Invalid arguments for tool {self.name!r}: {e}. Fix them and call again."
            )
        if self.context_param:
            values[self.context_param] = ctx
        try:
            value = await within(self._invoke(values), self.timeout)
        except TimeoutError:
            return "timeout", (
                f"Tool {self.name!r} did not finish within {self.timeout:g}s and was stopped."
            )
        except ToolRetry as e:
            return "error", e.message
        except (BudgetExceeded, ReplayDivergence, ProviderUnavailable):
            raise  # the run's limits, its replay and its provider stop the run, not this call
        except ToolAborted as e:
            return "error", f"Tool {self.name!r} raised {e}; it was stopped, the run goes on"
        except Exception as e:  # a tool's own failure goes back to the model, not up the stack
            return "error", f"Tool {self.name!r} raised {type(e).__name__}: {e}"
        return "ok", _render(value)

    def _validate(self, arguments: dict[str, Any] | str) -> dict[str, Any]:
        raw: Any = arguments
        try:
            if isinstance(arguments, str) and arguments.strip():
                raw = json.loads(arguments)
        except json.JSONDecodeError as e:
            raise _InvalidArguments(f"not valid JSON ({e})") from e
        raw = {} if raw is None or raw == "" else raw
        if self.args_model is None:
            if problems := schema_problems(self._schema_validator, raw):
                raise _InvalidArguments("; ".join(problems))
            return dict(raw)
        try:
            args = self.args_model.model_validate(raw)
        except ValidationError as e:
            raise _InvalidArguments(_brief(e)) from e
        return {name: getattr(args, name) for name in type(args).model_fields}

    def _invoke(self, values: dict[str, Any]) -> Awaitable[Any]:
        # Schema tools take the arguments as one dict; signature tools as keyword arguments.
        args, kwargs = ((values,), {}) if self.args_model is None else ((), values)
        if self.is_async:
            return guarded(self.function(*args, **kwargs))
        # A sync tool runs in a daemon thread; on timeout it is abandoned and finishes alone.
        return in_thread(self.function, *args, **kwargs)


class _InvalidArguments(Exception):
    """The model's arguments do not fit the tool; the message says where."""


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

    def __init__(self, tools: Iterable[Tool | Callable[..., Any] | Toolset] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)

    def add(self, item: Tool | Callable[..., Any] | Toolset) -> None:
        if isinstance(item, Toolset):
            for each in item:
                self.add(each)
            return
        if not isinstance(item, Tool) and not callable(item):
            raise ToolDefinitionError(_not_a_tool(item))
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


# A function's argument model and schema, by what they are built from. Factories build the same
# closure again for every subtask (`recall`, the thinking tools, a user's tool factory), and
# building a Pydantic model and its JSON Schema cost more than the rest of a subtask's setup.
_DESCRIBED: dict[tuple[Any, ...], tuple[str | None, type[BaseModel], dict[str, Any]]] = {}
_DESCRIBED_MAX = 4096


def _described(
    function: Callable[..., Any], tool_name: str, docs: dict[str, str]
) -> tuple[str | None, type[BaseModel], dict[str, Any]]:
    """(context parameter, argument model, JSON Schema) of `function`, built once per code,
    name, docs, defaults and annotations; never cached when one of them cannot be hashed."""
    code = getattr(function, "__code__", None)
    key: tuple[Any, ...] | None = None
    if code is not None:
        key = (code, tool_name, tuple(sorted(docs.items())), function.__defaults__,
               tuple(sorted((function.__kwdefaults__ or {}).items())),
               tuple(getattr(function, "__annotations__", {}).items()))
        try:
            found = _DESCRIBED.get(key)
        except TypeError:  # an unhashable default or annotation
            key = found = None
        if found is not None:
            return found
    context_param, model = _args_model(function, tool_name, docs)
    described = context_param, model, _strip_titles(model.model_json_schema())
    if key is not None:
        if len(_DESCRIBED) >= _DESCRIBED_MAX:
            _DESCRIBED.clear()
        _DESCRIBED[key] = described
    return described


def _args_model(
    function: Callable[..., Any], tool_name: str, docs: dict[str, str]
) -> tuple[str | None, type[BaseModel]]:
    try:
        hints = get_type_hints(function, include_extras=True)  # keep Annotated constraints
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
    model = create_model(
        f"{tool_name}_args", __config__=ConfigDict(extra="forbid"), **fields
    )
    return context_param, model


def _strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def _type_label(prop: dict[str, Any]) -> str:
    if "type" in prop:
        kind = prop["type"]
        return " | ".join(kind) if isinstance(kind, list) else str(kind)
    options = prop.get("anyOf") or prop.get("oneOf")
    if isinstance(options, list):
        return " | ".join(_type_label(option) for option in options)
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    return "any"


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


def valid_text(text: str) -> str:
    """`text` as valid Unicode: lone surrogates (a non-UTF-8 file name, bytes decoded with
    `surrogateescape`) become U+FFFD, so the output can be stored and sent to a model."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


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
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in error.errors()
        )
    return str(error)


def _not_a_tool(item: object) -> str:
    kind = type(item).__name__
    if hasattr(item, "__aenter__"):  # an MCPToolset, or any other connection that gives tools
        return (
            f"{item!r} is not connected: {kind} gives its tools only inside `async with`. "
            f"Write `async with {kind}(...) as tools:` and pass `tools=[tools]`, then run the "
            "agent inside that block with `await agent.run(...)`"
        )
    return (
        f"{item!r} ({kind}) is not a tool: pass functions, `Tool`s or `Toolset`s "
        "(decorate a function with @tool)"
    )
