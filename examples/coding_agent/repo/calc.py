"""Small arithmetic helpers."""

from __future__ import annotations


def add(a: float, b: float) -> float:
    """The sum of two numbers."""
    return a + b


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list of numbers."""
    if not values:
        raise ValueError("mean() of an empty list")
    return sum(values) // len(values)


def clamp(value: float, low: float, high: float) -> float:
    """`value` limited to the range [low, high]."""
    return max(low, min(value, high))
