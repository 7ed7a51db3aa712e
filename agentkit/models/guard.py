"""A switch that makes accidental requests to hosted models fail (for tests).

Scripted models and the embedded local model are always allowed: they never leave the machine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from agentkit.errors import ModelRequestsBlocked

OFFLINE_PROVIDERS = frozenset({"scripted", "local"})

_allowed: bool = os.environ.get("AGENTKIT_ALLOW_MODEL_REQUESTS", "1") != "0"


def model_requests_allowed() -> bool:
    return _allowed


def set_allow_model_requests(allowed: bool) -> None:
    """Allow or block requests to hosted models for this process."""
    global _allowed
    _allowed = allowed


@contextlib.contextmanager
def allow_model_requests(allowed: bool = True) -> Iterator[None]:
    """Temporarily allow (or block) requests to hosted models."""
    previous = _allowed
    set_allow_model_requests(allowed)
    try:
        yield
    finally:
        set_allow_model_requests(previous)


def check_allowed(model: str) -> None:
    provider = model.split("/", 1)[0]
    if provider not in OFFLINE_PROVIDERS and not _allowed:
        raise ModelRequestsBlocked(
            f"model {model!r} would be called over the network, but model requests are blocked "
            "(AGENTKIT_ALLOW_MODEL_REQUESTS=0). Use a ScriptedModel or FunctionModel in tests, "
            "or wrap the call in agentkit.allow_model_requests()."
        )
