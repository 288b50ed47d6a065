"""`rules check`: replay the LRS history through the rules without awarding, week by week.

A criterion that matched for weeks and suddenly matches nothing, while the other criteria go
on matching, is the signature of a replaced learning platform whose activity ids are no longer
in the rules (add the new ids to the criterion's alias). Pure over an iterable of statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .evaluate import statement_satisfies, statement_time
from .rules import RuleSet, StatementCriterion


@dataclass
class CriterionHistory:
    rule_id: str
    key: str
    label: str
    weeks: Counter = field(default_factory=Counter)  # "2026-W44" -> matches

    def total(self, weeks: Iterable[str] | None = None) -> int:
        return sum(self.weeks.values()) if weeks is None else sum(self.weeks[w] for w in weeks)


@dataclass
class HistoryReport:
    weeks: list[str]  # oldest first
    criteria: list[CriterionHistory]
    statements: int = 0

    def dropped(self, recent: int = 2) -> list[CriterionHistory]:
        """Criteria with no match in the last `recent` weeks after earlier matches, while the
        other criteria together still matched in those weeks."""
        last, before = self.weeks[-recent:], self.weeks[:-recent]
        flagged = []
        for history in self.criteria:
            others = sum(h.total(last) for h in self.criteria if h is not history)
            if history.total(last) == 0 and history.total(before) > 0 and others > 0:
                flagged.append(history)
        return flagged


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_labels(since: datetime, until: datetime) -> list[str]:
    """Every ISO week from the one holding `since` to the one holding `until`."""
    monday = since - timedelta(days=since.weekday())
    labels = []
    while monday <= until:
        labels.append(iso_week(monday))
        monday += timedelta(days=7)
    return labels


def check_history(ruleset: RuleSet, statements: Iterable[dict], since: datetime, until: datetime) -> HistoryReport:
    histories = [
        CriterionHistory(rule.id, criterion.key, _label(ruleset, criterion))
        for rule, criterion in ruleset.criteria()
        if isinstance(criterion, StatementCriterion)  # the criteria of a rule of kind "statements"
    ]
    by_rule = {(h.rule_id, h.key): h for h in histories}
    report = HistoryReport(week_labels(since, until), histories)
    for statement in statements:
        report.statements += 1
        at = statement_time(statement)
        if at is None:
            continue
        for rule, criterion in ruleset.criteria():
            # Judged as of the statement's own time: the history is not subject to within_days.
            if isinstance(criterion, StatementCriterion) and statement_satisfies(ruleset, criterion, statement, at):
                by_rule[(rule.id, criterion.key)].weeks[iso_week(at)] += 1
    return report


def render(report: HistoryReport, recent: int = 2) -> Iterator[str]:
    dropped = {(h.rule_id, h.key) for h in report.dropped(recent)}
    shown = report.weeks[-12:]
    yield f"{'rule / criterion':<48}" + "".join(f"{w[-3:]:>5}" for w in shown) + "  total"
    for history in report.criteria:
        name = f"{history.rule_id} / {history.key}"
        counts = "".join(f"{history.weeks[w]:>5}" for w in shown)
        flag = (
            "  <- DROPPED to zero: replaced platform? check the activity ids"
            if (history.rule_id, history.key) in dropped
            else ""
        )
        yield f"{name[:47]:<48}{counts}  {history.total():>5}{flag}"
        yield f"    {history.label}"
    yield (
        f"{report.statements} statement(s) read; "
        f"{len(dropped)} criterion(s) dropped to zero in the last {recent} week(s)"
    )


def _label(ruleset: RuleSet, criterion: StatementCriterion) -> str:
    activities = ruleset.activities_of(criterion)
    where = "any activity" if activities is None else f"{len(activities)} activity id(s)"
    alias = f" via alias {criterion.alias}" if getattr(criterion, "alias", None) else ""
    return f"{criterion.verb} on {where}{alias}"
