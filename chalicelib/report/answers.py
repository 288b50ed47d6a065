"""The report's five answers as tables, from the ledger and the preceding activities (pure).

Every output (terminal, CSV, HTML) shows these same rows, so the figures agree everywhere.
A cell is a str, an int, a float (a rate), or None where the row has no such figure (shown as "-" or empty).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from .facts import UNKNOWN
from .ledger import ACCEPTED, EARNED, NO_CHANNEL, SHARED, STAGES, VIEWED, Ledger, month
from .preceding import PrecedingActivities

Cell = str | int | float | None
Record = dict[str, Cell]  # a row by column name
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

    def records(self) -> list[Record]:
        """The rows by column name (every row has a cell per column)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Options:
    before_days: int = 30
    expiring_days: int = 90
    top: int = 5
    include_emails: bool = False
    headcounts: Mapping[str, int] = field(default_factory=dict)  # team -> people in the directory


def all_answers(ledger: Ledger, preceding: PrecedingActivities, options: Options) -> list[Table]:
    return [
        held_by_team_role(ledger),
        skills_by_team(ledger, options),
        share_funnel(ledger),
        activities_before_earning(ledger, preceding, options),
        expiring(ledger, options),
    ]


def held_by_team_role(ledger: Ledger) -> Table:
    credentials: Counter[tuple[str, str]] = Counter()
    learners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for credential in ledger.held():
        where = (credential.team, credential.job_role)
        credentials[where] += 1
        learners[where].add(credential.learner)
    rows: list[tuple[Cell, ...]] = [
        (team, role, credentials[(team, role)], len(learners[(team, role)])) for team, role in sorted(credentials)
    ]
    return Table(
        "held_by_team_role",
        "Credentials held by team and job role",
        "Credentials held at the end of the range, whenever earned (not revoked, declined or expired), "
        "and the people holding them.",
        ("team", "job_role", "credentials", "learners"),
        rows,
    )


def skills_by_team(ledger: Ledger, options: Options = Options()) -> Table:
    holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # skill -> team -> learners
    people: dict[str, set[str]] = defaultdict(set)  # team -> learners holding any credential
    for credential in ledger.held():
        people[credential.team].add(credential.learner)
        for skill in credential.skills:
            holders[skill][credential.team].add(credential.learner)
    sizes = _team_sizes(options.headcounts, people)
    everyone = sum(sizes.values()) + len(people.get(UNKNOWN, ()))
    rows: list[tuple[Cell, ...]] = []
    for skill in sorted(holders, key=lambda s: (-_learners(holders[s]), s)):
        rows.append((skill, ALL_TEAMS, *_shares(_learners(holders[skill]), everyone, False)))
        for team in sorted(set(sizes) | set(people)):
            size = None if team == UNKNOWN else sizes[team]
            rows.append((skill, team, *_shares(len(holders[skill].get(team, ())), size, team != UNKNOWN)))
    return Table(
        "skills_by_team",
        "Skills held, and the teams missing them",
        "People holding each skill through a credential held at the end of the range, whenever earned; "
        "team_size from the learner directory; % rounded to the nearest whole; "
        f"'{MISSING}': no one in the team holds it ('{UNKNOWN}' is no team and is never flagged).",
        ("skill", "team", "learners", "gap", "team_size", "holding_pct", "without", "without_pct"),
        rows,
    )


def _team_sizes(headcounts: Mapping[str, int], people: Mapping[str, set[str]]) -> dict[str, int]:
    """Each team's people: the directory's headcount, or the people found holding credentials in
    it where they are more (the directory may have lost people who still hold credentials)."""
    teams = (set(headcounts) | set(people)) - {UNKNOWN}
    return {team: max(headcounts.get(team, 0), len(people.get(team, ()))) for team in teams}


def _shares(held: int, size: int | None, flagged: bool) -> tuple[Cell, ...]:
    """learners, gap, team_size, holding_pct, without, without_pct (no size: no shares)."""
    gap = MISSING if flagged and held == 0 else None
    if not size:
        return (held, gap, size, None, None, None)
    return (held, gap, size, _percent(held, size), size - held, _percent(size - held, size))


def _percent(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole)  # to the nearest whole, halves up


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
    return Table(
        "share_funnel",
        "Share funnel by month, credential and channel",
        f"Statements per month: credentials {EARNED} (not revoked since), {ACCEPTED}, {SHARED} and "
        f"{VIEWED}; channel rows split shares and views by the share medium.",
        ("month", "credential", "channel", *STAGES),
        rows,
    )


def activities_before_earning(ledger: Ledger, preceding: PrecedingActivities, options: Options) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for badge in sorted(preceding.earners, key=ledger.name):
        for rank, (activity, learners) in enumerate(preceding.top(badge, options.top), 1):
            rows.append(
                (ledger.name(badge), len(preceding.earners[badge]), rank, activity, learners, preceding.earnings[badge])
            )
    return Table(
        "activities_before_earning",
        f"Activities completed in the {options.before_days} days before earning",
        f"Per credential earned in the range (earners: people; earnings: renewals counted again), the "
        f"{options.top} activities most learners completed, passed, mastered or attended in the "
        f"{options.before_days} days before earning it (each learner once).",
        ("credential", "earners", "rank", "activity", "learners", "earnings"),
        rows,
    )


def expiring(ledger: Ledger, options: Options) -> Table:
    end = ledger.window.until
    horizon = timedelta(days=options.expiring_days)  # compared with differences: end + horizon may pass year 9999
    due = sorted(
        (
            (c.expires_at, c)
            for c in ledger.held()
            if c.expires_at is not None and end < c.expires_at and c.expires_at - end <= horizon
        ),
        key=lambda item: (item[0], ledger.name(item[1].badge), item[1].label, item[1].team, item[1].key),
    )
    columns: tuple[str, ...] = ("credential", "learner", "team", "expires_at", "days_left")
    rows: list[tuple[Cell, ...]] = []
    for expires_at, credential in due:
        days_left = (expires_at - end) // timedelta(days=1)  # whole days left, part days dropped
        row: tuple[Cell, ...] = (
            ledger.name(credential.badge),
            credential.label,
            credential.team,
            expires_at.date().isoformat(),
            days_left,
        )
        rows.append((*row, credential.email or "") if options.include_emails else row)
    if options.include_emails:
        columns = (*columns, "email")
    return Table(
        "expiring",
        f"Credentials expiring in the {options.expiring_days} days after the range",
        f"Credentials held at the end of the range (whenever earned) whose expiry falls in the next "
        f"{options.expiring_days} days; days_left: whole days from the end of the range, part days dropped.",
        columns,
        rows,
    )
