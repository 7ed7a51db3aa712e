"""`ModelClient`: the one way agentkit calls a model.

Picks the model for a role and runs every call between the run's hooks (served from the record,
checked against the budget, recorded), and validates structured answers with Pydantic, retrying
once with the validation error shown to the model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from agentkit import tracing
from agentkit.errors import BudgetExceeded, StructuredOutputError, TruncatedOutput
from agentkit.models._litellm import acompletion, max_output_tokens, takes_reasoning_effort
from agentkit.models.base import ModelRequest, ModelResponse
from agentkit.models.sizing import output_tokens
from agentkit.schema import Role

T = TypeVar("T", bound=BaseModel)


class CallHooks(Protocol):
    """What a run does around each model call (`agentkit.runtime.RunContext` is one).

    `serve` may answer a request from the run's own record (resume: not recorded again);
    otherwise `check` runs before the call (it raises `BudgetExceeded` to stop it, else returns
    the seconds left of the run's time budget, None when it has none), then `recorded` may give
    the answer another run recorded (replay) in place of calling the model, and `record` runs
    after it, answered or failed.
    """

    def serve(self, request: ModelRequest, model: str) -> ModelResponse | None: ...

    def check(self) -> float | None: ...

    async def recorded(self, request: ModelRequest, model: str) -> ModelResponse | None: ...

    def record(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None: ...


class NoHooks:
    """Hooks of a client outside a run: nothing served, checked or recorded."""

    def serve(self, request: ModelRequest, model: str) -> ModelResponse | None:
        return None

    def check(self) -> float | None:
        return None

    async def recorded(self, request: ModelRequest, model: str) -> ModelResponse | None:
        return None

    def record(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None:
        return None


@dataclass(kw_only=True)
class Tally:
    """Hooks that sum the tokens of every response they see, then pass everything on."""

    inner: CallHooks
    tokens: int = 0

    def serve(self, request: ModelRequest, model: str) -> ModelResponse | None:
        served = self.inner.serve(request, model)
        if served is not None:
            self.tokens += served.prompt_tokens + served.completion_tokens
        return served

    def check(self) -> float | None:
        return self.inner.check()

    async def recorded(self, request: ModelRequest, model: str) -> ModelResponse | None:
        return await self.inner.recorded(request, model)  # counted when `record` sees it

    def record(
        self, request: ModelRequest, model: str, response: ModelResponse | None, error: str | None
    ) -> None:
        if response is not None:
            self.tokens += response.prompt_tokens + response.completion_tokens
        self.inner.record(request, model, response, error)


@dataclass(kw_only=True)
class ModelClient:
    """Calls models by role, under a budget check, recording each call.

    Args:
        default: the LiteLLM model string used for every role without its own.
        roles: per-role model strings, e.g. `{"summarizer": "openai/gpt-4.1-mini"}`.
        aliases: tier names such as `fast` and `strong` mapped to model strings.
        efforts: a reasoning effort per tier name, given to every call on that tier.
        hooks: what the run does around each call (serve from the record, check, record).
        tier: the tier (or model) of a call that names none (a subtask's, see `at_effort`).
        reasoning_effort: the reasoning effort of a call that sets none and whose tier has
            none in `efforts`.
        small: model strings known to be small (besides the embedded `local/...` models, which
            always are): their runs use small-model mode (`is_small`).

    `reasoning_effort` is sent only to models that take it (`takes_reasoning_effort`: LiteLLM's
    `supports_reasoning`, and scripted models); for any other it is left out of the request.
    """

    default: str
    roles: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    efforts: Mapping[str, str] = field(default_factory=dict)
    hooks: CallHooks = field(default_factory=NoHooks)
    tier: str | None = None
    reasoning_effort: str | None = None
    small: frozenset[str] = frozenset()

    def at_effort(self, tier: str | None, reasoning_effort: str | None) -> ModelClient:
        """The same client, its calls that name no model on `tier` (an alias, or None for each
        role's model) and those that set no reasoning effort at `reasoning_effort`: every call
        of one subtask — the executor's, its thinking tools' — runs at the subtask's effort."""
        return dataclasses.replace(self, tier=tier, reasoning_effort=reasoning_effort)

    def with_hooks(self, hooks: CallHooks) -> ModelClient:
        """The same models, with `hooks` around every call."""
        return dataclasses.replace(self, hooks=hooks)

    def counting(self) -> tuple[ModelClient, Tally]:
        """The same client, also summing the tokens of its calls (a subtask's, a tool's)."""
        tally = Tally(inner=self.hooks)
        return self.with_hooks(tally), tally

    def model_for(self, role: Role, override: str | None = None) -> str:
        name = override or self.tier or self.roles.get(role) or self.default
        return self.aliases.get(name, name)

    def is_small(self, role: Role, override: str | None = None) -> bool:
        """Whether the model of `role` (or tier `override`) is small: compact prompts, a worked
        example, few tools and no model-written answer (see `agentkit.execution.small`)."""
        model = self.model_for(role, override)
        return model in self.small or model.split("/", 1)[0] == "local"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if request.model is None:
            request.model = self.tier
        model = self.model_for(request.role, request.model)
        if request.model is not None and request.model in self.efforts:
            request.reasoning_effort = self.efforts[request.model]
        elif request.reasoning_effort is None:
            request.reasoning_effort = self.reasoning_effort
        if request.reasoning_effort is not None and not takes_reasoning_effort(model):
            request.reasoning_effort = None
        if (served := self.hooks.serve(request, model)) is not None:
            return served
        left = self.hooks.check()
        if (replayed := await self.hooks.recorded(request, model)) is not None:
            # Recorded under the model that answered then (a resume may have used another).
            self.hooks.record(request, replayed.model, replayed, None)
            return replayed
        with tracing.span(f"chat {model}", tracing.model_attributes(
                request.role, model, request.subtask_id)) as span:
            try:
                response = await _within(acompletion(model, request, timeout=left), left, model)
            except BaseException as e:  # cancelled too: the call was made, and it is over
                self.hooks.record(request, model, None, f"{type(e).__name__}: {e}")
                raise
            tracing.set_attributes(span, {
                "gen_ai.response.model": response.model,
                "gen_ai.usage.input_tokens": response.prompt_tokens,
                "gen_ai.usage.output_tokens": response.completion_tokens,
            })
        self.hooks.record(request, model, response, None)
        return response

    async def structured(self, request: ModelRequest, output_type: type[T]) -> T:
        """Ask for an answer matching `output_type`; one retry shows the model its error.

        Without a `max_tokens` of its own, the request gets one sized from the schema
        (`sizing.output_tokens`, within what the model can write). An answer cut off at its limit
        is asked again once with twice the limit, then reported (`TruncatedOutput`), never parsed.
        """
        request.output_schema = output_type.model_json_schema()
        request.output_name = name = str(request.output_schema.get("title", output_type.__name__))
        if request.max_tokens is None:
            request.max_tokens = _capped(output_tokens(request.output_schema),
                                         self.model_for(request.role, request.model))
        response = await self._whole(request)
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
            response = await self._whole(retry)
            try:
                return _parse(response, output_type)
            except (ValidationError, ValueError) as second:
                raise StructuredOutputError(
                    f"the {request.role} model {self.model_for(request.role, request.model)!r} "
                    f"returned an invalid {name} twice: {_short(second)}; "
                    "use a stronger model for this role"
                ) from second


    async def _whole(self, request: ModelRequest) -> ModelResponse:
        """The answer to `request`; asked again once with twice the token limit when it was cut
        off (`finish_reason == "length"`), and `TruncatedOutput` when that is cut off too."""
        response = await self.complete(request)
        if response.finish_reason != "length":
            return response
        model = self.model_for(request.role, request.model)
        limit = request.max_tokens
        raised = None if limit is None else _capped(2 * limit, model)
        if raised is not None and limit is not None and raised > limit:
            request = dataclasses.replace(request, max_tokens=raised)
            response = await self.complete(request)
            if response.finish_reason != "length":
                return response
            limit = raised
        raise TruncatedOutput(
            f"the {request.role} model {model!r} was cut off at {response.completion_tokens} "
            f"tokens (finish_reason=length, max_tokens={limit}) before its "
            f"{request.output_name or 'structured'} answer was complete; the answer was not "
            "parsed. Use a model that can write longer answers for this role, or a smaller goal"
        )


def _capped(tokens: int, model: str) -> int:
    """`tokens`, within the most `model` can write in one answer (when LiteLLM knows it)."""
    most = max_output_tokens(model)
    return tokens if most is None else min(tokens, most)


async def _within(call: Awaitable[ModelResponse], left: float | None, model: str) -> ModelResponse:
    """The call's answer, or `BudgetExceeded` when the run's time runs out while it waits."""
    if left is None:
        return await call
    try:
        return await asyncio.wait_for(call, max(left, 0.001))
    except TimeoutError:
        raise BudgetExceeded(
            "time", f"time budget spent while waiting for {model!r} ({left:.3g}s were left)"
        ) from None


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
