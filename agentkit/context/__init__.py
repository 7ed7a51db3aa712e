"""The context manager: token accounting, tiered compaction, persisted summaries, recall.

Every executor prompt passes through `ContextManager.fit` before its model call. The plan and
ledger ride in the pinned first user message and are never compacted; old tool outputs are masked
(kept in the database, brought back by `recall`), older turns summarized into `Summary` records,
and summaries merged when they grow.
"""

from __future__ import annotations

from agentkit.context._accounting import TokenCounter
from agentkit.context._cache import PromptCache, cache_share, prompt_cache
from agentkit.context._manager import ContextManager, load_summaries
from agentkit.context._pages import PAGE_CHARS, first_page
from agentkit.context._recall import recall_text
from agentkit.context._summary import Fact, FailedAttempt, Summary
from agentkit.errors import ContextOverflow

__all__ = [
    "ContextManager",
    "ContextOverflow",
    "PAGE_CHARS",
    "PromptCache",
    "FailedAttempt",
    "Fact",
    "Summary",
    "TokenCounter",
    "cache_share",
    "first_page",
    "load_summaries",
    "prompt_cache",
    "recall_text",
]
