"""What the platforms' CSV export layouts share: reading the cells exports write for flags and
times, checking the cells that identify (ids, emails, URLs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import absolute_iri, identifier

if TYPE_CHECKING:
    from .spec import ExportColumn

TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x"})


def flag(text: str | None) -> bool:
    """An export's yes/no cell: yes, true, 1, x (any case) are yes; anything else, or none, no."""
    return text is not None and text.strip().lower() in TRUE_WORDS


def export_time(text: str | None) -> str | None:
    """A time cell as the adapters read times: exports write "2026-11-20 14:03:10 UTC" where the
    APIs write "+0000"; anything else is passed on for the adapter to accept or name."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.upper().endswith(" UTC"):
        return stripped[:-4] + " +0000"
    return stripped


def present(fields: dict) -> dict:
    """The fields that have a value: an empty cell is a missing field, as the adapter names it."""
    return {key: value for key, value in fields.items() if value is not None}


def checked(
    cells: dict[str, str], columns: tuple[ExportColumn, ...], identifiers: tuple[str, ...], iris: tuple[str, ...] = ()
) -> dict[str, str]:
    """cells, once the `identifiers` columns hold no control character and the `iris` columns
    (among them) are absolute IRIs; else InputError naming the column's field, so that the row is
    bad and its reason names the column, before the adapter or the statement validator names
    something the file does not have."""
    fields = {column.name: column.field for column in columns}
    for name in identifiers:
        if name in cells:
            identifier(cells[name], fields[name])
    for name in iris:
        if name in cells:
            absolute_iri(cells[name], fields[name])
    return cells
