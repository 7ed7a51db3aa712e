"""`ModelClient`: the one way agentkit calls a model.

Picks the model for a role, checks the budget before the call, records every call (through an
observer the run provides), and validates structured answers with Pydantic, retrying once with the
validation error shown to the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from agentkit.errors import StructuredOutputError
from agentkit.models._litellm import acompletion
from agentkit.models.base import ModelRequest, ModelResponse
from agentkit.schema import Role

T = TypeVar("T", bound=BaseModel)


class CallObserver(Protocol):
    """Receives every call, answered or failed (the run records it)."""

    def __call__(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None: ...


def _no_check() -> None:
    return None


@dataclass(kw_only=True)
class ModelClient:
    """Calls models by role, under a budget check, recording each call.

    Args:
        default: the LiteLLM model string used for every role without its own.
        roles: per-role model strings, e.g. `{"summarizer": "openai/gpt-4.1-mini"}`.
        aliases: tier names such as `fast` and `strong` mapped to model strings.
        observer: called after each call with the request and the response or error.
        before_call: called before each call; raises `BudgetExceeded` to stop it.
    """

    default: str
    roles: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    observer: CallObserver | None = None
    before_call: Callable[[], None] = _no_check
    # Serves recorded answers on resume and replay (see agentkit.store.journal); None = live.
    journal: Callable[[ModelRequest, str], ModelResponse | None] | None = None
    # Replay records what it serves (a new run); resume does not (the record already has it).
    record_served: bool = False

    def model_for(self, role: Role, override: str | None = None) -> str:
        name = override or self.roles.get(role) or self.default
        return self.aliases.get(name, name)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        model = self.model_for(request.role, request.model)
        if self.journal is not None and (served := self.journal(request, model)) is not None:
            if self.record_served and self.observer:
                self.observer(request, model, served, None)
            return served
        self.before_call()
        try:
            response = await acompletion(model, request)
        except Exception as e:
            if self.observer:
                self.observer(request, model, None, f"{type(e).__name__}: {e}")
            raise
        if self.observer:
            self.observer(request, model, response, None)
        return response

    async def structured(self, request: ModelRequest, output_type: type[T]) -> T:
        """Ask for an answer matching `output_type`; one retry shows the model its error."""
        request.output_schema = output_type.model_json_schema()
        request.output_name = name = str(request.output_schema.get("title", output_type.__name__))
        response = await self.complete(request)
        try:
            return _parse(response, output_type)
        except (ValidationError, ValueError) as first:
            retry = ModelRequest(
                **{
                    **request.__dict__,
                    "messages": [
                        *request.messages,
                        {"role": "assistant", "content": response.text or ""},
                        {
                            "role": "user",
                            "content": f"That answer is invalid: {_short(first)}. "
                            f"Answer again with JSON matching the {name} schema.",
                        },
                    ],
                }
            )
            response = await self.complete(retry)
            try:
                return _parse(response, output_type)
            except (ValidationError, ValueError) as second:
                raise StructuredOutputError(
                    f"the {request.role} model {self.model_for(request.role, request.model)!r} "
                    f"returned an invalid {name} twice: {_short(second)}; "
                    "use a stronger model for this role"
                ) from second


def _parse(response: ModelResponse, output_type: type[T]) -> T:
    text = (response.text or "").strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    if not text:
        raise ValueError(f"the answer is empty; expected a {output_type.__name__} as JSON")
    return output_type.model_validate(json.loads(text))


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors()
        )[:800]
    return str(error)[:800]
