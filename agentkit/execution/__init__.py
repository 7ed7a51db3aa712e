"""The execution layer: the executor's tool loop, the thinking tools, recall and the finalizer.

Each module is imported where it is used (`from agentkit.execution import thinking`), so
importing the package loads none of them.
"""

from __future__ import annotations

__all__ = ["executor", "finalizer", "recall", "thinking"]
