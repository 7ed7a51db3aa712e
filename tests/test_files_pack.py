"""The files pack opens paths without following symlinks, refuses bad paths clearly, and never
touches agentkit's own databases."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from agentkit import ToolContext, load_tools
from tests.test_tool_packs import call

FILES = load_tools("files")


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    return ToolContext(workspace=workspace)


def test_a_folder_swapped_for_a_symlink_mid_call_does_not_escape(
    ctx: ToolContext, workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("outside secret")
    real, parked = workspace / "sub", workspace / "parked"
    real.mkdir()
    stop = threading.Event()

    def swap() -> None:  # another process racing the tool: folder -> symlink -> folder
        while not stop.is_set():
            os.rename(real, parked)
            try:
                os.symlink(outside, real)
                os.unlink(real)
            except FileExistsError:
                pass  # write_file made the folder again in the gap
            while True:
                try:
                    os.rename(parked, real)
                    break
                except OSError:
                    shutil.rmtree(real, ignore_errors=True)

    swapper = threading.Thread(target=swap)
    swapper.start()
    results = []
    try:
        for i in range(300):
            results.append(call(FILES, "write_file", ctx, path="sub/f.txt", content=f"w{i}"))
            results.append(call(FILES, "read_file", ctx, path="sub/f.txt"))
    finally:
        stop.set()
        swapper.join()
    assert (outside / "f.txt").read_text() == "outside secret"
    assert not any("outside secret" in r.content for r in results)
    assert any(r.status == "ok" for r in results)  # the race did not stop every call


def test_nul_bytes_and_long_paths_are_refused_clearly(ctx: ToolContext) -> None:
    nul = call(FILES, "read_file", ctx, path="a\x00b")
    assert (nul.status, nul.content) == (
        "error", "path 'a\\x00b' contains a NUL byte; use a plain relative path")
    for path in ("x" * 300, "a/" * 2100):
        long = call(FILES, "write_file", ctx, path=path, content="x")
        assert long.status == "error"
        assert "is too long: at most 4096 characters, 255 bytes per name" in long.content


def test_a_symlink_loop_is_refused_clearly(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "a").symlink_to(workspace / "b")
    (workspace / "b").symlink_to(workspace / "a")
    looped = call(FILES, "read_file", ctx, path="a")
    assert looped.status == "error" and looped.content.startswith("path 'a' cannot be resolved")


def test_symlinks_inside_the_workspace_still_work(ctx: ToolContext, workspace: Path) -> None:
    (workspace / "docs").mkdir()
    (workspace / "docs" / "a.txt").write_text("inside")
    (workspace / "alias").symlink_to(workspace / "docs", target_is_directory=True)
    assert call(FILES, "read_file", ctx, path="alias/a.txt").content == "inside"
    assert call(FILES, "write_file", ctx, path="alias/b.txt", content="new").status == "ok"
    assert (workspace / "docs" / "b.txt").read_text() == "new"


def test_only_regular_files_and_never_through_a_hard_link(
    ctx: ToolContext, workspace: Path, tmp_path: Path
) -> None:
    os.mkfifo(workspace / "pipe")
    fifo = call(FILES, "read_file", ctx, path="pipe")  # would block forever if opened plainly
    assert fifo.content == (
        "path 'pipe' is not a regular file; the file tools work on regular text files")
    (tmp_path / "elsewhere.txt").write_text("keep")
    os.link(tmp_path / "elsewhere.txt", workspace / "linked.txt")
    written = call(FILES, "write_file", ctx, path="linked.txt", content="changed")
    assert written.content.startswith("file 'linked.txt' has 2 hard links")
    assert (tmp_path / "elsewhere.txt").read_text() == "keep"


def test_agentkit_databases_are_never_touched(ctx: ToolContext, workspace: Path) -> None:
    records = workspace / ".agentkit"
    records.mkdir()
    (records / "notes.txt").write_text("x")
    with sqlite3.connect(workspace / "store.bin") as db:  # a database, whatever its name
        db.execute("create table t (x)")
    (workspace / "store.bin-wal").write_text("")
    for name, arguments in [
        ("read_file", {"path": ".agentkit/notes.txt"}),
        ("write_file", {"path": ".agentkit/runs.db", "content": ""}),
        ("write_file", {"path": "runs.db-wal", "content": ""}),
        ("write_file", {"path": "app.sqlite3", "content": ""}),
        ("edit_file", {"path": "store.bin", "old": "t", "new": "u"}),
        ("write_file", {"path": "store.bin", "content": ""}),
        ("write_file", {"path": "store.bin-wal", "content": "x"}),
        ("list_dir", {"path": ".agentkit"}),
        ("copy_file", {"source": "store.bin", "target": "copy.txt"}),
        ("append_file", {"path": "store.bin-wal", "text": "x"}),
        ("move_file", {"source": ".agentkit/notes.txt", "target": "moved.txt"}),
        ("make_dir", {"path": ".agentkit/sub"}),
    ]:
        result = call(FILES, name, ctx, **arguments)
        assert result.status == "error", (name, arguments)
        assert "agentkit's own records" in result.content or "SQLite database" in result.content
    assert (records / "notes.txt").read_text() == "x"
    assert (workspace / "store.bin").read_bytes().startswith(b"SQLite format 3\x00")
    assert not (records / "runs.db").exists() and not (workspace / "app.sqlite3").exists()
