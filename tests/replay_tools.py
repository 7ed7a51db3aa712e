"""Tools of the replay tests (loaded by path, as `agentkit replay --tools` loads them)."""

from __future__ import annotations

import asyncio
import os
import signal

from agentkit import ToolContext, tool

FILLER = "The audit log lists shelves, bins and counts for the warehouse. " * 30


@tool(idempotent=True)
def read_record(n: int) -> str:
    """Read audit record n.

    Args:
        n: the record number.
    """
    return f"{FILLER}\nkey_{n} = value-{n}"


@tool
async def note(text: str, ctx: ToolContext) -> str:
    """Append a line to notes.txt after a short wait (not idempotent).

    Args:
        text: the line to append.
    """
    await asyncio.sleep(0.05 * len(text))
    with open(ctx.resolve("notes.txt"), "a") as f:
        f.write(text + "\n")
    return "noted " + text


@tool(needs_approval=True)
def deploy(target: str, ctx: ToolContext) -> str:
    """Deploy to a target (needs a person's approval).

    Args:
        target: where to deploy.
    """
    with open(ctx.resolve("deployments.txt"), "a") as f:
        f.write(target + "\n")
    return f"deployed to {target}"


@tool
def append_entry(text: str, ctx: ToolContext) -> str:
    """Append a line to ledger.txt; the first call ever kills its own process after the write.

    Args:
        text: the line to append.
    """
    with open(ctx.resolve("ledger.txt"), "a") as f:
        f.write(text + "\n")
    marker = ctx.resolve("killed-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)  # after the side effect, before the result
    return "appended"
