"""The answers as one self-contained HTML page: a chart and the table for each answer.

No script, no external file, no CDN: it opens offline, from a mail attachment or a file share.
The Content-Security-Policy forbids scripts and remote loads outright, so that even a name the
escaping missed could not run code; every text still goes through html.escape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from . import extra_charts, headlines, svg
from .answers import ALL_CHANNELS, ALL_TEAMS, Cell, Table
from .ledger import STAGES

OPEN_ROWS = 12  # a longer table is folded under its chart
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:2rem auto;max-width:64rem;
padding:0 1rem;line-height:1.4;overflow-wrap:anywhere}
h1{margin-bottom:.2rem}.range{color:#52606d;margin-top:0}
section{margin:2.5rem 0}h2{border-bottom:1px solid #e4e7eb;padding-bottom:.3rem}.note{color:#52606d}
.headline{font-size:1.1rem;font-weight:600;margin:.5rem 0}
figure{margin:1rem 0}.scroll{overflow-x:auto;max-width:100%}.scroll svg{display:block;max-width:none}
summary{cursor:pointer;color:#2563eb}
table{border-collapse:collapse;font-size:.85rem;margin-top:.5rem}
th,td{padding:.2rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left;overflow-wrap:normal}td.n{text-align:right}
th{background:#f5f7fa}nav a{margin-right:1rem;display:inline-block}
"""


def page(tables: list[Table], heading: str) -> str:
    nav = "".join(f'<a href="#{svg.escape(t.name)}">{svg.escape(t.title)}</a>' for t in tables)
    sections = "".join(_section(table) for table in tables)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Credential report</title><style>{STYLE}</style></head><body>"
        f'<h1>Credential report</h1><p class="range">{svg.escape(heading)}</p><nav>{nav}</nav>'
        f"{sections}</body></html>\n"
    )


def _section(table: Table) -> str:
    """The headline and the chart at a glance (an answer whose chart says nothing has none); a long
    table one click away."""
    said = headlines.headline(table)
    headline = f'<p class="headline">{svg.escape(said)}.</p>' if said else ""
    drawn = chart(table)
    figure = f'<figure class="chart scroll">{drawn}</figure>' if drawn else ""
    return (
        f'<section id="{svg.escape(table.name)}"><h2>{svg.escape(table.title)}</h2>{headline}'
        f'{figure}<p class="note">{svg.escape(table.note)}</p>'
        f"{_table(table)}</section>"
    )


def _table(table: Table) -> str:
    if not table.rows:
        return '<p class="note">Nothing in this range.</p>'
    head = "".join(f"<th>{svg.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(_td(value) for value in row) + "</tr>" for row in table.rows)
    shown = f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if len(table.rows) <= OPEN_ROWS:
        return shown
    return f"<details><summary>The table ({len(table.rows)} rows)</summary>{shown}</details>"


def _td(value: Cell) -> str:
    if value is None:
        return "<td></td>"
    return f'<td class="n">{value}</td>' if isinstance(value, (int, float)) else f"<td>{svg.escape(value)}</td>"


# -- one chart per answer ----------------------------------------------------------------------


def chart(table: Table) -> str:
    return CHARTS.get(table.name, _no_chart)(table)


def _distinct(records: list[dict[str, Cell]], column: str) -> list[str]:
    return sorted({str(r[column]) for r in records})


def _held(table: Table) -> str:
    records = table.records()
    values = {(str(r["team"]), str(r["job_role"])): int(r["credentials"] or 0) for r in records}
    return svg.columns(
        _distinct(records, "team"),
        _distinct(records, "job_role"),
        values,
        "Credentials held per team, stacked by job role",
    )


def _skills(table: Table) -> str:
    records = [r for r in table.records() if r["team"] != ALL_TEAMS]
    skills = list(dict.fromkeys(str(r["skill"]) for r in records))  # the table's order: most held first
    values = {(str(r["skill"]), str(r["team"])): int(r["learners"] or 0) for r in records}
    gaps = {(str(r["skill"]), str(r["team"])) for r in records if r["gap"]}  # the answer's, not every zero
    return svg.heatmap(
        skills,
        _distinct(records, "team"),
        values,
        "Learners holding each skill, per team",
        "no one in this team holds it",
        gaps,
    )


def _funnel(table: Table) -> str:
    records = [r for r in table.records() if r["channel"] == ALL_CHANNELS]
    values: Counter[tuple[str, str]] = Counter()
    for record in records:
        for stage in STAGES:
            values[(str(record["month"]), stage)] += int(record[stage] or 0)
    return svg.columns(
        _distinct(records, "month"),
        list(STAGES),
        values,
        "Earned, accepted, shared and viewed per month",
        stacked=False,
    )


def _activities(table: Table) -> str:
    items = [(f"{r['credential']}\n← {r['activity']}", int(r["learners"] or 0)) for r in table.records()]
    return svg.hbars(items, "Learners who completed each activity before earning the credential")


def _expiring(table: Table) -> str:
    counts = Counter(str(r["credential"]) for r in table.records())
    return svg.hbars(list(counts.items()), "Credentials expiring soon")


def _no_chart(table: Table) -> str:
    return svg.empty(table.title, "No chart for this answer")


CHARTS: dict[str, Callable[[Table], str]] = {
    "held_by_team_role": _held,
    "skills_by_team": _skills,
    "share_funnel": _funnel,
    "activities_before_earning": _activities,
    "expiring": _expiring,
    **extra_charts.CHARTS,
}
