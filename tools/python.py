"""A Python tool that runs code in a subprocess in the workspace, with a timeout."""

from __future__ import annotations

import subprocess
import sys

from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

TIMEOUT = 60
MAX_OUTPUT = 8_000


@tool(timeout=TIMEOUT + 5)
def run_python(code: str, ctx: ToolContext) -> str:
    """Run Python code in a fresh interpreter in the workspace; returns exit code and output.

    Args:
        code: the program text.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ctx.resolve("."), capture_output=True, text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise ToolRetry(f"the code did not finish within {TIMEOUT}s") from e
    output = f"exit code {done.returncode}\n{done.stdout}{done.stderr}"
    return output if len(output) <= MAX_OUTPUT else output[:MAX_OUTPUT] + "\n[truncated]"
