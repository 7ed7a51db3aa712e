"""The finalizer: the answer and a report, from the ledger (never from raw history)."""

from __future__ import annotations

from typing import Any

from agentkit.errors import BudgetExceeded, ModelError
from agentkit.models import ModelRequest
from agentkit.planning.ledger import Ledger
from agentkit.runtime import RunContext
from agentkit.schema import RunStatus

SYSTEM = "Write the final answer to the goal from the results of the work below. Be brief."


def report(ledger: Ledger, headline: str) -> str:
    return f"{headline}\n\n{ledger.render()}"


async def finalize(ctx: RunContext, state: Any) -> tuple[RunStatus, str | None, str | None]:
    """Return (status, answer, error) for the run's end."""
    ledger = Ledger.from_subtasks(ctx.records.subtasks())
    if state.get("failure"):
        return "failed", report(ledger, "The run failed."), state["failure"]
    if state.get("stop"):
        reason = state.get("reason") or f"{state['stop']} budget spent"
        return "budget_exhausted", report(ledger, f"Stopped: {reason}. Partial results:"), reason
    if ledger.failed and not _all_steps_done(ctx):
        return "failed", report(ledger, "The goal was not reached."), state.get("reason")
    if ctx.client.is_small("finalizer"):  # it would garble the results: they are the answer
        return "completed", results(ledger) or report(ledger, "Done."), None
    try:
        response = await ctx.client.complete(
            ModelRequest(
                role="finalizer", max_tokens=400,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Goal: {ctx.goal}\n\n{ledger.render()}"},
                ],
            )
        )
    except BudgetExceeded as e:
        return "budget_exhausted", report(ledger, f"Stopped before the answer: {e}."), str(e)
    except ModelError as e:
        return "completed", report(ledger, f"(The finalizer failed: {e}.)"), None
    return "completed", (response.text or "").strip() or report(ledger, "Done."), None


def results(ledger: Ledger) -> str:
    """The answer of a run whose finalizer is small: the results of the work done, in order."""
    return "\n".join(e.result for e in ledger.done if e.result).strip()


def _all_steps_done(ctx: RunContext) -> bool:
    found = ctx.records.plan()
    if found is None:
        return False
    done = {step for s in ctx.records.subtasks()
            if s.status == "done" and s.completes_step for step in s.steps}
    return all(step.id in done for step in found.plan.steps)
