"""The charts of the answers beyond the five (extra.py), drawn with svg.py's helpers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from . import svg
from .answers import ALL_CHANNELS, Cell, Record, Table
from .cohorts import ALL_CREDENTIALS


def _whole(value: Cell) -> int:
    return round(value) if isinstance(value, (int, float)) else 0


def _in_order(records: list[Record], column: str) -> list[str]:
    return list(dict.fromkeys(str(r[column]) for r in records))


def _who(table: Table) -> str:
    people: dict[str, set[str]] = defaultdict(set)
    for record in table.records():
        people[str(record["team"])].add(str(record["learner"]))
    items = sorted(((team, len(names)) for team, names in people.items()), key=lambda item: (-item[1], item[0]))
    return svg.hbars(items, "People holding it, per team")


def _credentials_by_role(table: Table) -> str:
    records = table.records()
    values = {(str(r["job_role"]), str(r["credential"])): _whole(r["holders"]) for r in records}
    return svg.heatmap(
        _in_order(records, "job_role"),
        sorted({str(r["credential"]) for r in records}),
        values,
        "Holders of each credential per job role",
        "no one in this role holds it",
    )


def _roles_by_credential(table: Table) -> str:
    records = table.records()
    values = {(str(r["credential"]), str(r["job_role"])): _whole(r["holders"]) for r in records}
    return svg.columns(
        _in_order(records, "credential"),
        sorted({str(r["job_role"]) for r in records}),
        values,
        "Holders of each credential, stacked by job role",
    )


def _cohorts(table: Table) -> str:
    records = [r for r in table.records() if r["credential"] == ALL_CREDENTIALS and r["channel"] == ALL_CHANNELS]
    values = {(str(r["month"]), rate): _whole(r[rate]) for r in records for rate in ("accepted_pct", "shared_pct")}
    return svg.columns(
        _in_order(records, "month"),
        ["accepted_pct", "shared_pct"],
        values,
        "% of each month's credentials accepted and shared",
        stacked=False,
    )


def _lift(table: Table) -> str:
    records = table.records()
    names = [f"{r['credential']} ← {r['activity']}" for r in records]
    values = {
        (name, share): _whole(r[share])
        for name, r in zip(names, records, strict=True)
        for share in ("earners_pct", "non_earners_pct")
    }
    return svg.columns(
        names,
        ["earners_pct", "non_earners_pct"],
        values,
        "% of earners and of non-earners who did each activity",
        stacked=False,
    )


def _searches(table: Table) -> str:
    items = [(f"{r['skill']}: {r['query']}", _whole(r["learners"])) for r in table.records()]
    return svg.hbars(items, "Holders of each skill who searched each topic")


def _identity(table: Table) -> str:
    items = [(_organisation(r), _whole(r["mapped_pct"])) for r in table.records()]
    return svg.hbars(items, "% of recipients mapped to the learner directory, per organisation")


def _organisation(record: Record) -> str:
    """Its platform too where the organisation is not the platform itself (two platforms' accounts)."""
    same = record["organisation"] == record["platform"]
    return str(record["organisation"]) if same else f"{record['organisation']} ({record['platform']})"


def _no_chart(table: Table) -> str:
    """A list of domains per organisation: its bars would repeat the table, no shorter."""
    return ""


CHARTS: dict[str, Callable[[Table], str]] = {
    "who": _who,
    "credentials_by_role": _credentials_by_role,
    "roles_by_credential": _roles_by_credential,
    "share_cohorts": _cohorts,
    "activity_lift": _lift,
    "searches_by_skill": _searches,
    "identity_coverage": _identity,
    "identity_unmatched_domains": _no_chart,
}
