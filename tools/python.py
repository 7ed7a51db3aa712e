"""A Python tool that runs code in a fresh interpreter inside the sandbox, with a timeout.

The code runs under the sandbox of `agentkit.sandbox` (see the shell pack): the workspace is the
only writable folder, no network unless the agent allows it, a scrubbed environment and resource
limits. Output is decoded with replacement, so bytes that are not UTF-8 do not lose it.
"""

from __future__ import annotations

import ast
import sys

from agentkit import sandbox
from agentkit.errors import ToolRetry
from agentkit.tools import ToolContext, tool

TIMEOUT = 60
MAX_OUTPUT = 8_000


@tool(timeout=TIMEOUT + 5)
def run_python(code: str, ctx: ToolContext) -> str:
    """Run Python code in a fresh interpreter in the workspace; returns exit code and output.
    A program that is one expression prints its value, as the Python prompt does.

    Args:
        code: the program text, or an expression such as 17 * 23.
    """
    done = sandbox.run(
        [sys.executable, "-c", echo_last_value(code)], workspace=ctx.resolve("."), timeout=TIMEOUT,
        mode=ctx.sandbox, network=ctx.sandbox_network,
        limits=sandbox.Limits(cpu_seconds=TIMEOUT),
    )
    if done.timed_out:
        raise ToolRetry(f"the code did not finish within {TIMEOUT}s")
    output = f"exit code {done.exit_code}\n{done.stdout}{done.stderr}"
    return output if len(output) <= MAX_OUTPUT else output[:MAX_OUTPUT] + "\n[truncated]"


def echo_last_value(code: str) -> str:
    """`code`, printing its value when the whole program is one expression other than None,
    as the interactive prompt does: `17 * 23` alone would print nothing."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code  # the interpreter reports it, with the line
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return code
    return f"__value = ({code.strip()}\n)\nif __value is not None: print(repr(__value))"
