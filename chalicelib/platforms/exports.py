"""What the platforms' CSV export layouts share: reading the cells exports write for flags and times."""

from __future__ import annotations

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
