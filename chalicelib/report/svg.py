"""Small inline SVG charts: horizontal bars, stacked or grouped columns, a heat map.

No dependency and no script: each function returns one standalone <svg> element (it renders
on its own, in a page or as a file). Every label is untrusted text (team, skill and learner
names come from the LRS), so it is escaped here, at the one place text enters the markup.

Labels are never cut: a long one is wrapped onto several lines (tspans) and the chart grows to
hold them. SVG text does not wrap by itself, so widths are estimated per character, from the
widest common sans-serif (DejaVu Sans) so that the estimate errs on the wide side.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Mapping, Sequence

WIDTH = 760
FONT_SIZE = 12
FONT = f'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="{FONT_SIZE}" fill="#1f2933"'
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0891b2", "#db2777", "#65a30d")
LABEL_WIDTH = 240  # widest label column (px) of the heat map; longer labels wrap onto more lines
BAR_LABEL_WIDTH = 340  # of the bars: half the chart
LINE = 15  # distance between the lines of a wrapped label
ROW = 24  # smallest height of a bar row or heat-map row
GAP_FILL = "#fde2e1"
NARROW, WIDE, CAPITAL = "ijlfrt.,:;'|!()[]/\\- ", "mwMW%@", "#&+<=>^~"


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def char_width(char: str) -> float:
    if char in NARROW:
        return 4.5
    if char in WIDE or not char.isascii():
        return 12.0
    return 10.0 if char.isupper() or char in CAPITAL else 7.5


def text_width(text: str) -> float:
    """The width of one line at 12 px, rounded up rather than down."""
    return sum(char_width(char) for char in text)


def wrap(text: str, width: float) -> list[str]:
    """Lines no wider than width: broken at each newline, between words, inside a word only when
    it alone is wider. Every character is kept (the lines joined are the text, up to the spaces
    at the breaks)."""
    return [line for part in text.split("\n") for line in _wrap_words(part, width)]


def _wrap_words(text: str, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if text_width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and text_width(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    return [*lines, line] if line or not lines else lines


def lines_width(lines: Sequence[str]) -> float:
    return max((text_width(line) for line in lines), default=0.0)


def unique(labels: Sequence[str]) -> list[str]:
    """The labels, a repeated one numbered ("name (2)") so that no two bars read the same."""
    seen: dict[str, int] = {}
    shown = []
    for name in labels:
        seen[name] = seen.get(name, 0) + 1
        shown.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return shown


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    width, height = math.ceil(width), math.ceil(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" {FONT}>'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, lines: Sequence[str] | str, anchor: str = "start", extra: str = "") -> str:
    """One text at baseline y, its lines (if several) one under the other."""
    if isinstance(lines, str):
        lines = [lines]
    if len(lines) == 1:
        inner = escape(lines[0])
    else:
        inner = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if n == 0 else LINE}">{escape(line)}</tspan>' for n, line in enumerate(lines)
        )
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{inner}</text>'


def _label(x: float, top: float, height: float, lines: Sequence[str], anchor: str) -> str:
    """A wrapped label centred vertically in a band [top, top + height]."""
    first = top + (height - len(lines) * LINE) / 2 + 11
    return _text(x, first, lines, anchor, ' class="label"')


def _rect(x: float, y: float, width: float, height: float, fill: str, tip: str, extra: str = "") -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" fill="{fill}"{extra}>'
        f"<title>{escape(tip)}</title></rect>"
    )


def nice_step(value: float, ticks: int = 4) -> int:
    """A whole, round step (1, 2, 5 times a power of ten) so that `ticks` steps reach value:
    the figures are counts, so the axis shows whole numbers."""
    rough = max(value, 1) / ticks
    power = 10 ** max(math.floor(math.log10(rough)), 0)
    return next(int(step * power) for step in (1, 2, 5, 10) if step * power >= rough)


def empty(label: str, message: str = "Nothing in this range") -> str:
    body = [
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="59" rx="6" fill="#f8fafc" stroke="#cbd5e1"/>',
        _text(WIDTH / 2, 35, message, "middle", ' fill="#64748b"'),
    ]
    return _svg(WIDTH, 60, label, body)


def hbars(items: Sequence[tuple[str, int]], label: str) -> str:
    """One horizontal bar per item, largest first (ties by label), its value at the end."""
    if not items:
        return empty(label)
    items = sorted(
        zip(unique([name for name, _ in items]), (value for _, value in items), strict=True),
        key=lambda item: (-item[1], item[0]),
    )
    wrapped = [wrap(name, BAR_LABEL_WIDTH) for name, _ in items]
    largest = max(value for _, value in items)
    left, right = 16 + max(lines_width(lines) for lines in wrapped), 14 + text_width(str(largest))
    step = nice_step(largest)
    scale = (WIDTH - left - right) / (step * math.ceil(max(largest, 1) / step))
    body: list[str] = []
    y = 8.0
    for (name, value), lines in zip(items, wrapped, strict=True):
        height = max(ROW, len(lines) * LINE + 9)
        body.append(_label(left - 8, y, height, lines, "end"))
        body.append(_rect(left, y + height / 2 - 8, value * scale, 16, colour(0), f"{' '.join(name.split())}: {value}"))
        body.append(_text(left + value * scale + 6, y + height / 2 + 4, str(value)))
        y += height
    return _svg(WIDTH, y + 8, label, body)


def columns(
    categories: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], int],
    label: str,
    stacked: bool = True,
) -> str:
    """Columns per category: the series stacked on each other, or side by side (grouped)."""
    if not categories or not any(values.values()):
        return empty(label)
    sums = [
        sum(values.get((c, s), 0) for s in series) if stacked else max(values.get((c, s), 0) for s in series)
        for c in categories
    ]
    step = nice_step(max(sums))
    maximum = step * math.ceil(max(sums) / step)
    longest_word = max(text_width(word) for category in categories for word in category.split() or [""])
    slot = max(56.0, min(longest_word, 140.0) + 10)  # a column's share of the width: its label wraps in it
    left = 14 + text_width(str(maximum))
    plot_width = max(WIDTH - left - 20, slot * len(categories))
    slot = plot_width / len(categories)
    legend, top = _legend(series, 8, left + plot_width + 10)
    names = [wrap(category, slot - 6) for category in categories]
    plot_height = 220
    body = legend + _axis(left, top, plot_width, plot_height, maximum, step)
    width = min(slot * 0.7, 80) / (1 if stacked else len(series))
    scale = plot_height / maximum
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
        body.append(
            _text(left + slot * index + slot / 2, top + plot_height + 16, names[index], "middle", ' class="label"')
        )
    bottom = 16 + LINE * max(len(lines) for lines in names)
    return _svg(left + plot_width + 20, top + plot_height + bottom, label, body)


def _legend(series: Sequence[str], y: float, width: float) -> tuple[list[str], float]:
    """A key per series, flowing onto further rows; returns it and where the plot may start."""
    body: list[str] = []
    x, row = 10.0, y
    for index, name in enumerate(series):
        lines = wrap(name, width - 40)
        size = 17 + lines_width(lines) + 24
        if x > 10 and x + size > width:
            x, row = 10.0, row + 18
        body.append(f'<rect x="{x:.1f}" y="{row}" width="12" height="12" fill="{colour(index)}"/>')
        body.append(_text(x + 17, row + 10, lines))
        x += size
        row += LINE * (len(lines) - 1)
    return body, row + 36


def _axis(left: float, top: float, width: float, height: float, maximum: int, step: int) -> list[str]:
    body = [f'<line x1="{left:.1f}" y1="{top + height}" x2="{left + width:.1f}" y2="{top + height}" stroke="#94a3b8"/>']
    for value in range(0, maximum + 1, step):
        y = top + height - height * value / maximum
        if value:
            body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + width:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        body.append(_text(left - 6, y + 4, str(value), "end"))
    return body


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Mapping[tuple[str, str], int],
    label: str,
    gap_label: str,
    gaps: Collection[tuple[str, str]] | None = None,
) -> str:
    """A grid, darker for higher values; a gap is marked with a cross, named in its tooltip and in a
    key under the grid. `gaps`: the (row, column) cells that are gaps, as the answer marks them (a
    zero in a column that is no team, such as `unknown`, is none); None: every zero cell. Column
    names sit above their column, wrapped in it."""
    if not rows or not cols:
        return empty(label)
    row_names = [wrap(name, LABEL_WIDTH) for name in rows]
    left = 16 + max(lines_width(lines) for lines in row_names)
    longest_word = max(text_width(word) for name in cols for word in name.split() or [""])
    cell = max(48.0, min(longest_word, 80.0) + 12)
    col_names = [wrap(name, cell - 6) for name in cols]
    top = 12 + LINE * max(len(lines) for lines in col_names)
    maximum = max(values.values(), default=0) or 1
    body = [
        _text(left + column * cell + cell / 2, 20, lines, "middle", ' class="label"')
        for column, lines in enumerate(col_names)
    ]
    y = top
    for name, lines in zip(rows, row_names, strict=True):
        height = max(ROW, len(lines) * LINE + 9)
        body.append(_label(left - 8, y, height, lines, "end"))
        for column, other in enumerate(cols):
            value = values.get((name, other), 0)
            gap = not value if gaps is None else (name, other) in gaps
            body += _cell(
                left + column * cell,
                y,
                cell,
                height,
                value / maximum,
                value,
                f"{name} / {other}",
                gap_label if gap else None,
            )
        y += height
    key = f"✕ {gap_label}"
    body.append(_text(10, y + 22, key, "start", ' fill="#b91c1c"'))
    width = max(left + len(cols) * cell + 10, 20 + text_width(key))
    return _svg(width, y + 32, label, body)


def _cell(
    x: float, y: float, width: float, height: float, share: float, value: int, tip: str, gap_label: str | None
) -> list[str]:
    """gap_label: the cell is a gap (a cross), or None (its number, a zero included)."""
    shade = GAP_FILL if gap_label else f"rgba(37,99,235,{0.15 * bool(value) + 0.85 * share:.2f})"
    tip = f"{tip}: {value}" + (f" ({gap_label})" if gap_label else "")
    fill = ' fill="#b91c1c"' if gap_label else (' fill="#ffffff"' if share > 0.5 else "")
    return [
        _rect(x + 1, y + 1, width - 2, height - 2, shade, tip, ' stroke="#ffffff"'),
        _text(x + width / 2, y + height / 2 + 4, "✕" if gap_label else str(value), "middle", fill),
    ]
