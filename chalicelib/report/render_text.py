"""The answers as plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from .answers import Cell, Table
from .headlines import headline

HEADLINE = "> "  # marks the line stating the table's main figure


def render(tables: Iterable[Table], heading: str) -> Iterator[str]:
    yield heading
    for table in tables:
        yield ""
        yield f"== {table.title}"
        yield table.note
        said = headline(table)
        if said:
            yield f"{HEADLINE}{_shown(said)}."
        if not table.rows:
            yield "(nothing in this range)"
            continue
        yield from grid(table.columns, table.rows)


def grid(columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Iterator[str]:
    """Aligned columns: numbers to the right, text to the left, "-" where a row has no figure."""
    cells = [[_shown(value) for value in row] for row in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(columns, *cells, strict=True)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows) for i in range(len(columns))]
    for line in [list(columns), ["-" * w for w in widths], *cells]:
        cells_shown = (c.rjust(w) if right else c.ljust(w) for c, w, right in zip(line, widths, numeric, strict=True))
        yield "  ".join(cells_shown).rstrip()


def _shown(value: Cell) -> str:
    if value is None:
        return "-"
    # Names come from the LRS: a control character (an escape sequence) must not reach the terminal.
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))
