"""Server-side SVG charts for the dashboard: geometry computed here, drawn inline by
templates/registers/dashboard.html. Every chart has a text title and description, and its numbers
are also shown in a table."""

from __future__ import annotations

from dataclasses import dataclass

from .selectors import TrendPoint

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40

# Colours from the design system's palette, distinguishable also by marker shape and dash.
SERIES = [
    ("in_hospital", "In hospital", "#0065bd", ""),
    ("delayed_discharge", "Delayed discharge", "#d32205", "6 4"),
    ("out_of_area", "Out of area", "#5e5e5e", "2 3"),
]


@dataclass
class Line:
    key: str
    label: str
    colour: str
    dash: str
    points: str
    dots: list[tuple[float, float, int]]


def _nice_max(value: int) -> int:
    # Divisible by 4, so the four grid lines fall on whole numbers.
    for step in (4, 8, 12, 20, 40, 60, 100, 200, 400, 1000, 2000, 4000, 10000):
        if value <= step:
            return step
    return value


def trend_chart(points: list[TrendPoint]) -> dict:
    top = _nice_max(
        max([1, *[max(p.in_hospital, p.delayed_discharge, p.out_of_area) for p in points]])
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return round(LEFT + i * step, 1), round(TOP + plot_h - value / top * plot_h, 1)

    lines = []
    for key, label, colour, dash in SERIES:
        dots = [(*xy(i, getattr(p, key)), getattr(p, key)) for i, p in enumerate(points)]
        lines.append(Line(key, label, colour, dash, " ".join(f"{x},{y}" for x, y, _ in dots), dots))
    ticks = [(round(TOP + plot_h - t / 4 * plot_h, 1), top * t // 4) for t in range(5)]
    labels = [
        (xy(i, 0)[0], "Today" if p.is_today else p.month_end.strftime("%b"))
        for i, p in enumerate(points)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": TOP + plot_h,
        "label_y": HEIGHT - 14,
        "lines": lines,
        "ticks": ticks,
        "labels": labels,
    }


def bar_chart(rows: list[tuple[str, int]]) -> dict:
    """Horizontal bars, one per row (label, count)."""
    top = max([1, *[n for _, n in rows]])
    bar_h, gap, label_w, width = 22, 10, 260, 640
    bars = []
    for i, (label, n) in enumerate(rows):
        y = i * (bar_h + gap)
        bars.append(
            {
                "label": label,
                "n": n,
                "y": y,
                "text_y": y + bar_h - 6,
                "w": round((width - label_w - 60) * n / top, 1),
            }
        )
    return {
        "width": width,
        "height": len(rows) * (bar_h + gap),
        "label_w": label_w,
        "bar_h": bar_h,
        "bars": bars,
    }
