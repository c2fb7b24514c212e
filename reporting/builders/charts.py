"""Small inline SVG charts for the PDFs (WeasyPrint renders SVG natively)."""

from __future__ import annotations

import datetime as dt
from html import escape

COLOURS = ["#0065bd", "#e5a000", "#428542", "#d32205", "#5e5e5e"]


def stacked_bars(points: list[tuple[dt.date, list[int]]], series: list[str], *, title: str) -> str:
    """One bar per census date, stacked by series, oldest on the left."""
    width, height, left, bottom, top = 520, 220, 40, 40, 20
    plot_h = height - bottom - top
    peak = max([sum(values) for _, values in points] + [1])
    step = (width - left - 10) / max(len(points), 1)
    bar = step * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#333"/>',
        f'<text x="{left - 5}" y="{top + 4}" font-size="9" text-anchor="end">{peak}</text>',
        f'<text x="{left - 5}" y="{top + plot_h}" font-size="9" text-anchor="end">0</text>',
    ]
    for i, (day, values) in enumerate(points):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        for k, value in enumerate(values):
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" font-size="9" '
            f'text-anchor="middle">{day:%b %Y}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="9" '
            f'text-anchor="middle">{sum(values)}</text>'
        )
    for k, name in enumerate(series):
        x = left + k * 160
        parts.append(
            f'<rect x="{x}" y="{height + 5}" width="10" height="10" '
            f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{height + 14}" font-size="9">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
