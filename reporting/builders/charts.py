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


DASHES = ["", "6 4", "2 3", "8 3 2 3"]
MARKERS = ["circle", "square", "diamond", "triangle"]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
    return f'<polygon points="{points}" fill="{colour}"/>'


def line_chart(
    labels: list[str], series: list[tuple[str, list[int | None]]], *, title: str, chart_id: str
) -> str:
    """One line per series across census dates (None: no figure that date, the line breaks).
    Colour, dash and marker shape tell the series apart; the title and description are the text
    alternative, and the page shows the same numbers in a table under the chart."""
    width, height, left, right, top, bottom = 640, 250, 48, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, points in series for v in points if v is not None]
    peak = max([4, *values])
    peak = -(-peak // 4) * 4  # a multiple of 4: four grid lines on whole numbers
    step = plot_w / max(1, len(labels) - 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return left + i * step, top + plot_h - v / peak * plot_h

    names = ", ".join(name for name, _ in series)
    parts = [
        f'<svg class="dsr-chart" viewBox="0 0 {width} {height + 24 * len(series)}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">Line chart of {escape(names)} at each census date from '
        f"{escape(labels[0] if labels else '')} to {escape(labels[-1] if labels else '')}. The "
        "same numbers are in the table below.</desc>",
    ]
    for t in range(5):
        y = top + plot_h - t / 4 * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9d9d9"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{peak * t // 4}</text>"
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{xy(i, 0)[0]:.1f}" y="{height - 14}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for s, (name, points) in enumerate(series):
        colour, dash, marker = COLOURS[s % len(COLOURS)], DASHES[s % 4], MARKERS[s % 4]
        segment: list[str] = []
        segments = [segment]
        for i, v in enumerate(points):
            if v is None:
                segment = []
                segments.append(segment)
                continue
            x, y = xy(i, v)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(_marker(marker, x, y, colour))
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
                )
        ly = height + 24 * s + 8
        parts.append(
            f'<line x1="{left}" x2="{left + 28}" y1="{ly}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
            + _marker(marker, left + 14, ly, colour)
            + f'<text x="{left + 36}" y="{ly + 4}" font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def flow_bars(rows: list[tuple[str, int, int]], *, title: str, chart_id: str) -> str:
    """Movement between census dates as paired bars per place: people who came into it (from
    another place or onto the register) and people who went out of it (elsewhere or off the
    register)."""
    label_w, bar_h, gap, width = 250, 14, 14, 640
    peak = max([1, *[max(i, o) for _, i, o in rows]])
    scale = (width - label_w - 50) / peak
    height = len(rows) * (2 * bar_h + gap) + 30
    parts = [
        f'<svg class="dsr-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">Bar chart: for each place, people who came in (solid bar) '
        "and people who went out (hatched bar) since the previous census date. The same numbers "
        "are in the table below.</desc>",
        '<defs><pattern id="' + chart_id + '-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="#d32205" stroke-width="3"/></pattern></defs>',
    ]
    for k, (label, came_in, went_out) in enumerate(rows):
        y = k * (2 * bar_h + gap)
        parts.append(
            f'<text x="0" y="{y + bar_h + 4}" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{came_in * scale:.1f}" height="{bar_h}" '
            'fill="#0065bd"/>'
            f'<text x="{label_w + came_in * scale + 4:.1f}" y="{y + bar_h - 3}" '
            f'font-size="11">in {came_in}</text>'
            f'<rect x="{label_w}" y="{y + bar_h}" width="{went_out * scale:.1f}" '
            f'height="{bar_h}" fill="url(#{chart_id}-hatch)" stroke="#d32205"/>'
            f'<text x="{label_w + went_out * scale + 4:.1f}" y="{y + 2 * bar_h - 3}" '
            f'font-size="11">out {went_out}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
