"""One sentence per answer stating its main figure, from the answer's rows (pure).

Read by column name, so a new column changes nothing; an answer without rows, without a
headline of its own here, or without a column its headline needs, has no headline (None).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from .answers import ALL_CHANNELS, ALL_TEAMS, Cell, Record, Table
from .cohorts import ALL_CREDENTIALS, PARTIAL

TOP_SKILLS = 5


def headline(table: Table) -> str | None:
    found = HEADLINES.get(table.name)
    if not table.rows or found is None or not set(found[0]) <= set(table.columns):
        return None
    return found[1](table.records())


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _number(value: Cell) -> int:
    return value if isinstance(value, int) else 0


def _largest(totals: Counter[str]) -> tuple[str, int]:
    """The key with the highest total, the first by name among equals."""
    return min(totals.items(), key=lambda item: (-item[1], item[0]))


def _totals(records: list[Record], key: str, figure: str) -> Counter[str]:
    """The figure column summed per value of the key column."""
    totals: Counter[str] = Counter()
    for record in records:
        totals[str(record[key])] += _number(record[figure])
    return totals


def _most_earned_first(records: list[Record]) -> tuple[str, int, Record]:
    """The most earned credential, its earners, and its first-ranked row (activities, lift)."""
    earners = {str(r["credential"]): _number(r["earners"]) for r in records}
    credential, most = _largest(Counter(earners))
    first = min((r for r in records if r["credential"] == credential), key=lambda r: _number(r["rank"]))
    return credential, most, first


def held(records: list[Record]) -> str:
    per_team = _totals(records, "team", "credentials")
    team, most = _largest(per_team)
    total = sum(per_team.values())
    return (
        f"{team} holds the most credentials: {most} of {total} ({_percent(most, total)}) "
        f"across {count(len(per_team), 'team')}"
    )


def skills(records: list[Record]) -> str | None:
    """How many of the team with the largest gap hold none of the organisation's top skills.

    The rows count holders per skill, not per set of skills, so a team's people holding none of
    the top skills are known only between team_size minus the sum of the top skills' holders (a
    lower bound: no one holds two of them) and team_size minus the largest (every holder of one
    holds the others). The team named is the one whose lower bound is the largest share (then the
    larger team, then the first by name); "at least" says when its bounds differ. None when no
    team has a size; where no gap is sure, the most held skill."""
    top = _top_skills(records)
    bounds = {team: _without_none(by_skill, size, top) for team, (size, by_skill) in _sized_teams(records).items()}
    if not top or not bounds:
        return None
    team, (size, lower, upper) = min(bounds.items(), key=lambda item: (-item[1][1] / item[1][0], -item[1][0], item[0]))
    of_top = f"the top {NUMBERS.get(len(top), str(len(top)))} skills" if len(top) > 1 else f"the top skill ({top[0]})"
    if lower == 0:
        if all(high == 0 for _, _, high in bounds.values()):
            return f"Everyone in every team holds {'one of ' if len(top) > 1 else ''}{of_top}"
        most = next(_number(r["learners"]) for r in records if r["team"] == ALL_TEAMS and r["skill"] == top[0])
        return f"{top[0]} is the most held skill ({count(most, 'learner')}); no team is sure to hold none of {of_top}"
    bound = "" if lower == upper else "At least "
    return f"{bound}{_percent(lower, size)} of {team} ({lower} of {size}) hold none of {of_top}"


NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def _top_skills(records: list[Record]) -> list[str]:
    """The most held skills in the whole organisation (its (all teams) rows), equal ones by name."""
    organisation = sorted(
        (r for r in records if r["team"] == ALL_TEAMS), key=lambda r: (-_number(r["learners"]), str(r["skill"]))
    )
    return [str(r["skill"]) for r in organisation[:TOP_SKILLS]]


def _sized_teams(records: list[Record]) -> dict[str, tuple[int, dict[str, int]]]:
    """Team -> (its size, skill -> holders): the teams with a size (not `unknown`, not all teams)."""
    teams: dict[str, tuple[int, dict[str, int]]] = {}
    for record in records:
        size = record["team_size"]
        if record["team"] != ALL_TEAMS and isinstance(size, int) and size > 0:
            teams.setdefault(str(record["team"]), (size, {}))[1][str(record["skill"])] = _number(record["learners"])
    return teams


def _without_none(by_skill: dict[str, int], size: int, top: list[str]) -> tuple[int, int, int]:
    """(size, fewest, most) of the team's people who hold none of the top skills."""
    held = [by_skill.get(skill, 0) for skill in top]
    return size, max(0, size - sum(held)), size - max(held, default=0)


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
    return (
        f"Shares turned into {views / shares:.1f} views each in {month} "
        f"({count(shares, 'share')}, {count(views, 'view')})"
    )


def activities(records: list[Record]) -> str:
    credential, most, first = _most_earned_first(records)
    return (
        f"{credential} is the most earned credential ({count(most, 'earner')}); "
        f"{_percent(_number(first['learners']), most)} of them did {first['activity']} first"
    )


def expiring(records: list[Record]) -> str:
    soonest = min(_number(r["days_left"]) for r in records)
    credential, most = _largest(Counter(str(r["credential"]) for r in records))
    if len(records) == 1:
        return f"1 credential expires soon: {credential}, in {count(soonest, 'day')}"
    return f"{len(records)} credentials expire soon, {most} of them {credential}; the first in {count(soonest, 'day')}"


def roles(records: list[Record]) -> str:
    """The job role and credential held by the most learners (credentials_by_role)."""
    top = min(records, key=lambda r: (-_number(r["holders"]), str(r["job_role"]), str(r["credential"])))
    held = count(_number(top["holders"]), "learner")
    return (
        f"{top['credential']} is the credential most held in one job role: {held} "
        f"of the {top['job_role']} role ({_shown_percent(top['pct_of_role'])} of its learners with a credential)"
    )


def holders(records: list[Record]) -> str:
    """The credential with the most holders, and the role holding most of it (roles_by_credential)."""
    credential, most = _largest(_totals(records, "credential", "holders"))
    role = min(
        (r for r in records if r["credential"] == credential),
        key=lambda r: (-_number(r["holders"]), str(r["job_role"])),
    )
    return (
        f"{credential} has the most holders ({most}); {_shown_percent(role['pct_of_holders'])} of them are "
        f"in the {role['job_role']} role"
    )


def cohorts(records: list[Record]) -> str | None:
    """The latest whole month's cohort of all credentials: accepted, shared, views per share."""
    months = [r for r in records if r["credential"] == ALL_CREDENTIALS and r["channel"] == ALL_CHANNELS]
    whole = [r for r in months if r["period"] != PARTIAL] or months
    if not whole:
        return None
    latest = max(whole, key=lambda r: str(r["month"]))
    views = f", {latest['views_per_share']} views per share" if latest["views_per_share"] is not None else ""
    return (
        f"Of the {count(_number(latest['earned']), 'credential')} earned in {latest['month']}, "
        f"{_shown_percent(latest['accepted_pct'])} were accepted and {_shown_percent(latest['shared_pct'])} "
        f"shared{views}"
    )


def lift(records: list[Record]) -> str:
    """The activity that sets the earners of the most earned credential apart the most."""
    credential, _, first = _most_earned_first(records)
    others = first["non_earners_pct"]
    against = (
        f"{_shown_percent(others)} of non-earners" if isinstance(others, (int, float)) else "none of the non-earners"
    )
    times = f" ({first['lift']} times as many)" if first["lift"] is not None else ""
    return (
        f"Before earning {credential}, {_shown_percent(first['earners_pct'])} of earners did {first['activity']}, "
        f"against {against}{times}"
    )


def searches(records: list[Record]) -> str:
    """The query searched by the most holders of the most held skill."""
    skill = min(records, key=lambda r: (-_number(r["holders"]), str(r["skill"])))["skill"]
    first = min((r for r in records if r["skill"] == skill), key=lambda r: _number(r["rank"]))
    return (
        f'Holders of {skill} searched for "{first["query"]}" the most '
        f"({count(_number(first['learners']), 'holder')}, {_searches(_number(first['searches']))})"
    )


def _searches(number: int) -> str:
    return f"{number} search" if number == 1 else f"{number} searches"


def who(records: list[Record]) -> str:
    people = {str(r["learner"]) for r in records}
    teams = Counter(str(r["team"]) for r in records)
    team, most = _largest(teams)
    return f"{count(len(people), 'learner')} hold it; {team} has the most of them ({most})"


def identity(records: list[Record]) -> str:
    """Recipients mapped to the learner directory, and the organisation with the smallest share."""
    mapped, total = sum(_number(r["mapped"]) for r in records), sum(_number(r["recipients"]) for r in records)
    said = f"{_percent(mapped, total)} of recipients map to the learner directory ({mapped} of {total})"
    if len(records) == 1:
        return said
    worst = min(
        records,
        key=lambda r: (
            _number(r["mapped"]) / max(_number(r["recipients"]), 1),
            -_number(r["recipients"]),
            str(r["organisation"]),
        ),
    )
    return (
        f"{said}; the fewest in {worst['organisation']}: {_shown_percent(worst['mapped_pct'])} "
        f"({worst['mapped']} of {worst['recipients']})"
    )


def domains(records: list[Record]) -> str:
    """The email domain of the most unmapped recipients."""
    per_domain = _totals(records, "domain", "recipients")
    domain, most = _largest(per_domain)
    total = sum(per_domain.values())
    return f"{domain} has the most unmapped recipients: {most} of {total} ({_percent(most, total)})"


def _shown_percent(value: Cell) -> str:
    return f"{value:g}%" if isinstance(value, (int, float)) else "no"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


HEADLINES: dict[str, tuple[tuple[str, ...], Callable[[list[Record]], str | None]]] = {
    "held_by_team_role": (("team", "credentials"), held),
    "skills_by_team": (("skill", "team", "learners", "team_size"), skills),
    "share_funnel": (("month", "channel", "earned", "shared", "viewed"), funnel),
    "activities_before_earning": (("credential", "earners", "rank", "activity", "learners"), activities),
    "expiring": (("credential", "days_left"), expiring),
    "credentials_by_role": (("job_role", "credential", "holders", "pct_of_role"), roles),
    "roles_by_credential": (("credential", "job_role", "holders", "pct_of_holders"), holders),
    "share_cohorts": (
        ("month", "credential", "channel", "earned", "accepted_pct", "shared_pct", "views_per_share", "period"),
        cohorts,
    ),
    "activity_lift": (("credential", "earners", "rank", "activity", "earners_pct", "non_earners_pct", "lift"), lift),
    "searches_by_skill": (("skill", "holders", "rank", "query", "learners", "searches"), searches),
    "who": (("learner", "team"), who),
    "identity_coverage": (("organisation", "recipients", "mapped", "mapped_pct"), identity),
    "identity_unmatched_domains": (("domain", "recipients"), domains),
}
