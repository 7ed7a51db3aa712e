"""Scripted models: deterministic stand-ins for a model, for tests and for users' own tests.

Both are real LiteLLM providers (`scripted/<name>`), so a run driven by them goes through the very
same `litellm.acompletion` path as a hosted model. A reply may be:

- a `str`: plain text (or JSON text for a structured answer);
- a `ToolCall` or a list of them;
- a `dict` or a Pydantic model: the structured answer, sent as JSON;
- a `Reply`, for full control (text, tool calls, reported usage).

LiteLLM reaches a scripted model by its name, through a process-wide table of weak references:
the model lives as long as the code (usually the `Agent`) holding it, and two live models never
share a name, so two agents in one process never answer with each other's model.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import threading
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from pydantic import BaseModel

from agentkit.errors import ModelConfigError, ModelError
from agentkit.models.base import ModelRequest, ToolCall
from agentkit.tokens import count_messages, count_text


@dataclass(kw_only=True)
class Reply:
    """A scripted reply with everything spelled out.

    Attributes:
        prompt_tokens: the usage to report; default: counted from the request.
        completion_tokens: the usage to report; default: counted from the reply.
        cost_usd: the price to report for the call (LiteLLM prices no scripted model), for
            testing cost budgets.
        finish_reason: the finish reason to report, such as "length" for an answer cut off at
            its token limit; default: "tool_calls" with tool calls, else "stop".
    """

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float = 0.0
    finish_reason: str | None = None


ReplyLike: TypeAlias = str | ToolCall | list[ToolCall] | dict[str, Any] | BaseModel | Reply
ReplyFunction: TypeAlias = Callable[[ModelRequest], ReplyLike | Awaitable[ReplyLike]]

# Weak: the table never keeps a model alive; its owner (an Agent, a test) does.
_registry: weakref.WeakValueDictionary[str, ScriptedBase] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()
_counter = itertools.count(1)


class ScriptedBase:
    """Common part of the scripted models: a name under the `scripted` provider, and a log.

    Raises:
        ModelConfigError: another live scripted model already has this name.
    """

    def __init__(self, name: str | None) -> None:
        self.requests: list[ModelRequest] = []
        with _registry_lock:
            self.name = name or _free_name(type(self).__name__.lower())
            if (taken := _registry.get(self.name)) is not None:
                raise ModelConfigError(
                    f"a scripted model named {self.name!r} already exists in this process "
                    f"({type(taken).__name__}); give this one another name (name=...) or none "
                    "for a fresh one, or drop the first (every agent and variable holding it) "
                    "before reusing its name"
                )
            _registry[self.name] = self

    @property
    def model_name(self) -> str:
        """The LiteLLM model string that routes to this model."""
        return f"scripted/{self.name}"

    def __str__(self) -> str:
        return self.model_name

    async def _next(self, request: ModelRequest) -> ReplyLike:
        raise NotImplementedError

    async def respond(self, request: ModelRequest) -> Reply:
        self.requests.append(request)
        return _to_reply(await self._next(request), request)


class FunctionModel(ScriptedBase):
    """A model whose every reply is computed by `fn(request)` (sync or async)."""

    def __init__(self, fn: ReplyFunction, *, name: str | None = None) -> None:
        super().__init__(name)
        self.fn = fn

    async def _next(self, request: ModelRequest) -> ReplyLike:
        value = self.fn(request)
        if inspect.isawaitable(value):
            value = await value
        return value


class ScriptedModel(ScriptedBase):
    """A model that answers from a queue of replies, in order; an entry may be a function."""

    def __init__(
        self, replies: Iterable[ReplyLike | ReplyFunction], *, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.replies: deque[ReplyLike | ReplyFunction] = deque(replies)
        self._lock = asyncio.Lock()

    async def _next(self, request: ModelRequest) -> ReplyLike:
        if not self.replies:
            raise ModelError(
                f"ScriptedModel {self.name!r} has no reply left for call "
                f"{len(self.requests)} (role {request.role!r}); add more replies to the script"
            )
        entry = self.replies.popleft()
        if callable(entry) and not isinstance(entry, BaseModel | ToolCall | Reply):
            value = entry(request)
            return await value if inspect.isawaitable(value) else value
        return entry


def _free_name(prefix: str) -> str:
    """`functionmodel-3`: the next numbered name no live model has (call under the lock)."""
    while (name := f"{prefix}-{next(_counter)}") in _registry:
        pass
    return name


def lookup(name: str) -> ScriptedBase:
    with _registry_lock:
        model = _registry.get(name)
    if model is None:
        raise ModelConfigError(
            f"no scripted model named {name!r} exists in this process; create it with "
            "FunctionModel(fn) or ScriptedModel([...]) and pass the object (or its .model_name) "
            "while something (an Agent given the object, a variable) keeps it alive"
        )
    return model


def _to_reply(value: ReplyLike, request: ModelRequest) -> Reply:
    if isinstance(value, Reply):
        reply = value
    elif isinstance(value, ToolCall):
        reply = Reply(tool_calls=[value])
    elif isinstance(value, list):
        reply = Reply(tool_calls=list(value))
    elif isinstance(value, BaseModel):
        reply = Reply(text=value.model_dump_json())
    elif isinstance(value, dict):
        reply = Reply(text=json.dumps(value))
    elif isinstance(value, str):
        reply = Reply(text=value)
    else:
        raise ModelError(
            f"scripted reply {value!r} has type {type(value).__name__}; expected str, ToolCall, "
            "list of ToolCall, dict, a Pydantic model or Reply"
        )
    calls = [
        call if call.id else ToolCall(name=call.name, arguments=call.arguments, id=f"call_{i}")
        for i, call in enumerate(reply.tool_calls)
    ]
    completion_text = (reply.text or "") + "".join(c.arguments_json() for c in calls)
    return Reply(
        text=reply.text,
        tool_calls=calls,
        prompt_tokens=reply.prompt_tokens
        if reply.prompt_tokens is not None
        else count_messages(request.messages, request.tools),
        completion_tokens=reply.completion_tokens
        if reply.completion_tokens is not None
        else count_text(completion_text) + 1,
        cost_usd=reply.cost_usd,
        finish_reason=reply.finish_reason,
    )
