"""File tools confined to the workspace: read, write, edit, append, copy, move, make a folder,
list, glob, grep. (The narrow ones — append, copy, move, make a folder — are what a small model
gets right where a shell command line is beyond it.)

A path is resolved inside the workspace first (`ToolContext.resolve`: `..`, absolute paths and
symlinks that lead out are refused, as are NUL bytes and over-long paths), then opened from a
file descriptor of the workspace one component at a time, never following a symlink
(`O_NOFOLLOW`): a folder swapped for a symlink by another process between the check and the open
makes the call fail instead of escaping. Only regular files are read or written, and a file with
more than one hard link is never written (the other link may be outside).

The tools never touch agentkit's own records: anything in a `.agentkit/` folder, files named
`*.db`, `*.sqlite` or `*.sqlite3` (and their `-wal`, `-shm`, `-journal` companions), and any
SQLite database whatever its name (the run database `Store` uses may be called anything).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import regex

from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

MAX_READ = 20_000
# A grep gives up after this long; its patterns run on the `regex` engine, under this deadline.
GREP_SECONDS = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"
_DATABASE_NAME = re.compile(r"\.(db|sqlite3?)(-wal|-shm|-journal)?$", re.IGNORECASE)
_COMPANION = re.compile(r"(-wal|-shm|-journal)$")
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@tool(idempotent=True)
def read_file(path: str, ctx: ToolContext) -> str:
    """Read a text file from the workspace.

    Args:
        path: file path relative to the workspace.
    """
    missing = f"no file {path!r} in the workspace; list_dir shows what exists"
    text = _read(ctx, path, missing=missing)
    if len(text) > MAX_READ:
        return text[:MAX_READ] + f"\n[truncated: {len(text) - MAX_READ} more characters]"
    return text


@tool(idempotent=True)
def write_file(path: str, content: str, ctx: ToolContext) -> str:
    """Create or overwrite a text file in the workspace.

    Args:
        path: file path relative to the workspace.
        content: the whole new content of the file.
    """
    _write(ctx, path, content)
    return f"wrote {len(content)} characters to {path}"


@tool
def edit_file(path: str, old: str, new: str, ctx: ToolContext) -> str:
    """Replace one exact occurrence of `old` with `new` in a workspace file.

    Args:
        path: file path relative to the workspace.
        old: the exact text to replace; it must occur exactly once.
        new: the replacement text.
    """
    text = _read(ctx, path, missing=f"no file {path!r} in the workspace", errors="strict")
    count = text.count(old)
    if count != 1:
        raise ToolRetry(f"`old` occurs {count} times in {path!r}; it must occur exactly once")
    _write(ctx, path, text.replace(old, new, 1))
    return f"edited {path}"


@tool
def append_file(path: str, text: str, ctx: ToolContext) -> str:
    """Append text at the end of a workspace file, after a newline if it lacks one.

    Args:
        path: file path relative to the workspace.
        text: the text to add.
    """
    old = _read(ctx, path, missing="", errors="strict") if _exists(ctx, path) else ""
    start = "\n" if old and not old.endswith("\n") else ""
    _write(ctx, path, old + start + text + ("" if text.endswith("\n") else "\n"))
    return f"appended {len(text)} characters to {path}"


@tool(idempotent=True)
def copy_file(source: str, target: str, ctx: ToolContext) -> str:
    """Copy a workspace file to a new file (or over an existing one).

    Args:
        source: the file to copy, relative to the workspace.
        target: the path of the copy, relative to the workspace.
    """
    _write(ctx, target, _read(ctx, source, missing=f"no file {source!r} in the workspace",
                              errors="strict"))
    return f"copied {source} to {target}"


@tool
def move_file(source: str, target: str, ctx: ToolContext) -> str:
    """Move or rename a workspace file.

    Args:
        source: the file to move, relative to the workspace.
        target: its new path, relative to the workspace.
    """
    content = _read(ctx, source, missing=f"no file {source!r} in the workspace", errors="strict")
    _write(ctx, target, content)
    _remove(ctx, source)
    return f"moved {source} to {target}"


@tool(idempotent=True)
def make_dir(path: str, ctx: ToolContext) -> str:
    """Create a folder in the workspace (and the folders above it that are missing).

    Args:
        path: folder path relative to the workspace.
    """
    root, parts = _parts(ctx, path)
    try:
        os.close(_walk(root, parts, path, create=True))
    except (FileExistsError, NotADirectoryError) as e:
        raise ToolRetry(f"{path!r} is a file, not a folder") from e
    return f"created folder {path}"


@tool(idempotent=True)
def list_dir(ctx: ToolContext, path: str = ".") -> list[str]:
    """List the entries of a workspace folder (folders end with '/').

    Args:
        path: folder path relative to the workspace.
    """
    root, parts = _parts(ctx, path)
    try:
        fd = _walk(root, parts, path)
    except (FileNotFoundError, NotADirectoryError) as e:
        raise ToolRetry(f"no folder {path!r} in the workspace") from e
    try:
        with os.scandir(fd) as entries:
            return sorted(e.name + ("/" if e.is_dir() else "") for e in entries)
    finally:
        os.close(fd)


@tool(idempotent=True)
def glob(pattern: str, ctx: ToolContext) -> list[str]:
    """Find workspace files matching a glob pattern such as '**/*.py'.

    Args:
        pattern: a glob pattern relative to the workspace.
    """
    if pattern.startswith(("/", "~")) or ".." in pattern.replace("\\", "/").split("/"):
        raise ToolRetry(f"pattern {pattern!r} reaches outside the workspace; use a relative one")
    root = ctx.resolve(".")
    return sorted(
        str(p.relative_to(root)) for p in root.glob(pattern) if p.resolve().is_relative_to(root)
    )[:500]


@tool(idempotent=True)
def grep(pattern: str, ctx: ToolContext, path: str = ".") -> list[str]:
    """Search workspace files for a regular expression; returns 'file:line: text' matches.

    Args:
        pattern: a Python regular expression.
        path: a file or folder relative to the workspace.
    """
    try:
        compiled = regex.compile(pattern)
    except regex.error as e:
        raise ToolRetry(f"pattern {pattern!r} is not a valid regular expression: {e}") from e
    root = ctx.resolve(".")
    target = ctx.resolve(path)
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    hits: list[str] = []
    deadline = time.monotonic() + GREP_SECONDS
    for file in files:
        name = str(file.relative_to(root))
        try:
            lines = _read(ctx, name, missing="", errors="strict").splitlines()
        except (ToolRetry, UnicodeDecodeError):
            continue  # outside, protected, gone or binary: not searched
        for number, line in enumerate(lines, start=1):
            if _matches(compiled, pattern, line, deadline):
                hits.append(f"{name}:{number}: {line[:200]}")
                if len(hits) >= 200:
                    return hits
    return hits


def _matches(compiled: Any, pattern: str, line: str, deadline: float) -> bool:
    """Whether `line` matches, within the search's deadline. The `regex` engine releases the
    interpreter lock (`concurrent=True`) and stops at its timeout, so a catastrophic pattern such
    as `(a+)+$` cannot freeze the agent."""
    try:
        return compiled.search(line, concurrent=True,
                               timeout=max(0.001, deadline - time.monotonic())) is not None
    except TimeoutError:
        raise ToolRetry(
            f"pattern {pattern!r} took over {GREP_SECONDS:g}s (catastrophic backtracking?); "
            "use a simpler pattern, e.g. without nested repetition like (a+)+"
        ) from None


# --- opening without following symlinks ---------------------------------------------------------


def _parts(ctx: ToolContext, path: str) -> tuple[Path, tuple[str, ...]]:
    """The workspace and the components of `path` inside it (checked, not yet opened)."""
    root = ctx.resolve(".")
    parts = ctx.resolve(path).relative_to(root).parts
    if ".agentkit" in parts or (parts and _DATABASE_NAME.search(parts[-1])):
        raise ToolRetry(
            f"path {path!r} is agentkit's own records (a .agentkit folder or a database file); "
            "the file tools do not touch them"
        )
    return root, parts


def _walk(root: Path, folders: tuple[str, ...], path: str, *, create: bool = False) -> int:
    """A descriptor of the folder `root/folders...`, opened one name at a time, no symlinks.

    `create` makes the folders that are missing.
    """
    fd = os.open(root, _FOLDER)
    try:
        for name in folders:
            try:
                next_fd = os.open(name, _FOLDER, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(name, dir_fd=fd)
                next_fd = os.open(name, _FOLDER, dir_fd=fd)
            except NotADirectoryError as e:  # O_DIRECTORY | O_NOFOLLOW on a symlink says so too
                if stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise _changed(path) from e
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _changed(path: str) -> ToolRetry:
    return ToolRetry(
        f"path {path!r} leads through a symbolic link that was not there when it was checked "
        "(something changed the workspace meanwhile); the file tools do not follow it"
    )


def _open(ctx: ToolContext, path: str, flags: int, *, create: bool = False) -> int:
    """A descriptor of the regular file `path` in the workspace, never through a symlink."""
    root, parts = _parts(ctx, path)
    if not parts:
        raise ToolRetry(f"path {path!r} is the workspace folder, not a file")
    folder = _walk(root, parts[:-1], path, create=create)
    try:
        fd = os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644,
                     dir_fd=folder)
        companion = _COMPANION.sub("", parts[-1])
        base = _header(companion, folder) if companion != parts[-1] else b""
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise _changed(path) from e
        raise
    finally:
        os.close(folder)
    _check_file(fd, path, writing=bool(flags & (os.O_WRONLY | os.O_RDWR)), companion_of=base)
    return fd


def _check_file(fd: int, path: str, *, writing: bool, companion_of: bytes) -> None:
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = f"path {path!r} is not a regular file"
    elif writing and info.st_nlink > 1:
        problem = f"file {path!r} has {info.st_nlink} hard links; it is not written through one"
    elif companion_of == SQLITE_HEADER or os.pread(fd, len(SQLITE_HEADER), 0) == SQLITE_HEADER:
        problem = f"file {path!r} is an SQLite database (agentkit's records may be one)"
    if problem is not None:
        os.close(fd)
        raise ToolRetry(f"{problem}; the file tools work on regular text files")


def _header(name: str, folder: int) -> bytes:
    """The first bytes of `name` in `folder`, when it is a regular file (b"" otherwise)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return b""
    try:
        return os.pread(fd, len(SQLITE_HEADER), 0) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    finally:
        os.close(fd)


def _read(ctx: ToolContext, path: str, *, missing: str, errors: str = "replace") -> str:
    try:
        fd = _open(ctx, path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError) as e:
        raise ToolRetry(missing) from e
    with os.fdopen(fd, "rb") as file:
        return file.read().decode("utf-8", errors=errors)


def _exists(ctx: ToolContext, path: str) -> bool:
    root, parts = _parts(ctx, path)
    return bool(parts) and (root.joinpath(*parts)).is_file()


def _remove(ctx: ToolContext, path: str) -> None:
    """Delete the regular file `path` (its folder opened without following symlinks)."""
    root, parts = _parts(ctx, path)
    folder = _walk(root, parts[:-1], path)
    try:
        if not stat.S_ISREG(os.stat(parts[-1], dir_fd=folder, follow_symlinks=False).st_mode):
            raise ToolRetry(f"path {path!r} is not a regular file")
        os.unlink(parts[-1], dir_fd=folder)
    finally:
        os.close(folder)


def _write(ctx: ToolContext, path: str, content: str) -> None:
    fd = _open(ctx, path, os.O_RDWR | os.O_CREAT, create=True)
    with os.fdopen(fd, "wb") as file:
        file.truncate(0)  # only now: the checks ran on the file as it was
        file.write(content.encode())
