"""Text statistics of workspace files, as agentkit tools (an example plugin)."""

from __future__ import annotations

from agentkit import ToolContext, ToolRetry, tool

WORDS_PER_MINUTE = 230


@tool(idempotent=True)
def text_stats(path: str, ctx: ToolContext) -> dict[str, int]:
    """Count the lines and words of a text file and estimate its reading time.

    Args:
        path: file path relative to the workspace.
    """
    target = ctx.resolve(path)
    if not target.is_file():
        raise ToolRetry(f"no file {path!r} in the workspace")
    text = target.read_text(errors="replace")
    words = len(text.split())
    return {"lines": len(text.splitlines()), "words": words,
            "reading_minutes": max(1, round(words / WORDS_PER_MINUTE))}
