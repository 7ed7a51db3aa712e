"""A shell tool that runs in the workspace with a timeout and truncated output."""

from __future__ import annotations

import subprocess

from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

TIMEOUT = 60
MAX_OUTPUT = 8_000


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


@tool(timeout=TIMEOUT + 5)
def run_shell(command: str, ctx: ToolContext) -> str:
    """Run a shell command in the workspace; returns the exit code and the output.

    Args:
        command: the command line, run by /bin/sh in the workspace folder.
    """
    try:
        done = subprocess.run(
            command, shell=True, cwd=ctx.resolve("."), capture_output=True, text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise ToolRetry(f"command {command!r} did not finish within {TIMEOUT}s") from e
    return truncate(f"exit code {done.returncode}\n{done.stdout}{done.stderr}")
