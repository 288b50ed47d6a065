"""The answers as CSV files, one per answer, for LAPs and spreadsheets that import CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from .answers import Cell, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write(tables: Iterable[Table], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = directory / f"{table.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows([_cell(value) for value in row] for row in table.rows)
        written.append(path)
    return written


def _cell(value: Cell) -> str | int | float:
    """Empty for "no figure"; text that a spreadsheet would run as a formula (a team named
    "=HYPERLINK(...)") is quoted with a leading apostrophe, as OWASP advises."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
