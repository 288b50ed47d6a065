"""The report's five answers as tables, from the ledger and the preceding activities (pure).

Every output (terminal, CSV, HTML) shows these same rows, so the figures agree everywhere.
A cell is a str, an int, or None where the row has no such figure (shown as "-" or empty).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from .ledger import ACCEPTED, EARNED, NO_CHANNEL, SHARED, STAGES, VIEWED, Ledger, month
from .preceding import PrecedingActivities

Cell = str | int | None
ALL_TEAMS = "(all teams)"
ALL_CHANNELS = "(all)"
MISSING = "missing"


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's stem and the HTML section's id
    title: str
    note: str  # what is counted, in one sentence
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


@dataclass(frozen=True)
class Options:
    before_days: int = 30
    expiring_days: int = 90
    top: int = 5
    include_emails: bool = False


def all_answers(ledger: Ledger, preceding: PrecedingActivities, options: Options) -> list[Table]:
    return [
        held_by_team_role(ledger),
        skills_by_team(ledger),
        share_funnel(ledger),
        activities_before_earning(ledger, preceding, options),
        expiring(ledger, options),
    ]


def held_by_team_role(ledger: Ledger) -> Table:
    credentials: Counter[tuple[str, str]] = Counter()
    learners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for credential in ledger.held_from_range():
        where = (credential.team, credential.job_role)
        credentials[where] += 1
        learners[where].add(credential.learner)
    rows = [(team, role, credentials[(team, role)], len(learners[(team, role)])) for team, role in sorted(credentials)]
    return Table("held_by_team_role", "Credentials held by team and job role",
                 "Credentials earned in the range and still held at its end (not revoked, declined or expired).",
                 ("team", "job_role", "credentials", "learners"), rows)


def skills_by_team(ledger: Ledger) -> Table:
    holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # skill -> team -> learners
    teams: set[str] = set()
    for credential in ledger.held_from_range():
        teams.add(credential.team)
        for skill in credential.skills:
            holders[skill][credential.team].add(credential.learner)
    rows: list[tuple[Cell, ...]] = []
    for skill in sorted(holders, key=lambda s: (-_learners(holders[s]), s)):
        rows.append((skill, ALL_TEAMS, _learners(holders[skill]), None))
        for team in sorted(teams):
            held = len(holders[skill].get(team, ()))
            rows.append((skill, team, held, MISSING if held == 0 else None))
    return Table("skills_by_team", "Skills held, and the teams missing them",
                 "Learners holding each skill through a credential earned in the range and held at its end; "
                 f"'{MISSING}': the team holds none of a skill other teams hold.",
                 ("skill", "team", "learners", "gap"), rows)


def _learners(by_team: dict[str, set[str]]) -> int:
    return len(set().union(*by_team.values()))


def share_funnel(ledger: Ledger) -> Table:
    steps = Counter(ledger.steps)
    for credential in ledger.earned_in_range():
        steps[(month(credential.earned_at), credential.badge, NO_CHANNEL, EARNED)] += 1
    totals: Counter[tuple[str, str, str]] = Counter()  # (month, badge, stage), every channel
    channels: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (when, badge, channel, stage), count in steps.items():
        totals[(when, badge, stage)] += count
        if channel != NO_CHANNEL:
            channels[(when, badge)].add(channel)
    rows: list[tuple[Cell, ...]] = []
    for when, badge in sorted({(w, b) for w, b, _ in totals}, key=lambda key: (key[0], ledger.name(key[1]))):
        name = ledger.name(badge)
        rows.append((when, name, ALL_CHANNELS, *(totals[(when, badge, stage)] for stage in STAGES)))
        for channel in sorted(channels[(when, badge)]):
            shared, viewed = (steps[(when, badge, channel, stage)] for stage in (SHARED, VIEWED))
            rows.append((when, name, channel, None, None, shared, viewed))
    return Table("share_funnel", "Share funnel by month, credential and channel",
                 f"Statements per month: credentials {EARNED} (not revoked since), {ACCEPTED}, {SHARED} and "
                 f"{VIEWED}; channel rows split shares and views by the share medium.",
                 ("month", "credential", "channel", *STAGES), rows)


def activities_before_earning(ledger: Ledger, preceding: PrecedingActivities, options: Options) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for badge in sorted(preceding.earners, key=ledger.name):
        for rank, (activity, learners) in enumerate(preceding.top(badge, options.top), 1):
            rows.append((ledger.name(badge), preceding.earners[badge], rank, activity, learners))
    return Table("activities_before_earning", f"Activities completed in the {options.before_days} days before earning",
                 f"Per credential earned in the range (earners), the {options.top} activities most learners "
                 f"completed, passed, mastered or attended in the {options.before_days} days before earning it.",
                 ("credential", "earners", "rank", "activity", "learners"), rows)


def expiring(ledger: Ledger, options: Options) -> Table:
    end = ledger.window.until
    horizon = timedelta(days=options.expiring_days)  # compared with differences: end + horizon may pass year 9999
    due = sorted(((c.expires_at, c) for c in ledger.held() if c.expires_at is not None and end < c.expires_at
                  and c.expires_at - end <= horizon),
                 key=lambda item: (item[0], ledger.name(item[1].badge), item[1].label))
    columns: tuple[str, ...] = ("credential", "learner", "team", "expires_at", "days_left")
    rows: list[tuple[Cell, ...]] = []
    for expires_at, credential in due:
        days_left = math.ceil((expires_at - end) / timedelta(days=1))
        row: tuple[Cell, ...] = (ledger.name(credential.badge), credential.label, credential.team,
                                 expires_at.date().isoformat(), days_left)
        rows.append((*row, credential.email or "") if options.include_emails else row)
    if options.include_emails:
        columns = (*columns, "email")
    return Table("expiring", f"Credentials expiring in the {options.expiring_days} days after the range",
                 f"Credentials held at the end of the range (whenever earned) whose expiry falls in the next "
                 f"{options.expiring_days} days.", columns, rows)
