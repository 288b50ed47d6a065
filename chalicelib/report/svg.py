"""Small inline SVG charts: horizontal bars, stacked or grouped columns, a heat map.

No dependency and no script: each function returns one standalone <svg> element (it renders
on its own, in a page or as a file). Every label is untrusted text (team, skill and learner
names come from the LRS), so it is escaped here, at the one place text enters the markup.
"""

from __future__ import annotations

import html
import math
from typing import Mapping, Sequence

WIDTH = 760
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" fill="#1f2933"'
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0891b2", "#db2777", "#65a30d")
LABEL_CHARS = 28  # longer labels are cut (the full text stays in the tooltip and the table)
ROW = 24  # height of a bar row or heat-map row
GAP_FILL = "#fde2e1"


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{escape(label)}" {FONT}>'
            f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    shown = short(text)
    tip = f"<title>{escape(text)}</title>" if shown != text else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{tip}{escape(shown)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str, tip: str, extra: str = "") -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" fill="{fill}"{extra}>'
            f"<title>{escape(tip)}</title></rect>")


def nice_step(value: float, ticks: int = 4) -> int:
    """A whole, round step (1, 2, 5 times a power of ten) so that `ticks` steps reach value:
    the figures are counts, so the axis shows whole numbers."""
    rough = max(value, 1) / ticks
    power = 10 ** max(math.floor(math.log10(rough)), 0)
    return next(int(step * power) for step in (1, 2, 5, 10) if step * power >= rough)


def _char_width(texts: Sequence[str]) -> float:
    """Roughly how wide the longest (shortened) label is, in pixels at 12 px."""
    return 6.8 * max((len(short(t)) for t in texts), default=0)


def empty(label: str, message: str = "Nothing in this range") -> str:
    body = ['<rect x="0.5" y="0.5" width="759" height="59" rx="6" fill="#f8fafc" stroke="#cbd5e1"/>',
            _text(WIDTH / 2, 35, message, "middle", ' fill="#64748b"')]
    return _svg(WIDTH, 60, label, body)


def hbars(items: Sequence[tuple[str, int]], label: str) -> str:
    """One horizontal bar per item, its value at the end."""
    if not items:
        return empty(label)
    left, right = 16 + min(_char_width([name for name, _ in items]), 220), 50
    step = nice_step(max(value for _, value in items))
    scale = (WIDTH - left - right) / (step * math.ceil(max(value for _, value in items) / step))
    body: list[str] = []
    for index, (name, value) in enumerate(items):
        y = 8 + index * ROW
        body.append(_text(left - 8, y + 15, name, "end"))
        body.append(_rect(left, y + 3, value * scale, ROW - 8, colour(0), f"{name}: {value}"))
        body.append(_text(left + value * scale + 6, y + 15, str(value)))
    return _svg(WIDTH, 16 + len(items) * ROW, label, body)


def columns(categories: Sequence[str], series: Sequence[str], values: Mapping[tuple[str, str], int],
            label: str, stacked: bool = True) -> str:
    """Columns per category: the series stacked on each other, or side by side (grouped)."""
    if not categories or not any(values.values()):
        return empty(label)
    slant = 0.87 * _char_width(categories)  # the labels below the axis, slanted by 30 degrees
    top, bottom, left = 30 + 18 * math.ceil(len(series) / 5), 24 + slant / 1.7, max(50, slant - 20)
    plot_height, plot_width = 220, WIDTH - left - 20
    sums = [sum(values.get((c, s), 0) for s in series) if stacked else max(values.get((c, s), 0) for s in series)
            for c in categories]
    step = nice_step(max(sums))
    maximum = step * math.ceil(max(sums) / step)
    scale = plot_height / maximum
    body = _legend(series, 8) + _axis(left, top, plot_width, plot_height, maximum, step)
    slot = plot_width / len(categories)
    width = min(slot * 0.7, 80) / (1 if stacked else len(series))
    for index, category in enumerate(categories):
        x = left + slot * index + (slot - width * (1 if stacked else len(series))) / 2
        base = top + plot_height
        for number, name in enumerate(series):
            value = values.get((category, name), 0)
            height = value * scale
            body.append(_rect(x, base - height, width, height, colour(number), f"{category} / {name}: {value}"))
            if stacked:
                base -= height
            else:
                x += width
        body.append(_text(left + slot * index + slot / 2, top + plot_height + 16, category, "end",
                          f' transform="rotate(-30 {left + slot * index + slot / 2:.1f} {top + plot_height + 16:.1f})"'))
    return _svg(WIDTH, round(top + plot_height + bottom), label, body)


def _legend(series: Sequence[str], y: float) -> list[str]:
    body = []
    for index, name in enumerate(series):
        x, row = 10 + (index % 5) * 150, y + (index // 5) * 18
        body.append(f'<rect x="{x}" y="{row}" width="12" height="12" fill="{colour(index)}"/>')
        body.append(_text(x + 17, row + 10, short(name, 20)))
    return body


def _axis(left: float, top: float, width: float, height: float, maximum: int, step: int) -> list[str]:
    body = [f'<line x1="{left:.1f}" y1="{top + height}" x2="{left + width:.1f}" y2="{top + height}" stroke="#94a3b8"/>']
    for value in range(0, maximum + 1, step):
        y = top + height - height * value / maximum
        if value:
            body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + width:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        body.append(_text(left - 6, y + 4, str(value), "end"))
    return body


def heatmap(rows: Sequence[str], cols: Sequence[str], values: Mapping[tuple[str, str], int], label: str,
            gap_label: str) -> str:
    """A grid, darker for higher values; a zero cell is a gap, drawn apart and named in its tooltip."""
    if not rows or not cols:
        return empty(label)
    left, top = 16 + min(_char_width(rows), 220), 24 + 0.71 * _char_width(cols)  # column labels at 45 degrees
    cell = max(24, min(60, int(WIDTH - left - 10) // len(cols)))
    maximum = max(values.values(), default=0) or 1
    body: list[str] = []
    for column, name in enumerate(cols):
        x = left + column * cell + cell / 2
        body.append(_text(x, top - 8, name, "start", f' transform="rotate(-45 {x:.1f} {top - 8:.1f})"'))
    for row, team in enumerate(rows):
        y = top + row * ROW
        body.append(_text(left - 8, y + 16, team, "end"))
        for column, skill in enumerate(cols):
            value = values.get((team, skill), 0)
            x = left + column * cell
            shade = f"rgba(37,99,235,{0.15 + 0.85 * value / maximum:.2f})" if value else GAP_FILL
            tip = f"{team} / {skill}: {value}" + (f" ({gap_label})" if not value else "")
            body.append(_rect(x + 1, y + 1, cell - 2, ROW - 2, shade, tip, ' stroke="#ffffff"'))
            body.append(_text(x + cell / 2, y + 16, str(value) if value else "✕", "middle",
                              ' fill="#b91c1c"' if not value else (' fill="#ffffff"' if value / maximum > 0.5 else "")))
    width = max(WIDTH, left + len(cols) * cell + top)  # the last slanted label stays inside
    return _svg(round(width), round(top + len(rows) * ROW + 10), label, body)
