"""One sentence per answer stating its main figure, from the answer's rows (pure).

Read by column name, so a new column changes nothing; an answer without rows, without a
headline of its own here, or without a column its headline needs, has no headline (None).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Callable

from .answers import ALL_CHANNELS, ALL_TEAMS, MISSING, Cell, Table

Record = dict[str, Cell]
TOP_SKILLS = 5


def headline(table: Table) -> str | None:
    found = HEADLINES.get(table.name)
    if not table.rows or found is None or not set(found[0]) <= set(table.columns):
        return None
    return found[1]([dict(zip(table.columns, row)) for row in table.rows])


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _number(value: Cell) -> int:
    return value if isinstance(value, int) else 0


def _largest(totals: Counter[str]) -> tuple[str, int]:
    """The key with the highest total, the first by name among equals."""
    return min(totals.items(), key=lambda item: (-item[1], item[0]))


def held(records: list[Record]) -> str:
    per_team: Counter[str] = Counter()
    for record in records:
        per_team[str(record["team"])] += _number(record["credentials"])
    team, most = _largest(per_team)
    total = sum(per_team.values())
    return (f"{team} holds the most credentials: {most} of {total} ({_percent(most, total)}) "
            f"across {count(len(per_team), 'team')}")


def skills(records: list[Record]) -> str:
    organisation = [r for r in records if r["team"] == ALL_TEAMS]
    if not organisation:
        return f"{count(len({r['skill'] for r in records}), 'skill')} held"
    top = organisation[0]  # the answer lists the most held skill first
    sentence = f"{top['skill']} is the most held skill ({count(_number(top['learners']), 'learner')})"
    leading = {r["skill"] for r in organisation[:TOP_SKILLS]}
    missing: Counter[str] = Counter(str(r["team"]) for r in records if r["skill"] in leading and r["gap"] == MISSING)
    if not missing:
        return sentence + "; every team holds some of each"
    team, gaps = _largest(missing)
    return sentence + f"; {team} holds none of {gaps} of the top {len(leading)} skills"


def funnel(records: list[Record]) -> str:
    months: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        if record["channel"] == ALL_CHANNELS:
            for stage in ("earned", "shared", "viewed"):
                months[str(record["month"])][stage] += _number(record[stage])
    shared = [month for month in sorted(months) if months[month]["shared"]]
    if not shared:
        earned = sum(stages["earned"] for stages in months.values())
        return f"{count(earned, 'credential')} earned, none of them shared"
    month = shared[-1]
    shares, views = months[month]["shared"], months[month]["viewed"]
    return (f"Shares turned into {views / shares:.1f} views each in {month} "
            f"({count(shares, 'share')}, {count(views, 'view')})")


def activities(records: list[Record]) -> str:
    earners = {str(r["credential"]): _number(r["earners"]) for r in records}
    credential, most = _largest(Counter(earners))
    first = min((r for r in records if r["credential"] == credential), key=lambda r: _number(r["rank"]))
    return (f"{credential} is the most earned credential ({count(most, 'earner')}); "
            f"{_percent(_number(first['learners']), most)} of them did {first['activity']} first")


def expiring(records: list[Record]) -> str:
    soonest = min(_number(r["days_left"]) for r in records)
    credential, most = _largest(Counter(str(r["credential"]) for r in records))
    if len(records) == 1:
        return f"1 credential expires soon: {credential}, in {count(soonest, 'day')}"
    return (f"{len(records)} credentials expire soon, {most} of them {credential}; "
            f"the first in {count(soonest, 'day')}")


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


HEADLINES: dict[str, tuple[tuple[str, ...], Callable[[list[Record]], str]]] = {
    "held_by_team_role": (("team", "credentials"), held),
    "skills_by_team": (("skill", "team", "learners", "gap"), skills),
    "share_funnel": (("month", "channel", "earned", "shared", "viewed"), funnel),
    "activities_before_earning": (("credential", "earners", "rank", "activity", "learners"), activities),
    "expiring": (("credential", "days_left"), expiring),
}
