"""The xAPI GET filters, checked again on the connector's side.

An LRS may ignore a filter it does not know (or implement it loosely) and answer a page of other
statements: whoever reads the LRS keeps only the statements a filter promises, so that nothing
the connector concludes depends on the LRS honouring it. `related_agents`/`related_activities`
widen a filter to wherever an Agent or Activity appears in the statement; that reading is kept
loose on purpose (anywhere in the statement), so that no statement an LRS rightly returned is
dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ..timeutil import time_or_none
from .vocabulary import IFI_KEYS, VERB_VOIDED

Check = Callable[[dict], bool]


def matcher(params: dict[str, object]) -> Check:
    """A statement check for the filters of an xAPI GET (those that can be checked exactly)."""
    checks: list[Check] = []
    if "verb" in params:
        verb = str(params["verb"])
        checks.append(lambda s: _dict(s.get("verb")).get("id") == verb)
    if "activity" in params:
        checks.append(_activity_check(str(params["activity"]), _flag(params.get("related_activities"))))
    if "agent" in params:
        checks.append(_agent_check(_agent(params["agent"]), _flag(params.get("related_agents"))))
    if "registration" in params:
        registration = str(params["registration"]).lower()
        checks.append(lambda s: str(_dict(s.get("context")).get("registration", "")).lower() == registration)
    checks.extend(_stored_checks(params.get("since"), params.get("until")))
    return lambda statement: all(check(statement) for check in checks)


def voided_target(statement: dict) -> str | None:
    """The id a voiding statement voids, or None for any other statement."""
    target = _dict(statement.get("object"))
    if _dict(statement.get("verb")).get("id") != VERB_VOIDED or target.get("objectType") != "StatementRef":
        return None
    return str(target.get("id") or "") or None


def _activity_check(activity: str, related: bool) -> Check:
    if related:
        return lambda s: any(node.get("id") == activity for node in _nodes(s))
    return lambda s: _dict(s.get("object")).get("id") == activity


def _agent_check(ifi: dict[str, Any], related: bool) -> Check:
    if not ifi:  # no identifier to compare: nothing can be checked
        return lambda s: True
    if related:
        return lambda s: any(_same_agent(node, ifi) for node in _nodes(s))
    return lambda s: any(_same_agent(node, ifi) for node in _actor_and_object(s))


def _stored_checks(since: object, until: object) -> list[Check]:
    """`since` is exclusive, `until` inclusive, both on `stored`; a statement without a readable
    `stored` is kept (nothing to compare)."""
    checks: list[Check] = []
    start, end = _moment(since), _moment(until)
    if start is not None:
        checks.append(lambda s: (stored := time_or_none(s.get("stored"))) is None or stored > start)
    if end is not None:
        checks.append(lambda s: (stored := time_or_none(s.get("stored"))) is None or stored <= end)
    return checks


def _same_agent(node: dict, ifi: dict[str, Any]) -> bool:
    return any(key in node and node[key] == value for key, value in ifi.items())


def _actor_and_object(statement: dict) -> Iterator[dict]:
    for part in (_dict(statement.get("actor")), _dict(statement.get("object"))):
        yield part
        members = part.get("member")
        yield from (m for m in members if isinstance(m, dict)) if isinstance(members, list) else ()


def _nodes(value: object) -> Iterator[dict]:
    """Every object in a statement, depth first."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _agent(value: object) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return {key: value[key] for key in IFI_KEYS if key in value} if isinstance(value, dict) else {}


def _moment(value: object) -> datetime | None:
    return None if value is None else time_or_none(value)


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}
