"""Shared parsing helpers for adapters: vendor models with field paths in their errors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import InputError

M = TypeVar("M", bound=BaseModel)


class VendorModel(BaseModel):
    """Vendors add fields without notice: accept and ignore anything unknown."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate `data`; on failure raise InputError naming the first bad field's dotted path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        field = ".".join(part for part in (prefix, loc) if part)
        message = "missing" if first["type"] == "missing" else first["msg"].lower()
        raise InputError(field or "(document)", message) from None


def require_object(data: Any, field: str) -> dict:
    if not isinstance(data, dict):
        raise InputError(field or "(document)", f"expected a JSON object, got {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def first_text(*values: Any) -> str | None:
    """The first non-empty string among values."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
