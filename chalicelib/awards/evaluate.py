"""Which criteria learning evidence satisfies, and whether a rule fires: pure functions.

Nothing here reads a clock, the store or the network: the evaluation time `as_of` is always
passed in, and progress (per learner per rule: criterion key -> time of the satisfying
statement or report row) is handed in and handed back for the caller to store.

A statement matches a statement criterion when
- its verb id is the criterion's verb (statements with the voided verb never match),
- its object is an Activity whose id is in the criterion's activity set (alias expanded), or
  the criterion names no activity,
- result.score.scaled >= min_score (a missing score fails a min_score criterion),
- result.success / result.completion equal the criterion's, when it gives them (missing fails),
- its time (`timestamp`, else `stored`) is at most within_days days before `as_of`.
A criterion with within_days is judged again when the rule is: evidence older than the window
at `as_of` no longer counts, so an "all" rule needs every criterion inside its window at once.

A report row ({"learner": ..., "values": {...}}) matches a report criterion of its report (or
of any report, when the criterion names none) by values[field]: min/max compare numbers (text
holding a number counts, as CSV rows carry text), equals compares numbers as numbers,
true/false as booleans (text "true"/"false" too) and text as text.

Rules are indexed by verb and activity IRI (and reports by report id and field), so a
statement is only tested against the criteria that could match it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from ..timeutil import time_or_none, utc
from .rules import VERB_VOIDED, ReportCriterion, Rule, RuleSet, StatementCriterion

Progress = Mapping[str, "datetime | str"]


@dataclass(frozen=True, slots=True)
class Match:
    """A criterion (rule id, key) satisfied by evidence from time `at`."""

    rule_id: str
    key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class _StatementEntry:
    rule_id: str
    criterion: StatementCriterion


@dataclass(frozen=True, slots=True)
class _ReportEntry:
    rule_id: str
    criterion: ReportCriterion


@dataclass
class _VerbBucket:
    by_activity: dict[str, list[_StatementEntry]] = field(default_factory=dict)
    any_activity: list[_StatementEntry] = field(default_factory=list)


class RuleIndex:
    """The criteria of a RuleSet by verb and activity IRI, and by report id and field."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.by_verb: dict[str, _VerbBucket] = {}
        # report id (None: criteria naming no report) -> field -> entries
        self.by_report: dict[str | None, dict[str, list[_ReportEntry]]] = {}
        for rule in ruleset.rules:
            for criterion in rule.statements:
                bucket = self.by_verb.setdefault(criterion.verb, _VerbBucket())
                entry = _StatementEntry(rule.id, criterion)
                activities = ruleset.activities_of(criterion)
                if activities is None:
                    bucket.any_activity.append(entry)
                else:
                    for iri in activities:
                        bucket.by_activity.setdefault(iri, []).append(entry)
            for reported in rule.report:
                fields = self.by_report.setdefault(reported.report, {})
                fields.setdefault(reported.field, []).append(_ReportEntry(rule.id, reported))


def index_rules(ruleset: RuleSet) -> RuleIndex:
    """The ruleset's index, built once and kept on the ruleset."""
    index = ruleset._index
    if index is None:
        index = ruleset._index = RuleIndex(ruleset)
    return index


def _index(rules: RuleSet | RuleIndex) -> RuleIndex:
    return rules if isinstance(rules, RuleIndex) else index_rules(rules)


def _time(value: object) -> datetime | None:
    return time_or_none(value) if isinstance(value, (str, datetime)) else None


def statement_time(statement: Mapping[str, Any]) -> datetime | None:
    """The statement's `timestamp`, else its `stored`, as aware UTC; None if neither is usable."""
    return _time(statement.get("timestamp")) or _time(statement.get("stored"))


def _within(at: datetime | None, days: int | None, as_of: datetime) -> bool:
    if days is None:
        return True
    return at is not None and as_of - at <= timedelta(days=days)


def _result_ok(criterion: StatementCriterion, result: object) -> bool:
    if criterion.min_score is None and criterion.success is None and criterion.completion is None:
        return True
    if not isinstance(result, Mapping):
        return False
    if criterion.min_score is not None:
        score = result.get("score")
        scaled = score.get("scaled") if isinstance(score, Mapping) else None
        if not _is_number(scaled) or scaled < criterion.min_score:
            return False
    if criterion.success is not None and result.get("success") is not criterion.success:
        return False
    return criterion.completion is None or result.get("completion") is criterion.completion


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def statement_matches(rules: RuleSet | RuleIndex, statement: Mapping[str, Any], as_of: datetime) -> list[Match]:
    """Every criterion of every rule the statement satisfies at `as_of`, in rule order.

    Match.at is the statement's time (`as_of` when it carries none: then only criteria
    without within_days can match). Malformed statements match nothing.
    """
    index = _index(rules)
    verb = statement.get("verb")
    verb_id = verb.get("id") if isinstance(verb, Mapping) else None
    if not isinstance(verb_id, str) or verb_id == VERB_VOIDED:
        return []
    bucket = index.by_verb.get(verb_id)
    if bucket is None:
        return []
    target = statement.get("object")
    object_id = None
    if isinstance(target, Mapping) and target.get("objectType", "Activity") == "Activity":
        object_id = target.get("id")
    candidates = bucket.any_activity
    if isinstance(object_id, str) and object_id in bucket.by_activity:
        candidates = bucket.by_activity[object_id] + bucket.any_activity
    if not candidates:
        return []
    as_of = utc(as_of)
    at = statement_time(statement)
    result = statement.get("result")
    matches = [
        Match(entry.rule_id, entry.criterion.key, at or as_of)
        for entry in candidates
        if _result_ok(entry.criterion, result) and _within(at, entry.criterion.within_days, as_of)
    ]
    if len(matches) > 1:
        order = {rule.id: n for n, rule in enumerate(index.ruleset.rules)}
        matches.sort(key=lambda m: order[m.rule_id])
    return matches


def statement_satisfies(
    ruleset: RuleSet, criterion: StatementCriterion, statement: Mapping[str, Any], as_of: datetime
) -> bool:
    """One criterion against one statement, without the index (e.g. per-criterion reports)."""
    verb = statement.get("verb")
    if not isinstance(verb, Mapping) or verb.get("id") != criterion.verb or criterion.verb == VERB_VOIDED:
        return False
    activities = ruleset.activities_of(criterion)
    if activities is not None:
        target = statement.get("object")
        if not isinstance(target, Mapping) or target.get("objectType", "Activity") != "Activity":
            return False
        if target.get("id") not in activities:
            return False
    return _result_ok(criterion, statement.get("result")) and _within(
        statement_time(statement), criterion.within_days, utc(as_of)
    )


# --- report rows ----------------------------------------------------------------------------


def _as_number(value: object) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def report_value_satisfies(criterion: ReportCriterion, value: object) -> bool:
    """values[field] against the criterion's min/max or equals."""
    if criterion.equals is not None:
        wanted = criterion.equals
        if isinstance(wanted, bool):
            return _as_bool(value) is wanted
        if isinstance(wanted, (int, float)):
            number = _as_number(value)
            return number is not None and number == wanted
        return isinstance(value, str) and value.strip() == wanted
    number = _as_number(value)
    if number is None:
        return False
    if criterion.min is not None and number < criterion.min:
        return False
    return not (criterion.max is not None and number > criterion.max)


def report_row_matches(
    rules: RuleSet | RuleIndex, report_id: str | None, row: Mapping[str, Any], at: datetime
) -> list[Match]:
    """Every report criterion the row satisfies, in rule order; Match.at is `at` (the report's
    generated_at, or when it was received). `report_id` None: only criteria naming no report."""
    index = _index(rules)
    values = row.get("values")
    if not isinstance(values, Mapping):
        return []
    at = utc(at)
    matches: list[Match] = []
    for rid in {report_id, None}:
        for name, entries in index.by_report.get(rid, {}).items():
            if name in values:
                matches += [
                    Match(e.rule_id, e.criterion.key, at)
                    for e in entries
                    if report_value_satisfies(e.criterion, values[name])
                ]
    order = {rule.id: n for n, rule in enumerate(index.ruleset.rules)}
    matches.sort(key=lambda m: order[m.rule_id])
    return matches


# --- progress and firing ----------------------------------------------------------------------


def group_matches(matches: Iterable[Match]) -> dict[str, dict[str, datetime]]:
    """rule id -> criterion key -> the latest time among the matches."""
    grouped: dict[str, dict[str, datetime]] = {}
    for match in matches:
        keys = grouped.setdefault(match.rule_id, {})
        if match.key not in keys or match.at > keys[match.key]:
            keys[match.key] = match.at
    return grouped


def merge_progress(progress: Progress | None, updates: Progress) -> dict[str, datetime]:
    """Progress with the updates, keeping the later time per criterion (deliveries come in any
    order; the latest evidence is the one that stays inside a within_days window longest).
    Times may be datetimes or ISO 8601 text (as stored); unreadable ones are dropped."""
    merged: dict[str, datetime] = {}
    for source in (progress or {}, updates):
        for key, value in source.items():
            moment = _time(value)
            if moment is not None and (key not in merged or moment > merged[key]):
                merged[key] = moment
    return merged


def satisfied_keys(rule: Rule, progress: Progress, as_of: datetime) -> frozenset[str]:
    """The rule's criterion keys whose evidence in `progress` still counts at `as_of`."""
    as_of = utc(as_of)
    keys = set()
    for criterion in rule.criteria:
        moment = _time(progress.get(criterion.key))
        if moment is None:
            continue
        if isinstance(criterion, StatementCriterion) and not _within(moment, criterion.within_days, as_of):
            continue
        keys.add(criterion.key)
    return frozenset(keys)


def rule_fires(rule: Rule, progress: Progress, as_of: datetime) -> bool:
    """ "all": every criterion satisfied; "any": at least one (judged at `as_of`)."""
    satisfied = satisfied_keys(rule, progress, as_of)
    if rule.match == "any":
        return bool(satisfied)
    return len(satisfied) == len(rule.criteria)


@dataclass(frozen=True)
class RuleOutcome:
    """A rule touched by new evidence: its merged progress (to store) and whether it fires."""

    rule: Rule
    progress: dict[str, datetime]
    fired: bool
    changed: bool  # the progress differs from what was stored


def apply_matches(
    rules: RuleSet | RuleIndex,
    matches: Iterable[Match],
    progress_by_rule: Mapping[str, Progress],
    as_of: datetime,
) -> list[RuleOutcome]:
    """For one learner: merge the matches into their stored progress (rule id -> progress; a
    rule missing means no progress yet) and judge each touched rule, in rule order."""
    ruleset = _index(rules).ruleset
    outcomes = []
    for rule_id, updates in group_matches(matches).items():
        rule = ruleset.rule(rule_id)
        stored = progress_by_rule.get(rule_id) or {}
        merged = merge_progress(stored, updates)
        outcomes.append(
            RuleOutcome(rule, merged, rule_fires(rule, merged, as_of), merged != merge_progress(stored, {}))
        )
    order = {rule.id: n for n, rule in enumerate(ruleset.rules)}
    outcomes.sort(key=lambda o: order[o.rule.id])
    return outcomes
