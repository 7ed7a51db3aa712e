"""Token accounting: tiktoken estimates, calibrated per model against the usage providers report."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from agentkit.tokens import count_message, count_tools

# A provider's tokenizer may differ from tiktoken's, but not by more than this.
_MIN_RATIO, _MAX_RATIO = 0.5, 3.0


@dataclass(kw_only=True)
class TokenCounter:
    """Counts prompt tokens with tiktoken and corrects the count per model.

    After each call whose usage the provider reported, `observe` adds the reported and the
    estimated prompt size to running totals; `estimate` scales tiktoken's count by their ratio,
    so a model whose tokenizer counts 20% more gets compacted 20% earlier.
    """

    _totals: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
    ) -> int:
        """tiktoken's count of a request, uncalibrated."""
        return sum(count_message(m) for m in messages) + count_tools(tools)

    def ratio(self, model: str | None) -> float:
        """Reported over estimated prompt tokens for `model` so far (1.0 before any report)."""
        with self._lock:
            reported, estimated = self._totals.get(model or "", (0, 0))
        if not reported or not estimated:
            return 1.0
        return min(max(reported / estimated, _MIN_RATIO), _MAX_RATIO)

    def estimate(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
    ) -> int:
        """The calibrated prompt size of a request to `model`."""
        return math.ceil(self.count(messages, tools) * self.ratio(model))

    def observe(
        self, model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
        reported_prompt_tokens: int,
    ) -> None:
        """Record what the provider reported for a request; a zero (no usage given) is skipped."""
        if reported_prompt_tokens <= 0:
            return
        estimated = self.count(messages, tools)
        with self._lock:
            reported_sum, estimated_sum = self._totals.get(model, (0, 0))
            self._totals[model] = (reported_sum + reported_prompt_tokens, estimated_sum + estimated)
