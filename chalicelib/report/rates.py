"""Rates as the new answers show them: a percentage or ratio, or no figure where the base is zero."""

from __future__ import annotations


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 2) if whole else None
