"""Date arithmetic (loaded by path: `load_tools("examples/custom_tool/my_tools")`)."""

from __future__ import annotations

from datetime import date

from agentkit import ToolRetry, tool


@tool
def days_between(start: str, end: str) -> int:
    """The number of days from one date to another (negative when `end` is earlier).

    Args:
        start: a date as YYYY-MM-DD.
        end: a date as YYYY-MM-DD.
    """
    return (_parse(end) - _parse(start)).days


def _parse(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise ToolRetry(f"{text!r} is not a date like 2025-03-01") from e
