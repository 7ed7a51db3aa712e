"""File tools confined to the workspace: read, write, edit, list, glob, grep."""

from __future__ import annotations

import time
from typing import Any

import regex

from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

MAX_READ = 20_000
# A grep gives up after this long; its patterns run on the `regex` engine, under this deadline.
GREP_SECONDS = 5.0


@tool(idempotent=True)
def read_file(path: str, ctx: ToolContext) -> str:
    """Read a text file from the workspace.

    Args:
        path: file path relative to the workspace.
    """
    target = ctx.resolve(path)
    if not target.is_file():
        raise ToolRetry(f"no file {path!r} in the workspace; list_dir shows what exists")
    text = target.read_text(errors="replace")
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
    target = ctx.resolve(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content)} characters to {path}"


@tool
def edit_file(path: str, old: str, new: str, ctx: ToolContext) -> str:
    """Replace one exact occurrence of `old` with `new` in a workspace file.

    Args:
        path: file path relative to the workspace.
        old: the exact text to replace; it must occur exactly once.
        new: the replacement text.
    """
    target = ctx.resolve(path)
    if not target.is_file():
        raise ToolRetry(f"no file {path!r} in the workspace")
    text = target.read_text()
    count = text.count(old)
    if count != 1:
        raise ToolRetry(f"`old` occurs {count} times in {path!r}; it must occur exactly once")
    target.write_text(text.replace(old, new, 1))
    return f"edited {path}"


@tool(idempotent=True)
def list_dir(ctx: ToolContext, path: str = ".") -> list[str]:
    """List the entries of a workspace folder (folders end with '/').

    Args:
        path: folder path relative to the workspace.
    """
    target = ctx.resolve(path)
    if not target.is_dir():
        raise ToolRetry(f"no folder {path!r} in the workspace")
    return sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir())


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
        if not file.resolve().is_relative_to(root):
            continue
        try:
            lines = file.read_text().splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, start=1):
            if _matches(compiled, pattern, line, deadline):
                hits.append(f"{file.relative_to(root)}:{number}: {line[:200]}")
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
