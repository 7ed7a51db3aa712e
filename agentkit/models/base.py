"""Value objects of a model call: the request, the reply and the record kept of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentkit.schema import Role


@dataclass(kw_only=True, frozen=True)
class ToolCall:
    """A call of a tool by name with its arguments, as a model asks for it.

    `arguments` may be a dict or the raw JSON text the model wrote (possibly invalid).
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = ""

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, sort_keys=True)


@dataclass(kw_only=True)
class ModelRequest:
    """Everything a model call carries. Scripted models receive exactly this."""

    role: Role
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    output_schema: dict[str, Any] | None = None
    output_name: str | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    reasoning_effort: str | None = None
    subtask_id: str | None = None
    # Which of several identical requests made at once this is (think_parallel's samples): not
    # sent to the model, but recorded, so resume and replay give each sample its own answer.
    sample: int | None = None

    def record(self) -> dict[str, Any]:
        """The request as stored; replay matches live requests against this form."""
        stored = {
            "messages": self.messages, "tools": self.tools, "output_schema": self.output_schema,
            "temperature": self.temperature, "max_tokens": self.max_tokens,
            "reasoning_effort": self.reasoning_effort,
        }
        return stored if self.sample is None else {**stored, "sample": self.sample}

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.tools or []]

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") in ("user", "tool") and isinstance(message.get("content"), str):
                return message["content"]
        return ""


@dataclass(kw_only=True)
class ModelResponse:
    """What came back from one model call, normalized across providers."""

    model: str
    text: str | None
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    finish_reason: str | None = None

    def assistant_message(self) -> dict[str, Any]:
        """The message to append to the history (OpenAI format)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json()},
                }
                for call in self.tool_calls
            ]
        return message
