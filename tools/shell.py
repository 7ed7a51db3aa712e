"""A shell tool that runs in the workspace with a timeout, truncated output and allow/deny lists.

`run_shell` is the default tool: any program except those in `DEFAULT_DENY`. Narrow it with the
environment (read at each call, comma-separated program names):

- `AGENTKIT_SHELL_ALLOW=git,python,ls`: only these programs may run;
- `AGENTKIT_SHELL_DENY=rm,curl`: these may not (replaces `DEFAULT_DENY`).

or build your own tool with `shell_tool(allow=[...], deny=[...])` (import it from
`agentkit_tools.shell`). The lists check the first word of every command in a pipeline or list
(`a | b && c; d`). They guard against a model's mistakes; they are not a sandbox: a program that
is allowed can still start others.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterable

from agentkit.errors import ToolRetry
from agentkit.tools import Tool, ToolContext

TIMEOUT = 60
MAX_OUTPUT = 8_000
DEFAULT_DENY = ("sudo", "su", "doas", "shutdown", "reboot", "poweroff", "halt", "mkfs")
_SEPARATORS = {";", "&", "&&", "|", "||", "|&", "\n", "(", ")"}
# Command substitution can hide a program from the check; with an allow list it is refused.
_HIDDEN = re.compile(r"\$\(|`|<\(|>\(")


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    """`text` itself, or its head and tail with a note of how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def programs(command: str) -> list[str]:
    """The program names a command line starts: the first word of each simple command."""
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as e:
        raise ToolRetry(f"command {command!r} does not parse: {e}") from e
    found: list[str] = []
    expect_program = True
    for word in words:
        if word in _SEPARATORS:
            expect_program = True
        elif expect_program and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            found.append(os.path.basename(word))
            expect_program = False
    return found


def check_command(command: str, allow: Iterable[str] | None, deny: Iterable[str]) -> None:
    """Raise `ToolRetry` naming the program if `command` runs one the lists refuse."""
    refused = set(deny)
    allowed = None if allow is None else set(allow)
    if allowed is not None and _HIDDEN.search(command):
        raise ToolRetry(
            "command substitution ($(...), `...`, <(...)) is not allowed with an allow list"
        )
    for program in programs(command):
        if program in refused:
            raise ToolRetry(
                f"{program!r} is not allowed here (deny list: {', '.join(sorted(refused))})"
            )
        if allowed is not None and program not in allowed:
            raise ToolRetry(
                f"{program!r} is not allowed here; allowed programs: {', '.join(sorted(allowed))}"
            )


def shell_tool(
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] | None = None,
    timeout: float = TIMEOUT,
    max_output: int = MAX_OUTPUT,
    name: str = "run_shell",
) -> Tool:
    """A shell tool with its own lists; `None` means: read the environment at each call.

    Args:
        allow: the only programs that may run; None for any program not denied.
        deny: programs that may not run; None for `$AGENTKIT_SHELL_DENY` or `DEFAULT_DENY`.
        timeout: seconds before the command is killed.
        max_output: characters of output kept (head and tail); the rest is cut with a note.
        name: the tool's name.
    """
    fixed_allow = None if allow is None else tuple(allow)
    fixed_deny = None if deny is None else tuple(deny)

    def run_shell(command: str, ctx: ToolContext) -> str:
        """Run a shell command in the workspace; returns the exit code and the output.

        Args:
            command: the command line, run by /bin/sh in the workspace folder.
        """
        check_command(command, *_lists(fixed_allow, fixed_deny))
        try:
            done = subprocess.run(
                command,
                shell=True,
                cwd=ctx.resolve("."),
                capture_output=True,
                text=True,
                timeout=timeout,
                errors="replace",
            )
        except subprocess.TimeoutExpired as e:
            raise ToolRetry(f"command {command!r} did not finish within {timeout:g}s") from e
        return truncate(f"exit code {done.returncode}\n{done.stdout}{done.stderr}", max_output)

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
