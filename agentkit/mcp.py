"""MCP servers' tools as agentkit tools, over stdio or streamable HTTP (the `mcp` extra).

```python
from agentkit import Agent
from agentkit.mcp import MCPToolset

async with MCPToolset(command="python", args=["-m", "mcp_server_time"]) as time_tools:
    agent = Agent("openai/gpt-4.1-mini", tools=[time_tools])
    result = await agent.run("What time is it in Tokyo?")

async with MCPToolset(url="http://127.0.0.1:8000/mcp", prefix="docs_") as docs_tools:
    ...
```

The connection lives for the `async with` block: start the run inside it, with `await agent.run`
(`run_sync` starts its own event loop, which cannot use a connection made in another one). Each
MCP tool becomes a `Tool.from_schema`: its input schema is what the model sees, arguments are
checked against it before the call, and the server's error results (`isError`) go back to the
model as the tool's 'error' result. This is the only module that imports `mcp`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import shlex
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from agentkit.errors import ToolRetry, UserError
from agentkit.tools import DEFAULT_TIMEOUT, Tool, Toolset

try:
    import httpx2
    from mcp import Client, MCPError, StdioServerParameters, stdio_client, types
    from mcp.client.streamable_http import streamable_http_client
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise UserError("MCP support needs the 'mcp' extra: pip install 'agentkit[mcp]'") from e

CONNECT_TIMEOUT = 30.0
STDERR_TAIL_LINES = 20
# What a stdio server inherits from this process (the MCP SDK's list, on POSIX); `env` adds to it.
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MCPToolset:
    """The tools of one MCP server, usable inside `async with` (which gives a `Toolset`).

    Args:
        command: the program that runs the server over stdio (give this or `url`).
        args: its arguments.
        env: environment variables for the server process, added to the few it inherits
            (`INHERITED_ENV`: HOME, LOGNAME, PATH, SHELL, TERM, USER; nothing else of this
            process's environment reaches it). A value may name a variable of this process as
            `${NAME}`, read when the server starts (so records keep the name, not the secret).
        cwd: the server process's working folder.
        url: the server's streamable HTTP endpoint, e.g. 'http://127.0.0.1:8000/mcp'.
        headers: HTTP headers sent with every request to `url` (for auth); values may use
            `${NAME}` like `env`.
        prefix: put before every tool name, to keep two servers' tools apart.
        timeout: seconds before a tool call is stopped.
        needs_approval: mark every tool of this server as needing approval.
        connect_timeout: seconds to start the server and finish the handshake.
        stderr: where a stdio server's own log goes (default: this process's stderr). Its
            last lines are also kept, and quoted when the server fails to start or dies.
    """

    def __init__(
        self,
        *,
        command: str | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        needs_approval: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
        stderr: TextIO | None = None,
    ) -> None:
        if (command is None) == (url is None):
            raise UserError(
                "MCPToolset needs exactly one of command=... (a stdio server) or url=... "
                f"(a streamable HTTP server); got command={command!r}, url={url!r}"
            )
        if url is not None and not re.match(r"https?://", url):
            raise UserError(
                f"MCP url {url!r} is not an http(s) URL, e.g. 'http://127.0.0.1:8000/mcp'"
            )
        if headers and url is None:
            raise UserError(f"MCPToolset headers={dict(headers)!r} need url=...; a stdio server "
                            "takes env=... instead")
        self.command, self.args, self.url = command, list(args), url
        self.env, self.cwd, self.stderr = dict(env or {}), cwd, stderr
        self.headers = dict(headers or {})
        self.prefix, self.timeout, self.needs_approval = prefix, timeout, needs_approval
        self.connect_timeout = connect_timeout
        self.command_line = shlex.join([command, *self.args]) if command else ""
        self.label = f"mcp {url}" if url else f"mcp stdio: {self.command_line}"
        self.tools = Toolset()
        self._client: Client | None = None
        self._tail: _StderrTail | None = None
        self._http: httpx2.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"MCPToolset({self.label!r}, tools={self.tools.names})"

    async def __aenter__(self) -> Toolset:
        if self._client is not None:
            raise UserError(f"{self.label} is already connected; use one `async with` at a time")
        client = Client(await self._transport())
        try:
            async with asyncio.timeout(self.connect_timeout):
                await client.__aenter__()
        # Starting a process or an HTTP session fails in many ways (OSError, HTTP errors, an
        # ExceptionGroup from the SDK's task group, a timeout): all mean "cannot connect".
        except Exception as e:
            reason = _describe(e)
            if self._tail is not None:
                self._tail.spawned()
            if self._tail is not None and not isinstance(e, OSError) and self._tail.ended(0.5):
                reason = f"the server exited before the MCP handshake finished ({reason})"
            message = f"cannot connect to {self.label}: {reason}{self._stderr_note()}"
            await self._close_transport()
            raise UserError(message) from e
        if self._tail is not None:
            self._tail.spawned()
        self._client = client
        try:
            self.tools = Toolset([self._tool(spec) for spec in await self._list_tools()])
        except BaseException:
            await self.__aexit__(*sys.exc_info())
            raise
        return self.tools

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.__aexit__(kind, error, tb)
        except BaseExceptionGroup as group:
            # The SDK's task groups wrap an error raised inside `async with` in a group; let the
            # caller's own error through as itself, as if the connection were not there.
            if error is None or _leaves(group) != [error]:
                raise
        finally:
            await self._close_transport()

    async def _transport(self) -> Any:
        if self.url is not None:
            headers = {k: expand_env(v, f"header {k!r} of {self.label}")
                       for k, v in self.headers.items()}
            self._http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
            return streamable_http_client(self.url, http_client=self._http)
        env = {k: expand_env(v, f"env {k!r} of {self.label}") for k, v in self.env.items()}
        params = StdioServerParameters(
            command=self.command or "", args=self.args, env=env or None, cwd=self.cwd
        )
        self._tail = _StderrTail(self.stderr or sys.stderr)
        return stdio_client(params, errlog=self._tail.writer)

    async def _close_transport(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        if self._tail is not None:
            self._tail.spawned()

    def _stderr_note(self) -> str:
        if self._tail is None:
            return ""
        lines = self._tail.lines()
        quoted = "".join(f"\n  | {line}" for line in lines) if lines else " (nothing)"
        return f"\ncommand: {self.command_line}\nlast lines of its stderr:{quoted}"

    async def _list_tools(self) -> list[types.Tool]:
        assert self._client is not None  # set by __aenter__ just before
        found: list[types.Tool] = []
        cursor: str | None = None
        while True:
            page = await self._client.list_tools(cursor=cursor)
            found += page.tools
            cursor = page.next_cursor
            if not cursor:
                return found

    def _tool(self, spec: types.Tool) -> Tool:
        remote = spec.name

        async def call(arguments: dict[str, Any]) -> str:
            return await self._call(remote, arguments)

        hints = spec.annotations
        return Tool.from_schema(
            call,
            name=_tool_name(self.prefix + remote),
            parameters=dict(spec.input_schema),
            description=spec.description or spec.title or remote,
            source=f"{self.label}:{remote}",
            timeout=self.timeout,
            needs_approval=self.needs_approval,
            idempotent=bool(hints and (hints.idempotent_hint or hints.read_only_hint)),
        )

    async def _call(self, remote: str, arguments: dict[str, Any]) -> str:
        if self._client is None:
            raise ToolRetry(f"the connection to {self.label} is closed; its tools cannot be called")
        try:
            result = await self._client.call_tool(remote, arguments)
        except MCPError as e:
            if self._tail is not None and self._tail.ended():
                raise ToolRetry(
                    f"the MCP server of {remote!r} has stopped ({e}); its tools cannot be "
                    f"called in this run until it is restarted{self._stderr_note()}"
                ) from e
            raise ToolRetry(f"{self.label} refused the call to {remote!r}: {e}") from e
        text = render_result(result)
        if result.is_error:
            raise ToolRetry(text or f"{self.label}: tool {remote!r} failed without a message")
        return text


def expand_env(value: str, where: str) -> str:
    """`value` with each `${NAME}` replaced by this process's environment variable NAME."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise UserError(f"{where} uses ${{{name}}}, but {name} is not set in the "
                            f"environment; export {name}=... before starting the agent")
        return os.environ[name]

    return _ENV_REFERENCE.sub(lookup, value)


class _StderrTail:
    """A stdio server's stderr: copied to `target` as it comes, its last lines kept.

    The server writes into a pipe; a thread reads it. Once the server has started, this process
    closes its own end of the pipe, so the reader sees end-of-file exactly when the server exits.
    """

    def __init__(self, target: TextIO) -> None:
        read_fd, write_fd = os.pipe()
        self.writer = os.fdopen(write_fd, "w")
        self._target = target
        self._kept: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(read_fd,), daemon=True,
                                        name="mcp-stderr")
        self._thread.start()

    def _pump(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "r", errors="replace") as pipe:
            for line in pipe:
                self._kept.append(line.rstrip("\n"))
                with contextlib.suppress(Exception):  # a closed target must not stop the pump
                    self._target.write(line)
                    self._target.flush()
        self._done.set()

    def spawned(self) -> None:
        """The server process holds the pipe now (or never will): drop this process's end."""
        if not self.writer.closed:
            self.writer.close()

    def ended(self, wait: float = 0.5) -> bool:
        """Whether the server has closed its stderr (it has exited), waiting up to `wait` s."""
        return self._done.wait(wait)

    def lines(self) -> list[str]:
        self.spawned()
        self._done.wait(1.0)
        return list(self._kept)


def render_result(result: types.CallToolResult) -> str:
    """A tool result as text for the model: text blocks as they are, other blocks described."""
    parts = [_render_block(block) for block in result.content]
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content)
    return "\n".join(parts)


def _render_block(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.type} {block.mime_type}, {len(block.data)} base64 characters]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}]"
    if isinstance(block, types.EmbeddedResource):
        inner = block.resource
        if isinstance(inner, types.TextResourceContents):
            return inner.text
        return f"[resource {inner.uri}, {inner.mime_type or 'binary'}]"
    return f"[{type(block).__name__}]"


def _tool_name(name: str) -> str:
    """An MCP tool name made fit for model APIs (letters, digits, '_', '-'; at most 64)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not re.match(r"[A-Za-z_]", cleaned):
        cleaned = "_" + cleaned
    return cleaned[:64]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for inner in group.exceptions:
        found += _leaves(inner) if isinstance(inner, BaseExceptionGroup) else [inner]
    return found


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer to the MCP handshake in time; is it an MCP server?"
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in error.exceptions)
    return f"{type(error).__name__}: {error}"
