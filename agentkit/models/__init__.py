"""Every call to a model goes through here, and through LiteLLM (imported lazily)."""

from __future__ import annotations

from agentkit.models.base import ModelRequest, ModelResponse, ToolCall
from agentkit.models.client import CallHooks, ModelClient, NoHooks, Tally
from agentkit.models.guard import allow_model_requests, set_allow_model_requests
from agentkit.models.scripted import FunctionModel, Reply, ScriptedModel

DEFAULT_MODEL = "local/smollm2"


def check_model(model: str) -> None:
    """Raise `ModelConfigError` now if `model` cannot be called (unknown, no key, no extra)."""
    from agentkit.models import _litellm

    _litellm.check_model(model)


def context_window(model: str) -> int | None:
    """How many input tokens `model` takes, or None when unknown (scripted models)."""
    from agentkit.models import _litellm

    return _litellm.context_window(model)


def supports_reasoning(model: str) -> bool:
    """Whether `model` takes reasoning controls (LiteLLM's `reasoning_effort`)."""
    from agentkit.models import _litellm

    return _litellm.supports_reasoning(model)


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
]
