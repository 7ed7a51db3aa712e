"""`@tool`, `Tool.from_schema`, `Toolset` and `load_tools`: schemas, validation, errors, loading."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from agentkit import (
    Agent,
    FunctionModel,
    Tool,
    ToolCall,
    ToolContext,
    ToolDefinitionError,
    ToolRetry,
    Toolset,
    UserError,
    load_tools,
    tool,
)
from agentkit.plugins import installed_plugins
from agentkit.store import Store
from tests.scripts import single_tool_step


@tool
def forecast(city: str, ctx: ToolContext, days: int = 3, units: Literal["c", "f"] = "c") -> str:
    """Weather forecast for a city.

    Longer explanation that is not part of the summary.

    Args:
        city: the city's name, e.g. 'Lyon'.
        days: how many days ahead,
            from 1 to 7.
        units: 'c' for Celsius or 'f' for Fahrenheit.

    Returns:
        The forecast.
    """
    return f"{city} in {ctx.workspace.name}: {days} days in {units}"


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    return ToolContext(workspace=workspace, run_id="r1")


# --- schema from type hints and docstrings -----------------------------------------------------


def test_schema_comes_from_hints_and_docstring() -> None:
    spec = forecast.spec()["function"]
    assert spec["name"] == "forecast"
    assert spec["description"].startswith("Weather forecast for a city.")
    params = spec["parameters"]
    assert params["required"] == ["city"]
    assert params["additionalProperties"] is False
    assert set(params["properties"]) == {"city", "days", "units"}  # the context is not an argument
    assert params["properties"]["city"] == {
        "type": "string",
        "description": "the city's name, e.g. 'Lyon'.",
    }
    assert params["properties"]["days"] == {
        "type": "integer",
        "default": 3,
        "description": "how many days ahead, from 1 to 7.",
    }
    assert params["properties"]["units"]["enum"] == ["c", "f"]
    assert "title" not in params and all("title" not in p for p in params["properties"].values())


def test_signature_shows_types_and_defaults() -> None:
    assert forecast.signature() == (
        'forecast(city: string, days: integer = 3, units: string = "c")'
    )


def test_tool_options_and_explicit_description() -> None:
    @tool(name="lookup-v2", timeout=5, needs_approval=True, idempotent=True)
    def lookup(key: str) -> str:
        return key

    assert (lookup.name, lookup.timeout, lookup.needs_approval, lookup.idempotent) == (
        "lookup-v2",
        5,
        True,
        True,
    )
    assert lookup.description == "lookup-v2"  # no docstring: the name stands in
    assert Tool(lookup.function, description="Find a key.").description == "Find a key."


@pytest.mark.parametrize(
    "define",
    [
        lambda: Tool(lambda *items: None, name="varargs"),
        lambda: Tool(lambda x: x, name="no_hint"),
        lambda: tool(name="has space")(lambda: None),
    ],
)
def test_unusable_definitions_raise_at_once(define: object) -> None:
    with pytest.raises(ToolDefinitionError):
        define()  # type: ignore[operator]


# --- running: results, invalid arguments, errors, timeouts ------------------------------------


async def test_sync_tool_gets_validated_arguments_and_the_context(ctx: ToolContext) -> None:
    result = await forecast.run('{"city": "Lyon", "days": "5"}', ctx)
    assert (result.status, result.content) == ("ok", "Lyon in ws: 5 days in c")
    assert result.latency_ms >= 0


async def test_async_tool_runs(ctx: ToolContext) -> None:
    @tool
    async def double(n: int) -> dict[str, int]:
        await asyncio.sleep(0)
        return {"n": n * 2}

    assert (await double.run({"n": 21}, ctx)).content == '{"n": 42}'


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"days": 2}, "city: Field required"),
        ({"city": "Lyon", "days": "many"}, "days: Input should be a valid integer"),
        ({"city": "Lyon", "units": "k"}, "units: Input should be 'c' or 'f'"),
        ({"city": "Lyon", "country": "FR"}, "country: Extra inputs are not permitted"),
        ('{"city": ', "not valid JSON"),
        ("[1, 2]", "Input should be a valid dictionary"),
    ],
)
async def test_invalid_arguments_become_an_invalid_result(
    ctx: ToolContext, arguments: object, message: str
) -> None:
    result = await forecast.run(arguments, ctx)  # type: ignore[arg-type]
    assert result.status == "invalid"
    assert result.content.startswith("Invalid arguments for tool 'forecast': ")
    assert message in result.content
    assert result.content.endswith("Fix them and call again.")


async def test_annotated_constraints_are_in_the_schema_and_enforced(ctx: ToolContext) -> None:
    @tool
    def pick(n: Annotated[int, Field(ge=1, le=3)]) -> int:
        """Pick one of three."""
        return n

    assert pick.parameters["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 3}
    result = await pick.run({"n": 7}, ctx)
    assert result.status == "invalid" and "less than or equal to 3" in result.content
    assert (await pick.run({"n": 2}, ctx)).content == "2"


async def test_a_raising_tool_gives_an_error_result(ctx: ToolContext) -> None:
    @tool
    def broken(n: int) -> int:
        """Divide by zero."""
        return n // 0

    @tool
    def picky(n: int) -> int:
        raise ToolRetry(f"n={n} is too small; try 10")

    result = await broken.run({"n": 1}, ctx)
    assert (result.status, result.content) == (
        "error",
        "Tool 'broken' raised ZeroDivisionError: integer division or modulo by zero",
    )
    assert (await picky.run({"n": 1}, ctx)).content == "n=1 is too small; try 10"


async def test_a_hanging_async_tool_is_stopped_by_its_timeout(ctx: ToolContext) -> None:
    finished = []

    @tool(timeout=0.05)
    async def hang() -> str:
        await asyncio.sleep(30)
        finished.append(True)
        return "never"

    started = time.perf_counter()
    result = await hang.run({}, ctx)
    assert time.perf_counter() - started < 5
    assert (result.status, result.content) == (
        "timeout",
        "Tool 'hang' did not finish within 0.05s and was stopped.",
    )
    assert finished == []


async def test_a_hanging_sync_tool_times_out_too(ctx: ToolContext) -> None:
    release = threading.Event()

    @tool(timeout=0.05)
    def block() -> str:
        release.wait(10)
        return "late"

    result = await block.run({}, ctx)
    release.set()  # let the abandoned thread end before the loop closes
    assert result.status == "timeout"


async def test_the_model_sees_invalid_arguments_and_can_react(db: str, workspace: Path) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    model = FunctionModel(
        single_tool_step("Add them", ToolCall(name="add", arguments={"a": "two"}))
    )
    result = await Agent(model, tools=[add], db=db, workspace=workspace).run("Add 2 and 3")

    calls = Store(db).get_tool_calls(result.run_id)
    assert [(c.name, c.status) for c in calls] == [("add", "invalid"), ("finish", "ok")]
    executor = [r for r in model.requests if r.role == "executor"]
    seen = executor[1].messages[-1]
    assert seen["role"] == "tool" and "a: Input should be a valid integer" in seen["content"]
    assert "b: Field required" in seen["content"]


# --- tools with their own JSON Schema --------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "limit": {"type": "integer", "default": 5},
        "mode": {"enum": ["fast", "exact"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "point": {"$ref": "#/$defs/Point"},
    },
    "required": ["query"],
    "additionalProperties": False,
    "$defs": {
        "Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
    },
}


async def test_schema_tool_checks_arguments_then_calls_with_a_dict(ctx: ToolContext) -> None:
    received = []

    async def search(arguments: dict[str, object]) -> str:
        received.append(arguments)
        return "found"

    found = Tool.from_schema(
        search, name="search", parameters=SCHEMA, source="test", description="Search."
    )
    assert found.spec()["function"]["parameters"] == SCHEMA
    assert (
        found.signature() == "search(query: string, limit: integer = 5, mode: any = ..., "
        "tags: array = ..., point: Point = ...)"
    )
    ok = await found.run({"query": "q", "tags": ["a"], "point": {"x": 1.5}}, ctx)
    assert (ok.status, ok.content) == ("ok", "found")
    assert received == [{"query": "q", "tags": ["a"], "point": {"x": 1.5}}]

    bad = await found.run({"limit": "5", "mode": "slow", "tags": [1], "point": {}, "x": 1}, ctx)
    assert bad.status == "invalid"
    for part in [
        "query: missing required argument",
        "limit: expected integer, got string",
        "mode: 'slow' is not one of ['fast', 'exact']",
        "tags[0]: expected string",
        "point.x: missing required argument",
        "x: unexpected argument",
    ]:
        assert part in bad.content
    assert received == [received[0]]  # the bad call never reached the function
    not_object = await found.run("[1]", ctx)
    assert "arguments: expected object, got array" in not_object.content


async def test_schema_check_covers_type_unions_and_any_of(ctx: ToolContext) -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": ["integer", "null"]},
            "v": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
        },
    }
    checked = Tool.from_schema(lambda arguments: "fits", name="check", parameters=schema,
                               source="test")

    async def problems(arguments: dict[str, object]) -> list[str]:
        """The argument errors the model is shown, one per problem; empty when it fits."""
        result = await checked.run(arguments, ctx)
        if result.status == "ok":
            return []
        shown = result.content.removeprefix("Invalid arguments for tool 'check': ")
        return shown.removesuffix(". Fix them and call again.").split("; ")

    assert await problems({"n": None, "v": True}) == []
    assert await problems({"n": 2.0, "v": "x"}) == []
    assert await problems({"n": True}) == ["n: expected integer or null, got boolean"]
    assert await problems({"v": 3}) == ["v: 3 matches none of the allowed shapes"]


def test_schema_tool_needs_an_object_schema() -> None:
    with pytest.raises(ToolDefinitionError, match="must be an object"):
        Tool.from_schema(lambda a: a, name="x", parameters={"type": "string"}, source="test")


async def test_schema_check_is_full_json_schema(ctx: ToolContext) -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1},
            "name": {"type": "string", "pattern": "^[a-z]+$"},
            "pick": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        },
    }
    checked = Tool.from_schema(lambda arguments: "fits", name="check", parameters=schema,
                               source="test")
    bad = await checked.run({"n": 0, "name": "Bob", "pick": 3}, ctx)
    assert bad.status == "invalid"
    for part in ("n: 0 is less than the minimum of 1",
                 "name: 'Bob' does not match '^[a-z]+$'",
                 "pick: 3 is valid under each of"):
        assert part in bad.content


async def test_a_remote_ref_is_not_fetched(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.request

    fetched: list[object] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: fetched.append(a))
    schema = {"type": "object", "properties": {
        "shape": {"$ref": "https://schemas.example.com/shape.json"}, "n": {"type": "integer"}}}
    checked = Tool.from_schema(lambda arguments: "fits", name="check", parameters=schema,
                               source="test")
    assert (await checked.run({"shape": {"any": "thing"}, "n": 1}, ctx)).status == "ok"
    bad = await checked.run({"shape": 3, "n": "x"}, ctx)
    assert bad.content == (
        "Invalid arguments for tool 'check': n: expected integer, got string. "
        "Fix them and call again."
    )
    assert fetched == []  # left to the tool's owner, never fetched from the network


def test_an_invalid_parameters_schema_raises_at_once() -> None:
    with pytest.raises(ToolDefinitionError) as info:
        Tool.from_schema(lambda a: a, name="x", source="server",
                         parameters={"type": "object", "properties": {"n": {"type": "int"}}})
    assert str(info.value).startswith(
        "tool 'x' from 'server': its parameters schema is not valid JSON Schema: "
    )
    assert str(info.value).endswith("(at 'properties.n.type'); fix the schema")


# --- toolsets ----------------------------------------------------------------------------------


def test_duplicate_names_raise_naming_both_sources(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text(
            "from agentkit import tool\n\n@tool\ndef greet(who: str) -> str:\n    return who\n"
        )
    with pytest.raises(ToolDefinitionError) as raised:
        load_tools(tmp_path)
    message = str(raised.value)
    assert "two tools are named 'greet'" in message
    assert f"{tmp_path / 'one.py'}:greet" in message and f"{tmp_path / 'two.py'}:greet" in message


def test_toolset_accepts_functions_toolsets_and_the_same_tool_twice() -> None:
    def shout(text: str) -> str:
        return text.upper()

    tools = Toolset([forecast, shout])
    tools.add(Toolset([forecast]))  # the very same tool again is not a conflict
    assert tools.names == ["forecast", "shout"] and len(tools) == 2 and "shout" in tools
    assert [s["function"]["name"] for s in tools.specs()] == ["forecast", "shout"]


# --- loading: files, folders, entry points ----------------------------------------------------

TOOL_FILE = '''
from agentkit import tool


@tool
def {name}(text: str) -> str:
    """Echo the text."""
    return "{name}:" + text
'''


def test_load_from_a_py_file(tmp_path: Path) -> None:
    path = tmp_path / "echo.py"
    path.write_text(TOOL_FILE.format(name="echo"))
    tools = load_tools(str(path))
    assert tools.names == ["echo"]
    assert tools.get("echo").source == f"{path}:echo"  # type: ignore[union-attr]


def test_load_from_a_folder_skips_private_modules(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "_helpers"):
        (tmp_path / f"{name}.py").write_text(TOOL_FILE.format(name=name.strip("_")))
    assert load_tools(tmp_path).names == ["alpha", "beta"]


def test_loading_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(
        # every built-in pack, from agentkit's own entry points (metadata keeps them sorted)
        UserError, match=r"'nope' is neither a built-in pack \(files, http, python, search, shell\)"
    ):
        load_tools("nope")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(
        UserError, match="importing tools from .*broken.py' failed: RuntimeError: boom"
    ):
        load_tools(broken)


def _install_plugin(root: Path, module: str, entry_points: str, code: str) -> None:
    """A package 'installed' on `root` the way pip leaves it: code plus a dist-info folder."""
    (root / f"{module}.py").write_text(code)
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[agentkit.tools]\n{entry_points}\n")


PLUGIN = '''
from agentkit import Toolset, tool


@tool
def weather(city: str) -> str:
    """Weather in a city."""
    return f"sunny in {city}"


@tool
def wind(city: str) -> str:
    """Wind in a city."""
    return f"calm in {city}"


def make_tools():
    return Toolset([weather])
'''


async def test_load_from_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctx: ToolContext
) -> None:
    _install_plugin(
        tmp_path,
        "weather_plugin",
        "weather = weather_plugin\nweather-factory = weather_plugin:make_tools\n"
        "just-wind = weather_plugin:wind\nbad = weather_plugin:PLUGIN_NAME",
        PLUGIN + "\nPLUGIN_NAME = 'not tools'\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert {"weather", "weather-factory", "just-wind", "bad"} <= set(installed_plugins())
    whole = load_tools("weather")
    assert whole.names == ["weather", "wind"]
    assert whole.get("weather").source == "plugin 'weather' (weather_plugin):weather"  # type: ignore[union-attr]
    assert (await whole.get("wind").run({"city": "Nice"}, ctx)).content == "calm in Nice"  # type: ignore[union-attr]
    assert load_tools("weather-factory").names == ["weather"]
    assert load_tools("just-wind").names == ["wind"]
    with pytest.raises(UserError, match="plugin 'bad' .* gave 'str'"):
        load_tools("bad")


def test_a_plugin_named_like_a_built_in_pack_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The packs are entry points like any plugin's, so a clash is found the same way.
    _install_plugin(tmp_path, "files_clash", "files = files_clash", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UserError, match="two installed plugins are named 'files'.*"
                       r"agentkit\._packs:files and files_clash; uninstall one"):
        load_tools("files")
    assert installed_plugins().count("files") == 1  # the clashing one; the pack is built in


def test_an_unknown_name_lists_installed_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, "other_plugin", "other = other_plugin", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UserError, match=r"an installed plugin \(.*other.*\)"):
        load_tools("wether")


# --- agentkit tools list ------------------------------------------------------------------------


def test_cli_lists_names_sources_and_signatures(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app

    path = tmp_path / "echo.py"
    path.write_text(TOOL_FILE.format(name="echo"))
    shown = CliRunner().invoke(
        app, ["tools", "list", "--tools", "search", "--tools", str(path)], env={"COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.split()) for line in shown.output.splitlines()]
    assert (
        'search_docs │ search_docs(query: string, path: string = ".", limit: integer = 10) '
        "│ pack 'search':search_docs" in lines
    )
    assert f"echo │ echo(text: string) │ {path}:echo" in lines
    assert lines[-1].startswith("2 tools; installed plugins: ")
    assert lines[-1].endswith("; built-in packs: files, http, python, search, shell")

    as_json = CliRunner().invoke(app, ["tools", "list", "--json"])
    assert [row["name"] for row in json.loads(as_json.output)] == [
        "read_file",
        "write_file",
        "edit_file",
        "append_file",
        "copy_file",
        "move_file",
        "make_dir",
        "list_dir",
        "glob",
        "grep",
        "run_shell",
        "run_python",
    ]

    unknown = CliRunner().invoke(app, ["tools", "list", "--tools", "nope"])
    assert unknown.exit_code == 2 and "'nope' is neither a built-in pack" in unknown.output


def _factory(default: int, name: str) -> Tool:
    def scaled(x: int, factor: int = default) -> int:
        """Scale a number.

        Args:
            x: the number.
            factor: what to multiply it by.
        """
        return x * factor

    return Tool(scaled, name=name)


async def test_tools_built_by_one_factory_keep_their_own_defaults_names_and_schemas(
    tmp_path: Path,
) -> None:
    two, three, again = _factory(2, "double"), _factory(3, "triple"), _factory(2, "double")

    assert two.parameters["properties"]["factor"]["default"] == 2
    assert three.parameters["properties"]["factor"]["default"] == 3
    assert again.parameters == two.parameters
    again.parameters["properties"]["x"]["description"] = "changed"  # a tool's own copy
    assert two.parameters["properties"]["x"]["description"] == "the number."
    ctx = ToolContext(workspace=tmp_path)
    assert (await three.run({"x": 5}, ctx)).content == "15"
    assert (await two.run({"x": 5}, ctx)).content == "10"
