"""Every call to a model goes through here, and through LiteLLM (imported lazily)."""

from __future__ import annotations

# `_litellm` imports LiteLLM itself only at the first call that needs it, so importing these
# costs nothing; `agentkit.models` is the door, `_litellm` the room behind it.
from agentkit.models._litellm import (
    check_model,
    context_window,
    supports_reasoning,
    takes_reasoning_effort,
)
from agentkit.models.base import ModelRequest, ModelResponse, ToolCall
from agentkit.models.client import CallHooks, ModelClient, NoHooks, Tally
from agentkit.models.guard import allow_model_requests, set_allow_model_requests
from agentkit.models.scripted import FunctionModel, Reply, ScriptedModel

DEFAULT_MODEL = "local/smollm2"


__all__ = [
    "DEFAULT_MODEL",
    "CallHooks",
    "FunctionModel",
    "ModelClient",
    "ModelRequest",
    "ModelResponse",
    "NoHooks",
    "Reply",
    "ScriptedModel",
    "Tally",
    "ToolCall",
    "allow_model_requests",
    "check_model",
    "context_window",
    "set_allow_model_requests",
    "supports_reasoning",
    "takes_reasoning_effort",
]
