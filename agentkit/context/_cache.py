"""How much of a run's prompts a provider's prompt cache could reuse, and what compaction cost.

A call's *cache-eligible* tokens are those of the longest prefix it shares with the previous
call of the same chain (same subtask and role: one executor conversation, or one subtask's
summarizer calls). Prompts are compared in the order providers serialize them — the tool schemas
first, then the messages — and whole blocks at a time: the tools count only when they are
identical, a message only when it and every message before it are. That is a lower bound on what
a cache keyed on exact prefixes reuses. Tokens are counted with tiktoken (`agentkit.tokens`), the
same way for every call, so the share does not depend on what a scripted model reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkit import tokens
from agentkit.store import ModelCallRow, RunStore

# The role of the calls that compaction makes (`ContextManager` asks the summarizer).
COMPACTION_ROLE = "summarizer"


@dataclass(kw_only=True, frozen=True)
class PromptCache:
    """A run's cache-eligible share and the share of its tokens spent on compaction."""

    prompt_tokens: int  # every call's prompt, counted with tiktoken
    cached_tokens: int  # of those, the ones that repeat the previous call's prefix in its chain
    compaction_calls: int
    compaction_tokens: int  # prompt + completion tokens of the summarizer calls, as recorded
    total_tokens: int  # prompt + completion tokens of every call, as recorded

    @property
    def cache_share(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    @property
    def compaction_share(self) -> float:
        return self.compaction_tokens / self.total_tokens if self.total_tokens else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens, "cached_tokens": self.cached_tokens,
            "cache_share": round(self.cache_share, 4),
            "compaction_calls": self.compaction_calls,
            "compaction_tokens": self.compaction_tokens, "total_tokens": self.total_tokens,
            "compaction_share": round(self.compaction_share, 4),
        }


def shared_prefix_tokens(previous: dict[str, Any] | None, request: dict[str, Any]) -> int:
    """Tokens of `request` that repeat the prefix of `previous` (tools, then whole messages)."""
    if previous is None or (previous.get("tools") or None) != (request.get("tools") or None):
        return 0
    shared = tokens.count_tools(request.get("tools"))
    pairs = zip(previous.get("messages") or [], request.get("messages") or [], strict=False)
    for before, message in pairs:
        if before != message:
            break
        shared += tokens.count_message(message)
    return shared


def prompt_tokens(request: dict[str, Any]) -> int:
    """Tokens of a recorded request's prompt: its messages and tool schemas."""
    return tokens.count_messages(list(request.get("messages") or []), request.get("tools"))


def prompt_cache(calls: list[ModelCallRow]) -> PromptCache:
    """The `PromptCache` figures of `calls` (a run's model calls, in order)."""
    last: dict[tuple[str | None, str], dict[str, Any]] = {}
    total = cached = 0
    for call in calls:
        chain = (call.subtask_id, call.role)
        total += prompt_tokens(call.request)
        cached += shared_prefix_tokens(last.get(chain), call.request)
        last[chain] = call.request
    compaction = [c for c in calls if c.role == COMPACTION_ROLE]
    return PromptCache(
        prompt_tokens=total, cached_tokens=cached, compaction_calls=len(compaction),
        compaction_tokens=sum(c.prompt_tokens + c.completion_tokens for c in compaction),
        total_tokens=sum(c.prompt_tokens + c.completion_tokens for c in calls),
    )


def cache_share(store: RunStore, run_id: str) -> PromptCache:
    """The cache-eligible share and compaction share of run `run_id` (its full id)."""
    return prompt_cache(store.get_model_calls(run_id))
