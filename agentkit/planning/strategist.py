"""The strategist: writes the plan and revises it when work fails or stalls.

It sees the goal, the current plan, the ledger and the remaining budget — never the raw history.
"""

from __future__ import annotations

from agentkit.models import ModelClient, ModelRequest
from agentkit.planning.ledger import Ledger
from agentkit.schema import Plan

SYSTEM = """You are the strategist of an agent. Write a short plan for the goal as JSON.
Each step has: id (like "s1"), title, instructions, success_criteria, depends_on (ids of earlier
steps it needs), difficulty (trivial, easy, medium or hard). Use only the tools listed.
Prefer few steps: one step per distinct piece of work."""


def _tools_line(tool_names: list[str]) -> str:
    return "Tools the executors have: " + (", ".join(tool_names) or "none")


async def first_plan(
    client: ModelClient, goal: str, *, tool_names: list[str], budget_note: str
) -> Plan:
    request = ModelRequest(
        role="strategist",
        messages=[
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": f"Goal: {goal}\n{_tools_line(tool_names)}\nBudget: {budget_note}",
            },
        ],
    )
    return await client.structured(request, Plan)


async def revise(
    client: ModelClient, goal: str, *, plan: Plan, ledger: Ledger, reason: str,
    tool_names: list[str], budget_note: str,
) -> Plan:
    request = ModelRequest(
        role="strategist",
        messages=[
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": (
                    f"Goal: {goal}\n{_tools_line(tool_names)}\nBudget left: {budget_note}\n\n"
                    f"Current plan:\n{plan.model_dump_json(indent=1)}\n\n{ledger.render()}\n\n"
                    f"The plan must change because: {reason}\n"
                    "Write the revised plan. Keep the ids of steps that are done; "
                    "do not repeat a failed approach."
                ),
            },
        ],
    )
    return await client.structured(request, Plan)
