"""MCP servers' tools as agentkit tools: the real mcp-server-time over stdio, and a demo server the
tests start themselves (tests/mcp_demo_server.py) over streamable HTTP and stdio."""

from __future__ import annotations

import contextlib
import json
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from agentkit import Agent, FunctionModel, ToolCall, ToolContext, ToolDefinitionError, UserError
from agentkit.mcp import INHERITED_ENV, MCPToolset
from agentkit.store import Store
from tests.scripts import single_tool_step

DEMO_SERVER = Path(__file__).resolve().parent / "mcp_demo_server.py"
TIME_SERVER = ["-m", "mcp_server_time", "--local-timezone", "UTC"]


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    return ToolContext(workspace=workspace)


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[TextIO]:
    with (tmp_path / "server.log").open("w") as log:
        yield log


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _http_server(log_path: Path, *extra: str) -> Iterator[str]:
    """The demo server over streamable HTTP on a free localhost port, until the block ends."""
    port = _free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(DEMO_SERVER), "--http", str(port), *extra],
            stdout=log, stderr=log,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the demo MCP server did not start on port {port}"
                        ) from None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    with _http_server(tmp_path / "http-server.log") as url:
        yield url


async def test_real_time_server_over_stdio(ctx: ToolContext, server_log: TextIO) -> None:
    async with MCPToolset(command=sys.executable, args=TIME_SERVER, stderr=server_log) as tools:
        assert tools.names == ["get_current_time", "convert_time"]
        convert = tools.get("convert_time")
        assert convert is not None
        assert convert.signature() == (
            "convert_time(source_timezone: string, time: string, target_timezone: string)"
        )
        assert convert.source.endswith("-m mcp_server_time --local-timezone UTC:convert_time")
        assert convert.spec()["function"]["description"] == "Convert time between timezones"

        done = await convert.run(
            {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}, ctx
        )
        assert done.status == "ok"
        assert "T21:00:00+09:00" in done.content and '"time_difference": "+9.0h"' in done.content

        refused = await convert.run(
            {"source_timezone": "Mars/Olympus", "time": "12:00", "target_timezone": "UTC"}, ctx
        )
        assert refused.status == "error" and "Invalid timezone" in refused.content

        missing = await convert.run({"time": "12:00"}, ctx)
        assert missing.status == "invalid"
        assert "source_timezone: missing required argument" in missing.content


async def test_own_server_over_streamable_http(ctx: ToolContext, demo_url: str) -> None:
    async with MCPToolset(url=demo_url, prefix="demo.") as tools:
        assert tools.names == [  # made fit for model APIs
            "demo_add", "demo_notes_lookup", "demo_environment", "demo_crash"
        ]
        lookup = tools.get("demo_notes_lookup")
        assert lookup is not None and lookup.source == f"mcp {demo_url}:notes.lookup"
        add = tools.get("demo_add")
        assert add is not None and add.parameters["required"] == ["a", "b"]

        assert (await add.run({"a": 2, "b": 3}, ctx)).content == "5"
        assert (await lookup.run('{"key": "mcp"}', ctx)).content == "Model Context Protocol"
        failed = await lookup.run({"key": "zzz"}, ctx)
        assert (failed.status, failed.content) == (
            "error",
            "Error executing tool notes.lookup: no entry for 'zzz'",
        )
        invalid = await add.run({"a": "two", "b": 3}, ctx)
        assert invalid.status == "invalid" and "a: expected integer, got string" in invalid.content

    after = await add.run({"a": 1, "b": 1}, ctx)
    assert after.status == "error" and "is closed" in after.content


async def test_own_server_drives_an_agent_run(db: str, workspace: Path, server_log: TextIO) -> None:
    model = FunctionModel(
        single_tool_step("Add 2 and 3", ToolCall(name="add", arguments={"a": 2, "b": 3}))
    )
    async with MCPToolset(
        command=sys.executable, args=[str(DEMO_SERVER)], stderr=server_log
    ) as tools:
        agent = Agent(model, tools=[tools], db=db, workspace=workspace)
        result = await agent.run("What is 2 + 3? Use the add tool.")

    assert result.status == "completed", result.error
    assert result.answer == "5"
    calls = Store(db).get_tool_calls(result.run_id)
    assert [(c.name, c.status, c.result) for c in calls] == [
        ("add", "ok", "5"),
        ("finish", "ok", "5"),
    ]
    executor = next(r for r in model.requests if r.role == "executor")
    assert {"add", "notes_lookup", "finish"} <= set(executor.tool_names)


async def test_connection_failures_are_user_errors(server_log: TextIO) -> None:
    with pytest.raises(
        UserError, match="cannot connect to mcp stdio: /no/such/server: FileNotFoundError"
    ):
        async with MCPToolset(command="/no/such/server", stderr=server_log):
            pass
    silent = MCPToolset(
        command=sys.executable,
        args=["-c", "import time; time.sleep(30)"],
        connect_timeout=0.5,
        stderr=server_log,
    )
    with pytest.raises(UserError, match="no answer to the MCP handshake in time"):
        async with silent:
            pass
    with pytest.raises(UserError, match="cannot connect to mcp http://127.0.0.1:"):
        async with MCPToolset(url=f"http://127.0.0.1:{_free_port()}/mcp", connect_timeout=10):
            pass


def test_exactly_one_of_command_and_url() -> None:
    with pytest.raises(UserError, match="exactly one of command"):
        MCPToolset()
    with pytest.raises(UserError, match="exactly one of command"):
        MCPToolset(command="x", url="http://localhost/mcp")
    with pytest.raises(UserError, match="is not an http"):
        MCPToolset(url="localhost:8000/mcp")


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_an_error_inside_the_block_comes_out_as_itself(
    transport: str, request: pytest.FixtureRequest, server_log: TextIO
) -> None:
    server = (
        MCPToolset(url=request.getfixturevalue("demo_url"))
        if transport == "http"
        else MCPToolset(command=sys.executable, args=[str(DEMO_SERVER)], stderr=server_log)
    )
    with pytest.raises(KeyError, match="mine"):
        async with server:
            raise KeyError("mine")


FAILING_SERVER = ["-c", "import sys; print('boom: no config in /etc/demo', file=sys.stderr); "
                  "sys.exit(1)"]


async def test_a_server_that_fails_to_start_is_quoted(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log, pytest.raises(UserError) as caught:
        async with MCPToolset(command=sys.executable, args=FAILING_SERVER, stderr=log):
            pass
    message = str(caught.value)
    assert f"command: {shlex.join([sys.executable, *FAILING_SERVER])}" in message
    assert "last lines of its stderr:\n  | boom: no config in /etc/demo" in message
    assert "boom: no config in /etc/demo" in log_path.read_text()  # still copied to its log


async def test_a_server_that_dies_mid_run_is_quoted(ctx: ToolContext, server_log: TextIO) -> None:
    async with MCPToolset(
        command=sys.executable, args=[str(DEMO_SERVER)], stderr=server_log
    ) as tools:
        crash, add = tools.get("crash"), tools.get("add")
        assert crash is not None and add is not None
        died = await crash.run({"message": "out of memory in handler"}, ctx)
        assert died.status == "error"
        assert "the MCP server of 'crash' has stopped" in died.content
        assert "  | out of memory in handler" in died.content
        assert f"command: {shlex.join([sys.executable, str(DEMO_SERVER)])}" in died.content
        after = await add.run({"a": 1, "b": 2}, ctx)
        assert after.status == "error" and "has stopped" in after.content


async def test_what_environment_reaches_a_stdio_server(
    ctx: ToolContext, server_log: TextIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_TEST_SECRET", "s3cret")
    monkeypatch.setenv("AGENTKIT_TEST_UNSHARED", "not for the server")
    server = MCPToolset(
        command=sys.executable, args=[str(DEMO_SERVER)], stderr=server_log,
        env={"GIVEN": "${AGENTKIT_TEST_SECRET}", "PLAIN": "x"},
    )
    assert server.env["GIVEN"] == "${AGENTKIT_TEST_SECRET}"  # the name is kept, not the value
    async with server as tools:
        environment = tools.get("environment")
        assert environment is not None
        seen = json.loads((await environment.run({}, ctx)).content)
    assert (seen["GIVEN"], seen["PLAIN"]) == ("s3cret", "x")
    assert "AGENTKIT_TEST_SECRET" not in seen and "AGENTKIT_TEST_UNSHARED" not in seen
    assert "PATH" in seen
    # Python itself may set LC_CTYPE when it coerces a C locale (PEP 538).
    assert set(seen) - {"GIVEN", "PLAIN", "LC_CTYPE"} <= set(INHERITED_ENV)


async def test_an_unset_variable_in_env_is_named(server_log: TextIO) -> None:
    server = MCPToolset(command=sys.executable, args=[str(DEMO_SERVER)], stderr=server_log,
                        env={"TOKEN": "${AGENTKIT_TEST_NOT_SET}"})
    with pytest.raises(UserError, match=r"env 'TOKEN' of mcp stdio: .* uses "
                       r"\$\{AGENTKIT_TEST_NOT_SET\}, but AGENTKIT_TEST_NOT_SET is not set"
                       r".*export AGENTKIT_TEST_NOT_SET="):
        async with server:
            pass


async def test_streamable_http_headers_carry_auth(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_TEST_TOKEN", "t0ken")
    with _http_server(tmp_path / "auth-server.log", "--token", "t0ken") as url:
        with pytest.raises(UserError, match=f"cannot connect to mcp {url}"):
            async with MCPToolset(url=url, connect_timeout=10):
                pass
        with pytest.raises(UserError, match=f"cannot connect to mcp {url}"):
            async with MCPToolset(url=url, headers={"Authorization": "Bearer wrong"},
                                  connect_timeout=10):
                pass
        authorized = MCPToolset(url=url, headers={"Authorization": "Bearer ${AGENTKIT_TEST_TOKEN}"})
        async with authorized as tools:
            add = tools.get("add")
            assert add is not None
            assert (await add.run({"a": 2, "b": 3}, ctx)).content == "5"


def test_headers_need_a_url() -> None:
    with pytest.raises(UserError, match="headers=.* need url="):
        MCPToolset(command="x", headers={"Authorization": "Bearer t"})


def test_an_unconnected_toolset_is_refused_with_the_fix(db: str, workspace: Path) -> None:
    server = MCPToolset(command=sys.executable, args=[str(DEMO_SERVER)])
    with pytest.raises(ToolDefinitionError, match=r"is not connected: MCPToolset gives its tools "
                       r"only inside `async with`.*async with MCPToolset\(\.\.\.\) as tools:"):
        Agent(FunctionModel(lambda request: None), tools=[server], db=db, workspace=workspace)


async def test_run_sync_inside_a_running_loop_says_to_await(db: str, workspace: Path) -> None:
    model = FunctionModel(single_tool_step("x", ToolCall(name="finish", arguments={"result": "x"})))
    agent = Agent(model, db=db, workspace=workspace)
    with pytest.raises(UserError, match=r"Agent.run_sync\(\) was called inside a running event "
                       r"loop.*Use `await agent.run\(\.\.\.\)` instead"):
        agent.run_sync("Say x")
    assert Store(db).list_runs() == []  # nothing was started
    assert model.requests == []
