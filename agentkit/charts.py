"""Inline SVG charts for the HTML run report: a subtask timeline and cumulative tokens per role.

Plain SVG strings (no script, no network): the report stays one self-contained file.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, ROW, LEFT = 900, 26, 170
COLORS = {"done": "#2e7d32", "failed": "#c62828", "running": "#f9a825", "pending": "#9e9e9e",
          "superseded": "#757575", "stopped": "#6a1b9a"}
SERIES = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037")


@dataclass(frozen=True)
class Bar:
    """One subtask on the timeline: seconds from the run's start."""

    label: str
    status: str
    start: float
    end: float


def timeline(bars: list[Bar], total: float) -> str:
    """Each subtask as a bar from its first call to its last, coloured by status."""
    if not bars:
        return "<p>No subtask made a call.</p>"
    total = max(total, 1e-3)
    scale = (WIDTH - LEFT - 10) / total
    height = ROW * len(bars) + 30
    parts = [f'<svg class="timeline" width="{WIDTH}" height="{height}" role="img" '
             f'aria-label="subtask timeline">']
    for i, bar in enumerate(bars):
        y = 10 + i * ROW
        x = LEFT + bar.start * scale
        width = max((bar.end - bar.start) * scale, 2)
        color = COLORS.get(bar.status, "#455a64")
        parts.append(
            f'<text x="4" y="{y + 15}" class="label">{escape(bar.label[:24])}</text>'
            f'<rect class="bar" data-status="{escape(bar.status)}" x="{x:.1f}" y="{y}" '
            f'width="{width:.1f}" height="{ROW - 8}" fill="{color}">'
            f'<title>{escape(bar.label)}: {escape(bar.status)}, {bar.start:.2f}s to '
            f'{bar.end:.2f}s</title></rect>'
        )
    axis_y = height - 8
    parts.append(f'<text x="{LEFT}" y="{axis_y}" class="axis">0 s</text>'
                 f'<text x="{WIDTH - 60}" y="{axis_y}" class="axis">{total:.2f} s</text></svg>')
    return "".join(parts)


def cumulative(series: dict[str, list[tuple[float, int]]], total: float) -> str:
    """Cumulative tokens per role over the run's time: one line per role, with a legend."""
    if not series:
        return "<p>No model calls.</p>"
    top = max(sum(v for _, v in points) for points in series.values()) or 1
    total = max(total, 1e-3)
    height, plot = 240, 200
    parts = [f'<svg class="tokens" width="{WIDTH}" height="{height}" role="img" '
             f'aria-label="tokens per role over time">']
    for i, (role, points) in enumerate(sorted(series.items())):
        color, running, coords = SERIES[i % len(SERIES)], 0, [f"{LEFT},{plot + 10}"]
        for t, tokens in sorted(points):
            running += tokens
            x = LEFT + t / total * (WIDTH - LEFT - 10)
            coords.append(f"{x:.1f},{plot + 10 - running / top * plot:.1f}")
        parts.append(
            f'<polyline class="series" data-role="{escape(role)}" fill="none" stroke="{color}" '
            f'stroke-width="2" points="{" ".join(coords)}"/>'
            f'<text x="4" y="{20 + i * 18}" fill="{color}" class="label">{escape(role)}: '
            f'{running} tokens</text>'
        )
    parts.append(f'<text x="{LEFT}" y="{height - 8}" class="axis">0 s</text>'
                 f'<text x="{WIDTH - 60}" y="{height - 8}" class="axis">{total:.2f} s</text>'
                 f'<text x="{LEFT + 4}" y="20" class="axis">{top} tokens</text></svg>')
    return "".join(parts)
