"""The execution layer: the executor's tool loop, its toolbox (control, thinking and recall
tools), thinking, event-driven dispatch, the verifier, and the finalizer.

Each module is imported where it is used (`from agentkit.execution import thinking`), so
importing the package loads none of them.
"""

from __future__ import annotations

__all__ = ["dispatch", "executor", "finalizer", "thinking", "toolbox", "verifier"]
