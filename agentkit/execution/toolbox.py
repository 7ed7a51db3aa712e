"""The tools agentkit adds to an executor's own: control, thinking and `recall`.

They are ordinary `Tool`s built by factories, so the executor runs every call on one path:
- control tools end the subtask when a call succeeds (`Tool.ends_subtask`): `finish(result)`,
  `fail(reason)` and `report_contradiction(assumption, fact)`;
- thinking tools, when the subtask's effort allows them: `think_parallel` (sample several
  answers, pick by vote or judge) and `think_longer` (think for a token budget), whose model calls
  go through the subtask's client, so their tokens count against its budget;
- `recall`, when the run has a context manager: it brings back what compaction took out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field

from agentkit import sandbox
from agentkit.context import ContextManager
from agentkit.errors import ToolDefinitionError, ToolRetry
from agentkit.execution import thinking
from agentkit.models import ModelClient
from agentkit.schema import CONTROL_TOOLS
from agentkit.tools import Tool, ToolContext, Toolset

# A thinking tool makes several model calls; the default tool timeout is too short for that.
THINKING_TIMEOUT = 600.0
SOURCE = "agentkit"


def control_tools() -> list[Tool]:
    """`finish`, `fail` and `report_contradiction`."""
    return list(_control_tools())


@functools.cache
def _control_tools() -> tuple[Tool, ...]:
    """Built once: a `Tool` never changes after it is built, and every subtask offers these."""

    def finish(result: str) -> str:
        """Call when the subtask's success criteria are met, with the result.

        Args:
            result: what was achieved.
        """
        return result

    def fail(reason: str) -> str:
        """Call when the subtask cannot be done this way (e.g. the tests stay red), with the
        reason; the plan is then revised.

        Args:
            reason: why it failed.
        """
        return reason

    def report_contradiction(assumption: str, fact: str) -> str:
        """Call when a fact you found contradicts an assumption of the plan; the subtask stops
        and the plan is revised with the fact.

        Args:
            assumption: the plan's assumption.
            fact: what you found instead.
        """
        return f"found {fact!r}, which contradicts the assumption {assumption!r}"

    return (
        Tool(finish, idempotent=True, source=SOURCE, ends_subtask="done"),
        Tool(fail, idempotent=True, source=SOURCE, ends_subtask="failed"),
        Tool(report_contradiction, idempotent=True, source=SOURCE, ends_subtask="contradiction"),
    )


CONTROL_NAMES = frozenset(t.name for t in control_tools())
assert set(CONTROL_TOOLS) == CONTROL_NAMES  # the budget leaves out exactly these


def thinking_tools(client: ModelClient, tokens_left: Callable[[], int]) -> list[Tool]:
    """`think_parallel` and `think_longer`, calling models through `client`.

    Args:
        client: the subtask's client (its budget check, its records, its token count).
        tokens_left: the subtask's tokens still to spend; `think_longer` thinks at most that long.
    """

    async def think_parallel(
        question: Annotated[str, Field(min_length=1)],
        ctx: ToolContext,
        n: Annotated[int, Field(ge=2, le=8)] = 5,
        method: Literal["vote", "judge"] = "vote",
    ) -> str:
        """Sample several answers to a hard question at once and pick one by vote or by a judge.

        Args:
            question: a self-contained question.
            n: how many samples.
            method: 'vote' for short answers, 'judge' for open-ended ones.
        """
        thought = await thinking.think_parallel(
            client, question, n=n, method=method, subtask_id=ctx.subtask_id)
        return thought.render()

    async def think_longer(
        question: Annotated[str, Field(min_length=1)],
        ctx: ToolContext,
        budget_tokens: Annotated[int, Field(ge=16, le=32_000)] = 2048,
    ) -> str:
        """Think longer about one hard question before answering it.

        Args:
            question: a self-contained question.
            budget_tokens: how many tokens of thinking.
        """
        thought = await thinking.think_longer(
            client, question, budget_tokens=max(1, min(budget_tokens, tokens_left())),
            subtask_id=ctx.subtask_id,
        )
        return thought.render()

    return [Tool(think_parallel, timeout=THINKING_TIMEOUT, source=SOURCE),
            Tool(think_longer, timeout=THINKING_TIMEOUT, source=SOURCE)]


THINKING_NAMES = ("think_parallel", "think_longer")


def recall_tool(context: ContextManager) -> Tool:
    """A `recall(query)` tool searching the run's summaries, facts and masked outputs."""

    async def recall(query: str) -> str:
        """Search what was compacted out of this conversation: facts learned, summaries of
        earlier turns, and tool outputs that were masked. Use it before redoing work.

        Args:
            query: words to look for (a fact's key, a file name, an error message), or the id
                in a masked output's stub, such as 'm12', to get that output in full.
        """
        return await context.recall(query)

    return Tool(recall, name="recall", idempotent=True, source="agentkit.recall")


def check_names(tools: Toolset) -> None:
    """Raise `ToolDefinitionError` if a user's tool takes a name the executor needs."""
    taken = [t for t in tools
             if t.name in CONTROL_NAMES or t.name in THINKING_NAMES or t.name == CHECK_NAME]
    if taken:
        sources = ", ".join(f"{t.name!r} from {t.source!r}" for t in taken)
        raise ToolDefinitionError(
            f"tool name(s) {sources} are taken by agentkit's executor tools; rename yours with "
            "@tool(name=...)"
        )


CHECK_NAME = "run_check"


def check_tool(command: str, *, timeout: float = 300.0) -> Tool:
    """The step's check as a tool the executor calls itself (never offered to the model), so it
    takes the run's one tool path: recorded, served on resume and replay, sandboxed.

    Exit code 0 is an 'ok' result; anything else an 'error' result with the output's tail.
    """

    def run_check(ctx: ToolContext) -> str:
        done = sandbox.run(["/bin/sh", "-c", command], workspace=ctx.resolve("."),
                           timeout=timeout, mode=ctx.sandbox, network=ctx.sandbox_network)
        output = (done.stdout + done.stderr)[-2000:]
        if done.timed_out:
            raise ToolRetry(f"the check {command!r} did not finish within {timeout:g}s")
        if done.exit_code != 0:
            raise ToolRetry(f"the check {command!r} exited {done.exit_code}:\n{output}")
        return f"the check {command!r} passed (exit 0)\n{output}"

    return Tool(run_check, name=CHECK_NAME, timeout=timeout + 5, source="agentkit check",
                description=f"Run the step's check: {command}")


def for_subtask(
    tools: Toolset, *, client: ModelClient, thinking_on: bool, tokens_left: Callable[[], int],
    context: ContextManager | None,
) -> Toolset:
    """An executor's tools: the user's, `recall` (unless the user has one), control, thinking."""
    combined = Toolset([tools])
    if context is not None and "recall" not in tools:
        combined.add(recall_tool(context))
    combined.add(Toolset(control_tools()))
    if thinking_on:
        combined.add(Toolset(thinking_tools(client, tokens_left)))
    return combined
