"""The built-in packs in tools/ (files, shell, python, http, search); the wheel ships them."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit import Tool, ToolContext, Toolset, UserError, load_tools
from agentkit.plugins import ENTRY_POINT_GROUP, builtin_packs, installed_plugins, packs_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    return ToolContext(workspace=workspace)


def pack(name: str) -> Toolset:
    return load_tools(name)


def call(tools: Toolset | Tool, name: str, ctx: ToolContext, **arguments: Any) -> Any:
    import asyncio

    found = tools if isinstance(tools, Tool) else tools.get(name)
    assert found is not None, name
    return asyncio.run(found.run(arguments, ctx))


def test_each_pack_loads_by_name() -> None:
    assert pack("files").names == [
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
    ]
    assert pack("shell").names == ["run_shell"]
    assert pack("python").names == ["run_python"]
    assert pack("http").names == ["fetch_url"]
    assert pack("search").names == ["search_docs"]
    assert packs_dir() == ROOT / "tools"  # a checkout uses its own tools/, not an installed copy


def test_the_packs_are_agentkits_own_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import entry_points

    import agentkit.plugins

    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)
                if ep.dist is not None and ep.dist.name == "agentkit"}
    assert declared == {name: f"agentkit._packs:{name}" for name in
                        ("files", "shell", "python", "http", "search")}
    assert builtin_packs() == sorted(declared)
    assert not set(declared) & set(installed_plugins())
    assert {p.stem for p in packs_dir().glob("[!_]*.py")} == set(declared)  # a file each

    # No other list of names: without the entry points, no pack is found.
    monkeypatch.setattr(agentkit.plugins, "entry_points", lambda **_: [])
    with pytest.raises(UserError, match=r"built-in pack \(none registered: agentkit's "
                       "'agentkit.tools' entry points are missing; install it"):
        load_tools("files")


# --- files --------------------------------------------------------------------------------------


def test_files_read_write_edit_list_glob_grep(ctx: ToolContext, workspace: Path) -> None:
    files = pack("files")
    assert call(files, "write_file", ctx, path="src/a.py", content="x = 1\ny = 2\n").status == "ok"
    assert call(files, "read_file", ctx, path="src/a.py").content == "x = 1\ny = 2\n"
    assert call(files, "edit_file", ctx, path="src/a.py", old="y = 2", new="y = 3").status == "ok"
    assert (workspace / "src/a.py").read_text() == "x = 1\ny = 3\n"
    twice = call(files, "edit_file", ctx, path="src/a.py", old="=", new=":")
    assert (twice.status, twice.content) == (
        "error",
        "`old` occurs 2 times in 'src/a.py'; it must occur exactly once",
    )
    assert json.loads(call(files, "list_dir", ctx).content) == ["src/"]
    assert json.loads(call(files, "glob", ctx, pattern="**/*.py").content) == ["src/a.py"]
    assert json.loads(call(files, "grep", ctx, pattern=r"y = \d").content) == ["src/a.py:2: y = 3"]


@pytest.mark.parametrize(
    ("tool_name", "arguments"),
    [
        ("read_file", {"path": "../secret.txt"}),
        ("read_file", {"path": "sub/../../secret.txt"}),
        ("write_file", {"path": "../escaped.txt", "content": "x"}),
        ("edit_file", {"path": "../secret.txt", "old": "top", "new": "leaked"}),
        ("list_dir", {"path": ".."}),
        ("grep", {"pattern": "top", "path": ".."}),
        ("copy_file", {"source": "../secret.txt", "target": "copy.txt"}),
        ("append_file", {"path": "../secret.txt", "text": "leaked"}),
        ("move_file", {"source": "../secret.txt", "target": "moved.txt"}),
        ("make_dir", {"path": "../made"}),
    ],
)
def test_dotdot_escapes_are_refused(
    ctx: ToolContext, tmp_path: Path, tool_name: str, arguments: dict[str, str]
) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    result = call(pack("files"), tool_name, ctx, **arguments)
    assert result.status == "error"
    assert "is outside the workspace" in result.content
    assert (tmp_path / "secret.txt").read_text() == "top secret"
    assert not (tmp_path / "escaped.txt").exists()


def test_absolute_paths_outside_are_refused(ctx: ToolContext, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    files = pack("files")
    for result in (
        call(files, "read_file", ctx, path=str(secret)),
        call(files, "write_file", ctx, path=str(secret), content="gone"),
        call(files, "read_file", ctx, path="/etc/hostname"),
    ):
        assert result.status == "error" and "is outside the workspace" in result.content
    assert secret.read_text() == "top secret"
    assert call(files, "glob", ctx, pattern="/etc/*").status == "error"
    assert call(files, "glob", ctx, pattern="../*").content.startswith(
        "pattern '../*' reaches outside"
    )


def test_symlink_escapes_are_refused(ctx: ToolContext, workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    (workspace / "link.txt").symlink_to(outside / "secret.txt")
    (workspace / "linkdir").symlink_to(outside, target_is_directory=True)
    (workspace / "inside.txt").write_text("top of the workspace")
    files = pack("files")
    for result in (
        call(files, "read_file", ctx, path="link.txt"),
        call(files, "read_file", ctx, path="linkdir/secret.txt"),
        call(files, "write_file", ctx, path="linkdir/new.txt", content="x"),
        call(files, "edit_file", ctx, path="link.txt", old="top", new="leaked"),
        call(files, "list_dir", ctx, path="linkdir"),
    ):
        assert result.status == "error" and "is outside the workspace" in result.content
    assert json.loads(call(files, "grep", ctx, pattern="top").content) == [
        "inside.txt:1: top of the workspace"
    ]
    assert json.loads(call(files, "glob", ctx, pattern="**/*.txt").content) == ["inside.txt"]
    assert (outside / "secret.txt").read_text() == "top secret"
    assert not (outside / "new.txt").exists()


# --- shell --------------------------------------------------------------------------------------


def pack_module(name: str) -> Any:
    """The module of a built-in pack, for its factories (`shell_tool`, `http_tool`)."""
    pack(name)
    return sys.modules[f"agentkit_tools.{name}"]


def test_shell_runs_in_the_workspace(ctx: ToolContext, workspace: Path) -> None:
    result = call(pack("shell"), "run_shell", ctx, command="pwd; echo oops >&2; exit 3")
    assert result.content == f"exit code 3\n{workspace.resolve()}\noops\n"


def test_shell_truncates_long_output_with_a_note(ctx: ToolContext) -> None:
    shell = pack_module("shell")
    short = shell.shell_tool(max_output=100)
    out = call(short, "run_shell", ctx, command="seq 1 1000").content
    assert "[... " in out and " characters cut ...]" in out
    assert out.startswith("exit code 0\n1\n2\n") and out.endswith("999\n1000\n")
    assert len(out) < 200


def test_shell_deny_list_and_allow_list(ctx: ToolContext, workspace: Path) -> None:
    shell = pack_module("shell")
    denied = call(pack("shell"), "run_shell", ctx, command="echo hi && sudo rm -rf /tmp/x")
    assert (denied.status, denied.content) == (
        "error",
        "'sudo' is not allowed here (deny list: doas, halt, mkfs, poweroff, reboot, "
        "shutdown, su, sudo)",
    )
    only_echo = shell.shell_tool(allow=["echo", "cat"])
    assert call(only_echo, "", ctx, command="echo a | cat").content == "exit code 0\na\n"
    refused = call(only_echo, "", ctx, command="echo a; touch made.txt")
    assert refused.content == "'touch' is not allowed here; allowed programs: cat, echo"
    assert not (workspace / "made.txt").exists()
    hidden = call(only_echo, "", ctx, command="echo $(touch made.txt)")
    assert "command substitution" in hidden.content and not (workspace / "made.txt").exists()
    no_rm = shell.shell_tool(deny=["rm"])
    assert call(no_rm, "", ctx, command="FOO=1 /bin/rm -f x").content.startswith(
        "'rm' is not allowed"
    )
    shell.check_command("sudo true", None, ["rm"])  # a list of one's own replaces the defaults
    assert shell.programs("A=1 git status | grep x && (cd y; make) || ls -l") == [
        "git",
        "grep",
        "cd",
        "make",
        "ls",
    ]


def test_shell_lists_from_the_environment(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_SHELL_ALLOW", "echo, true")
    shell = pack("shell")
    assert call(shell, "run_shell", ctx, command="echo ok").content == "exit code 0\nok\n"
    assert call(shell, "run_shell", ctx, command="ls").content.startswith("'ls' is not allowed")
    monkeypatch.delenv("AGENTKIT_SHELL_ALLOW")
    monkeypatch.setenv("AGENTKIT_SHELL_DENY", "echo")
    assert call(shell, "run_shell", ctx, command="echo ok").content.startswith(
        "'echo' is not allowed"
    )


def test_shell_timeout(ctx: ToolContext) -> None:
    quick = pack_module("shell").shell_tool(timeout=0.3)
    result = call(quick, "", ctx, command="sleep 5")
    assert (result.status, result.content) == (
        "error",
        "command 'sleep 5' did not finish within 0.3s",
    )


def test_python_runs_code_in_a_subprocess(ctx: ToolContext, workspace: Path) -> None:
    result = call(
        pack("python"), "run_python", ctx, code="import os; print(os.getcwd()); raise SystemExit(4)"
    )
    assert result.content == f"exit code 4\n{workspace.resolve()}\n"


# --- http ---------------------------------------------------------------------------------------


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        pages = {
            "/page": (
                200,
                "text/html; charset=utf-8",
                "<html><head><style>p{}</style><script>var x=1;</script></head><body>"
                "<h1>Title</h1><p>Caf&eacute; &amp; tea</p></body></html>",
            ),
            "/data": (200, "application/json", '{"ok": true}'),
        }
        status, kind, body = pages.get(self.path, (404, "text/plain", "no such page"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    # The test servers are on loopback, which the fetch tool refuses unless it is allowed.
    monkeypatch.setenv("AGENTKIT_HTTP_ALLOW", "127.0.0.1")


def test_fetch_returns_text_of_html_and_raw_json(
    ctx: ToolContext, web: str, no_proxy: None
) -> None:
    fetch = pack("http")
    page = call(fetch, "fetch_url", ctx, url=f"{web}/page")
    assert (page.status, page.content) == ("ok", "HTTP 200 text/html\n\nTitle\n\nCafé & tea")
    assert call(fetch, "fetch_url", ctx, url=f"{web}/data").content == (
        'HTTP 200 application/json\n\n{"ok": true}'
    )
    missing = call(fetch, "fetch_url", ctx, url=f"{web}/gone")
    assert (missing.status, missing.content) == (
        "error",
        f"{web}/gone answered HTTP 404 Not Found: no such page",
    )


def test_fetch_explains_network_failures(ctx: ToolContext, no_proxy: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetch = pack("http")
    refused = call(fetch, "fetch_url", ctx, url=f"http://127.0.0.1:{port}/")
    assert (refused.status, refused.content) == (
        "error",
        f"connection to '127.0.0.1' refused: nothing is listening at http://127.0.0.1:{port}/",
    )
    unresolved = call(fetch, "fetch_url", ctx, url="http://no-such-host.invalid/")
    assert unresolved.status == "error"
    assert unresolved.content.startswith("cannot resolve host 'no-such-host.invalid'")
    assert "this machine may have no network access" in unresolved.content
    assert call(fetch, "fetch_url", ctx, url="file:///etc/passwd").content.startswith(
        "url 'file:///etc/passwd' is not an absolute http(s) URL"
    )


def test_fetch_times_out_on_a_silent_server(ctx: ToolContext, no_proxy: None) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        quick = pack_module("http").http_tool(timeout=0.2)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        result = call(quick, "", ctx, url=url)
    assert (result.status, result.content) == (
        "error",
        f"{url} did not answer within 0.2s (timed out)",
    )


# --- search -------------------------------------------------------------------------------------


def test_search_ranks_passages_with_file_and_line(ctx: ToolContext, workspace: Path) -> None:
    docs = workspace / "docs"
    docs.mkdir()
    (docs / "deploy.md").write_text(
        "# Deploying\n\nBuild the image first.\n\nThe rollback procedure: run\n"
        "`make rollback` and check the rollback log.\n"
    )
    (docs / "notes.txt").write_text("Meeting notes.\nWe talked about the deploy date.\n")
    (docs / "code.py").write_text("rollback = 'not a document'\n")
    (workspace / "readme.md").write_text("Nothing about it here.\n")
    search = pack("search")
    results = json.loads(
        call(search, "search_docs", ctx, query="rollback procedure", path="docs").content
    )
    assert results[0].startswith("docs/deploy.md:5 (")
    assert results[0].endswith("): The rollback procedure: run")
    assert len(results) == 1  # code.py is not a document; notes.txt has neither word
    both = json.loads(call(search, "search_docs", ctx, query="deploy rollback").content)
    assert [r.split(" ")[0] for r in both] == ["docs/deploy.md:5", "docs/notes.txt:2"]
    assert json.loads(call(search, "search_docs", ctx, query="zebra").content) == [
        "no passage matches 'zebra' under '.'"
    ]
    escape = call(search, "search_docs", ctx, query="x", path="..")
    assert escape.status == "error" and "is outside the workspace" in escape.content


# --- the packs ship in the wheel ---------------------------------------------------------------


def test_packs_load_from_a_built_wheel(tmp_path: Path) -> None:
    """Build the wheel (offline: hatchling is a dev dependency), unpack it, load packs from it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = (tmp_path / "dist").glob("agentkit-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    for name in ("files", "shell", "python", "http", "search"):
        assert f"agentkit_tools/{name}.py" in names
    assert not any(n.startswith("tools/") for n in names)
    (entry_points,) = (site / n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "[agentkit.tools]\nfiles = agentkit._packs:files\n" in entry_points.read_text()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import json, agentkit\n"
        "from agentkit.plugins import packs_dir\n"
        "tools = agentkit.Toolset([agentkit.load_tools(p) for p in "
        "('files', 'shell', 'python', 'http', 'search')])\n"
        "print(json.dumps([agentkit.__file__, str(packs_dir()), tools.names, "
        "sys.modules['agentkit_tools.files'].__file__]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    module_file, folder, names_loaded, files_pack = json.loads(done.stdout)
    assert Path(module_file).is_relative_to(site)
    assert folder == str(site / "agentkit_tools")
    assert Path(files_pack) == site / "agentkit_tools" / "files.py"
    assert names_loaded == [
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
        "fetch_url",
        "search_docs",
    ]
