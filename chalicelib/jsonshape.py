"""Reading parsed JSON whose nesting is optional: what a webhook, an export row or an API answer
may leave out. No dependencies, so that the webhook routes' adapters use it without loading the
HTTP client stack at a cold start."""

from __future__ import annotations


def object_in(document: dict, key: str) -> dict:
    """document[key] where it is a JSON object, else {}: an answer's optional nested part."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}
