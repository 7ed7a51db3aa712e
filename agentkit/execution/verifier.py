"""The verifier: a cheap model call that judges a `finish` result against the success criteria
of a subtask whose plan steps name no programmatic check.

It runs when the agent names a model for the role `verifier` (`roles: {verifier: ...}`): a
rejected result goes back to the executor with the reason, within its step limit, and every
verdict is recorded as a `verdict` event.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from agentkit.models import ModelClient, ModelRequest
from agentkit.schema import Subtask

__all__ = ["ROLE", "SYSTEM", "Verdict", "enabled", "verify"]

ROLE: Final = "verifier"
SYSTEM = """You are a verifier. Judge whether the result an executor reported meets the success
criteria of its subtask. Accept it only if the result itself shows the criteria are met; else
reject it and say in one or two sentences what is missing."""


class Verdict(BaseModel):
    """The verifier's judgement of one result."""

    model_config = ConfigDict(extra="forbid")

    accepted: bool
    reason: Annotated[str, Field(max_length=400)] = ""


def enabled(client: ModelClient) -> bool:
    """Whether the agent asked for verification (a model for the role `verifier`)."""
    return ROLE in client.roles


async def verify(client: ModelClient, subtask: Subtask, result: str) -> Verdict:
    """Judge `result` of `subtask` against its success criteria."""
    criteria = subtask.success_criteria or "the instructions are carried out"
    request = ModelRequest(role=ROLE, subtask_id=subtask.id, messages=[
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": (
            f"Subtask: {subtask.title}\n{subtask.instructions}\nSuccess criteria: {criteria}\n\n"
            f"Reported result:\n{result}")},
    ])
    return await client.structured(request, Verdict)
