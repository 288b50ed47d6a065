"""Strict checks of every outgoing statement: a statement that fails is a bug, never sent.

Hand-written rather than a generic schema because it runs on every statement: a single pass
over plain dicts, building a path string only when something is wrong.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from ..errors import InvalidStatement
from .vocabulary import IFI_KEYS

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# C0 and C1 control characters and DEL: in no IRI (RFC 3987), no email address, no account name.
CONTROLS = r"\x00-\x1f\x7f-\x9f"
_NOT_IN_IRI = r"\s<>\"{}|\\^`" + CONTROLS
IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
IRI_FORBIDDEN = re.compile(f"[{_NOT_IN_IRI}]")
_IRI = re.compile(IRI_SCHEME.pattern + f"[^{_NOT_IN_IRI}]+$")
_IRL = re.compile(f"^https?://[^{_NOT_IN_IRI}]+$")
_CONTROL = re.compile(f"[{CONTROLS}]")
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
# Unicode stays allowed (mailto IRIs are IRIs); whitespace and dot-less domains are not.
_MBOX = re.compile(f"^mailto:[^@\\s{CONTROLS}]+@[^@\\s{CONTROLS}]+\\.[^@\\s.{CONTROLS}]+$")


class _Accepted:
    """The texts a pattern accepted: a text is immutable, so one seen before needs no second match.
    Statements repeat most of theirs (the vocabulary's IRIs, a badge class's, a learner's mbox,
    language tags), and a set look-up costs a tenth of a match. Bounded: emptied when full."""

    LIMIT = 4096

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.seen: set[str] = set()

    def __call__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        if value in self.seen:
            return True
        if not self.pattern.match(value):
            return False
        if len(self.seen) >= self.LIMIT:
            self.seen.clear()
        self.seen.add(value)
        return True


_is_iri = _Accepted(_IRI)
_is_irl = _Accepted(_IRL)
_is_lang = _Accepted(_LANG)
_is_mbox = _Accepted(_MBOX)

_STATEMENT_KEYS = frozenset({"id", "actor", "verb", "object", "result", "context", "timestamp"})
_AGENT_KEYS = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_DEFINITION_KEYS = frozenset({"type", "name", "description", "extensions", "moreInfo"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_CONTEXT_KEYS_1 = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_KEYS_2 = _CONTEXT_KEYS_1 | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})


def validate_statement(statement: Any, version: Literal["1.0.3", "2.0.0"] = "1.0.3") -> None:
    """Raise InvalidStatement naming the first problem's path; return None when conformant."""
    _object(statement, "statement", _STATEMENT_KEYS)
    _uuid(statement.get("id"), "id", required=True)
    _agent(statement.get("actor"), "actor", required=True)
    _verb(statement.get("verb"), "verb")
    _statement_object(statement.get("object"), "object")
    if "result" in statement:
        _result(statement["result"], "result")
    if "context" in statement:
        _context(statement["context"], "context", version)
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], "timestamp")


def is_absolute_iri(value: object) -> bool:
    """A scheme, then at least one character, none of them whitespace or forbidden in an IRI."""
    return _is_iri(value)


def _fail(path: str, message: str) -> None:
    raise InvalidStatement(path, message)


def _object(value: Any, path: str, allowed: frozenset[str]) -> None:
    if not isinstance(value, dict):
        _fail(path, "must be an object")
    if not value:
        _fail(path, "must not be empty")
    if not allowed.issuperset(value):
        _fail(path, f"unexpected property {sorted(value.keys() - allowed)[0]!r}")
    if None in value.values():
        key = next(k for k, item in value.items() if item is None)
        _fail(f"{path}.{key}", "must not be null")


def _uuid(value: Any, path: str, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not _UUID.match(value):
        _fail(path, "must be a lower-case UUID")


def _iri(value: Any, path: str) -> None:
    if not _is_iri(value):
        _fail(path, f"must be an absolute IRI, got {value!r}")


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        _fail(path, "must be a non-empty string")


def _timestamp(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        _fail(path, "must be an RFC 3339 timestamp with a time zone")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(path, "is not a real date and time")


def _language_map(value: Any, path: str) -> None:
    if not isinstance(value, dict) or not value:
        _fail(path, "must be a non-empty language map")
    for tag, text in value.items():
        if not _is_lang(tag):
            _fail(f"{path}.{tag}", "is not an RFC 5646 language tag")
        if not isinstance(text, str) or not text:
            _string(text, f"{path}.{tag}")


def _agent(value: Any, path: str, required: bool = False) -> None:
    if value is None and not required:
        return
    _object(value, path, _AGENT_KEYS)
    if value.get("objectType", "Agent") != "Agent":
        _fail(f"{path}.objectType", "must be Agent")
    present = [ifi for ifi in IFI_KEYS if ifi in value]
    if len(present) != 1:
        _fail(path, f"must have exactly one inverse functional identifier, has {len(present)}")
    ifi = present[0]
    ifi_value = value[ifi]
    if ifi == "mbox":
        if not _is_mbox(ifi_value):
            _fail(f"{path}.mbox", "must be a mailto: IRI of an email address")
    elif ifi == "mbox_sha1sum":
        if not isinstance(ifi_value, str) or not _SHA1.match(ifi_value):
            _fail(f"{path}.mbox_sha1sum", "must be 40 lower-case hex digits")
    elif ifi == "account":
        _object(ifi_value, f"{path}.account", frozenset({"homePage", "name"}))
        home = ifi_value.get("homePage")
        if not _is_irl(home):
            _fail(f"{path}.account.homePage", "must be an absolute http(s) URL")
        _string(ifi_value.get("name"), f"{path}.account.name")
        if _CONTROL.search(ifi_value["name"]):
            _fail(f"{path}.account.name", "must not hold a control character")
    else:
        _iri(ifi_value, f"{path}.openid")
    if "name" in value:
        _string(value["name"], f"{path}.name")


def _verb(value: Any, path: str) -> None:
    _object(value, path, frozenset({"id", "display"}))
    _iri(value.get("id"), f"{path}.id")
    if "display" in value:
        _language_map(value["display"], f"{path}.display")


def _statement_object(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, "must be an object")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        _activity(value, path)
    elif kind == "StatementRef":
        _object(value, path, frozenset({"objectType", "id"}))
        _uuid(value.get("id"), f"{path}.id", required=True)
    elif kind == "Agent":
        _agent(value, path, required=True)
    else:
        _fail(f"{path}.objectType", f"unsupported objectType {kind!r}")


def _activity(value: Any, path: str) -> None:
    _object(value, path, _ACTIVITY_KEYS)
    if value.get("objectType", "Activity") != "Activity":
        _fail(f"{path}.objectType", "must be Activity")
    _iri(value.get("id"), f"{path}.id")
    definition = value.get("definition")
    if definition is None:
        return
    _object(definition, f"{path}.definition", _DEFINITION_KEYS)
    if "type" in definition:
        _iri(definition["type"], f"{path}.definition.type")
    if "moreInfo" in definition:
        _iri(definition["moreInfo"], f"{path}.definition.moreInfo")
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{path}.definition.{key}")
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{path}.definition.extensions")


def _result(value: Any, path: str) -> None:
    _object(value, path, _RESULT_KEYS)
    for key in ("success", "completion"):
        if key in value and not isinstance(value[key], bool):
            _fail(f"{path}.{key}", "must be true or false")
    if "response" in value and not isinstance(value["response"], str):
        _fail(f"{path}.response", "must be a string")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def _context(value: Any, path: str, version: str) -> None:
    _object(value, path, _CONTEXT_KEYS_2 if version == "2.0.0" else _CONTEXT_KEYS_1)
    if "platform" in value:
        _string(value["platform"], f"{path}.platform")
    if "language" in value and not _is_lang(str(value["language"])):
        _fail(f"{path}.language", "is not an RFC 5646 language tag")
    _uuid(value.get("registration"), f"{path}.registration")
    activities = value.get("contextActivities")
    if activities is not None:
        _object(activities, f"{path}.contextActivities", _CONTEXT_ACTIVITY_KEYS)
        for key, items in activities.items():
            _list(items, f"{path}.contextActivities.{key}")
            for index, item in enumerate(items):
                _activity(item, f"{path}.contextActivities.{key}[{index}]")
    if "contextAgents" in value:
        _list(value["contextAgents"], f"{path}.contextAgents")
    if "contextGroups" in value:
        _list(value["contextGroups"], f"{path}.contextGroups")
        _no_nulls(value["contextGroups"], f"{path}.contextGroups")
    for index, agent in enumerate(value.get("contextAgents", ())):
        item_path = f"{path}.contextAgents[{index}]"
        _object(agent, item_path, frozenset({"objectType", "agent", "relevantTypes"}))
        _agent(agent.get("agent"), f"{item_path}.agent", required=True)
        types = agent.get("relevantTypes", [])
        _list(types, f"{item_path}.relevantTypes")
        for type_index, iri in enumerate(types):
            _iri(iri, f"{item_path}.relevantTypes[{type_index}]")
    if "extensions" in value:
        _extensions(value["extensions"], f"{path}.extensions")


def _list(value: Any, path: str) -> None:
    if not isinstance(value, list) or not value:
        _fail(path, "must be a non-empty array")


def _extensions(value: Any, path: str) -> None:
    if not isinstance(value, dict) or not value:
        _fail(path, "must be a non-empty object")
    for key, item in value.items():
        if not _is_iri(key):
            _fail(f"{path}[{key!r}]", "extension keys must be absolute IRIs")
        if isinstance(item, (dict, list)) or item is None:  # text, numbers and booleans hold nothing more
            _no_nulls(item, f"{path}[{key!r}]")


def _no_nulls(value: Any, path: str) -> None:
    """No nulls nor empty objects or arrays; and a JSON-LD `@id` (the recipe's badgeclass and
    badgeassertion extensions name their object by one) is an absolute IRI."""
    if value is None:
        _fail(path, "must not be null")
    if isinstance(value, dict):
        if not value:
            _fail(path, "must not be an empty object")
        for key, item in value.items():
            if key == "@id":
                _iri(item, f"{path}.@id")
            if isinstance(item, (dict, list)) or item is None:
                _no_nulls(item, f"{path}.{key}")
    elif isinstance(value, list):
        if not value:
            _fail(path, "must not be an empty array")
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)) or item is None:
                _no_nulls(item, f"{path}[{index}]")
