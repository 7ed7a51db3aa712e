"""Unit conversion (loaded by path, like every `*.py` file of this folder not starting with `_`)."""

from __future__ import annotations

from agentkit import ToolRetry, tool

METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048,
          "mi": 1609.344}


@tool
def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between units: mm, cm, m, km, in, ft, mi.

    Args:
        value: the length to convert.
        from_unit: its unit.
        to_unit: the unit wanted.
    """
    for unit in (from_unit, to_unit):
        if unit not in METRES:
            raise ToolRetry(f"unknown unit {unit!r}; use one of {', '.join(METRES)}")
    return round(value * METRES[from_unit] / METRES[to_unit], 6)
