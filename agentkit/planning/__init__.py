"""The planning layer: strategist, decomposer, calibration, monitor, ledger, the subtask
lifecycle and plan files.

Prompts and pure logic with no I/O of their own; the graph (`agentkit.graph`) calls them and
records what they decide. Each module is imported where it is used
(`from agentkit.planning import monitor`), so importing the package loads none of them.
"""

from __future__ import annotations

__all__ = [
    "calibration", "decomposer", "horizon", "ledger", "lifecycle", "monitor", "plan_file",
    "strategist",
]
