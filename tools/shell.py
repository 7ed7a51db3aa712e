"""A shell tool that runs commands in the sandbox, with a timeout, truncated output and lists.

`run_shell` is the default tool: any program except those in `DEFAULT_DENY`. Every command runs
under `/bin/sh` inside the sandbox of `agentkit.sandbox` (bubblewrap): the workspace is the only
writable folder, no home folder, no network unless the agent allows it, a scrubbed environment,
limits on CPU, memory, processes and output. Without a sandbox the tool refuses to run unless the
agent opted out (`sandbox="none"`).

Narrow what it runs with the environment (read at each call, comma-separated program names):

- `AGENTKIT_SHELL_ALLOW=git,python,ls`: only these programs may run;
- `AGENTKIT_SHELL_DENY=rm,curl`: these may not (replaces `DEFAULT_DENY`).

or build your own tool with `shell_tool(allow=[...], deny=[...])` (import it from
`agentkit_tools.shell`). The command is parsed (`agentkit.command_policy`): every simple command
of a pipeline or list (`a | b && c; d`), and the programs run by `sh -c`, `env`, `xargs`,
`timeout`, `nohup`, `find -exec`, `$(...)` and backticks are checked. The lists guard against a
model's mistakes; they are policy, not a security boundary: a program that is allowed can still
start others. The sandbox is the boundary.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from agentkit import sandbox
from agentkit.command_policy import check_command, programs
from agentkit.errors import ToolRetry
from agentkit.tools import Tool, ToolContext

__all__ = ["DEFAULT_DENY", "check_command", "programs", "run_shell", "shell_tool", "truncate"]

TIMEOUT = 60
MAX_OUTPUT = 8_000
DEFAULT_DENY = ("sudo", "su", "doas", "shutdown", "reboot", "poweroff", "halt", "mkfs")


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    """`text` itself, or its head and tail with a note of how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def shell_tool(
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] | None = None,
    timeout: float = TIMEOUT,
    max_output: int = MAX_OUTPUT,
    limits: sandbox.Limits | None = None,
    name: str = "run_shell",
) -> Tool:
    """A shell tool with its own lists; `None` means: read the environment at each call.

    Args:
        allow: the only programs that may run; None for any program not denied.
        deny: programs that may not run; None for `$AGENTKIT_SHELL_DENY` or `DEFAULT_DENY`.
        timeout: seconds before the command (every process it started) is killed.
        max_output: characters of output kept (head and tail); the rest is cut with a note.
        limits: the sandbox's resource limits; by default `sandbox.Limits` with a CPU limit of
            `timeout` seconds.
        name: the tool's name.
    """
    fixed_allow = None if allow is None else tuple(allow)
    fixed_deny = None if deny is None else tuple(deny)
    run_limits = limits or sandbox.Limits(cpu_seconds=max(1, math.ceil(timeout)))

    def run_shell(command: str, ctx: ToolContext) -> str:
        """Run a shell command in the workspace (such as ls, wc to count the words or lines
        of a file, sed to replace text); returns the exit code and the output.

        Args:
            command: the command line, run by /bin/sh in the workspace folder.
        """
        check_command(command, *_lists(fixed_allow, fixed_deny))
        done = sandbox.run(
            ["/bin/sh", "-c", command], workspace=ctx.resolve("."), timeout=timeout,
            mode=ctx.sandbox, network=ctx.sandbox_network, limits=run_limits,
        )
        if done.timed_out:
            raise ToolRetry(f"command {command!r} did not finish within {timeout:g}s")
        return truncate(f"exit code {done.exit_code}\n{done.stdout}{done.stderr}", max_output)

    return Tool(run_shell, name=name, timeout=timeout + 5, source=f"{__name__}.shell_tool")


def _lists(
    allow: tuple[str, ...] | None, deny: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """The lists in force: the tool's own, else the environment's, else the defaults."""
    if allow is None:
        allow = _env_list("ALLOW") or None  # an empty variable means no allow list
    if deny is None:
        env_deny = _env_list("DENY")
        deny = DEFAULT_DENY if env_deny is None else env_deny
    return allow, deny


def _env_list(kind: str) -> tuple[str, ...] | None:
    value = os.environ.get(f"AGENTKIT_SHELL_{kind}")
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


run_shell = shell_tool()
