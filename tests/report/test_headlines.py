"""The headline of each answer, and the wrapped, sorted, never-cut labels of the charts."""

from __future__ import annotations

import re

import pytest

from chalicelib.report import svg
from chalicelib.report.answers import Table
from chalicelib.report.headlines import headline

SKILL_COLUMNS = ("skill", "team", "learners", "gap")
FUNNEL_COLUMNS = ("month", "credential", "channel", "earned", "accepted", "shared", "viewed")
ACTIVITY_COLUMNS = ("credential", "earners", "rank", "activity", "learners")
EXPIRING_COLUMNS = ("credential", "learner", "team", "expires_at", "days_left")


def table(name: str, columns: tuple[str, ...], rows: list[tuple]) -> Table:
    return Table(name, name, "", columns, rows)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            table(
                "held_by_team_role",
                ("team", "job_role", "credentials", "learners"),
                [("Data", "Analyst", 2, 2), ("Sales", "Rep", 3, 3), ("Sales", "Lead", 1, 1), ("Ops", "SRE", 3, 2)],
            ),
            "Sales holds the most credentials: 4 of 9 (44%) across 3 teams",
        ),
        (
            table(
                "share_funnel",
                FUNNEL_COLUMNS,
                [
                    ("2026-04", "A", "(all)", 3, 1, 2, 2),
                    ("2026-05", "A", "(all)", 2, 1, 4, 9),
                    ("2026-05", "A", "linkedin", None, None, 4, 9),
                    ("2026-05", "B", "(all)", 1, 0, 1, 4),
                    ("2026-06", "B", "(all)", 1, 0, 0, 0),
                ],
            ),
            "Shares turned into 2.6 views each in 2026-05 (5 shares, 13 views)",
        ),
        (
            table("share_funnel", FUNNEL_COLUMNS, [("2026-04", "A", "(all)", 1, 0, 0, 0)]),
            "1 credential earned, none of them shared",
        ),
        (
            table(
                "activities_before_earning",
                ACTIVITY_COLUMNS,
                [
                    ("Cloud", 4, 1, "AWS Basics", 3),
                    ("Data Protection Essentials", 41, 1, "GDPR 101", 30),
                    ("Data Protection Essentials", 41, 2, "Records", 12),
                ],
            ),
            "Data Protection Essentials is the most earned credential (41 earners); 73% of them did GDPR 101 first",
        ),
        (
            table(
                "expiring",
                EXPIRING_COLUMNS,
                [
                    ("Cloud", "Cy", "Ops", "2026-01-20", 19),
                    ("Data", "Bo", "Ops", "2026-02-01", 31),
                    ("Cloud", "Fay", "Ops", "2026-03-15", 74),
                ],
            ),
            "3 credentials expire soon, 2 of them Cloud; the first in 19 days",
        ),
        (
            table("expiring", EXPIRING_COLUMNS, [("Cloud", "Cy", "Ops", "2026-01-02", 1)]),
            "1 credential expires soon: Cloud, in 1 day",
        ),
    ],
)
def test_a_headline_states_the_main_figure(answer, said):
    assert headline(answer) == said


def test_a_headline_reads_columns_by_name_and_gives_up_quietly():
    rows = [("Cloud", "Cy", "Ops", "2026-01-20", 19, "cy@example.com")]
    said = "1 credential expires soon: Cloud, in 19 days"
    assert headline(table("expiring", (*EXPIRING_COLUMNS, "email"), rows)) == said
    assert headline(table("expiring", EXPIRING_COLUMNS, [])) is None  # no rows
    assert headline(table("a_new_answer", ("x",), [(1,)])) is None  # no headline of its own
    assert headline(table("expiring", ("credential", "learner"), [("Cloud", "Cy")])) is None  # a column gone


def skills_answer(sizes: dict[str, int | None], holders: dict[str, dict[str, int]]) -> Table:
    """skills_by_team's rows: skill -> team -> holders, the organisation's first (most held first)."""
    rows = []
    for skill, by_team in sorted(holders.items(), key=lambda item: -item[1]["(all teams)"]):
        rows += [(skill, team, by_team.get(team, 0), None, sizes.get(team)) for team in ("(all teams)", *sizes)]
    return table("skills_by_team", (*SKILL_COLUMNS, "team_size"), rows)


@pytest.mark.parametrize(
    ("sizes", "holders", "said"),
    [
        # Sales's people holding none is sure (only one top skill held there); the sixth skill does not
        # count, nor does `unknown` (no size); Data holds several, so only a bound is known there.
        (
            {"Data": 10, "Sales": 13, "unknown": None},
            {
                "a": {"(all teams)": 9, "Data": 9},
                "b": {"(all teams)": 8, "Data": 8},
                "c": {"(all teams)": 7, "Data": 7},
                "d": {"(all teams)": 6, "Data": 6},
                "e": {"(all teams)": 10, "Data": 5, "Sales": 5},
                "f": {"(all teams)": 4, "Sales": 4},
            },
            "62% of Sales (8 of 13) hold none of the top five skills",
        ),
        (
            {"Ops": 10, "Data": 4},
            {"a": {"(all teams)": 7, "Ops": 3, "Data": 4}, "b": {"(all teams)": 2, "Ops": 2}},
            "At least 50% of Ops (5 of 10) hold none of the top two skills",
        ),
        (
            {"Ops": 4},
            {"a": {"(all teams)": 2, "Ops": 2}, "b": {"(all teams)": 2, "Ops": 2}},
            "a is the most held skill (2 learners); no team is sure to hold none of the top two skills",
        ),
        (
            {"Ops": 3, "unknown": None},
            {"a": {"(all teams)": 3, "Ops": 3}},
            "Everyone in every team holds the top skill (a)",
        ),
    ],
)
def test_the_skills_headline_names_the_team_most_without_the_top_skills(sizes, holders, said):
    assert headline(skills_answer(sizes, holders)) == said


def test_the_skills_headline_needs_team_sizes():
    rows = [("a", "(all teams)", 2, None), ("a", "Data", 2, None), ("a", "Sales", 0, "missing")]
    assert headline(table("skills_by_team", SKILL_COLUMNS, rows)) is None


def test_a_label_wraps_within_its_width_and_keeps_every_character():
    text = "Data Protection Essentials for Software Engineers\n← Kommunikationsabteilungsleitungsgremium basics"
    lines = svg.wrap(text, 120)
    assert len(lines) > 3 and all(svg.text_width(line) <= 120 for line in lines)
    assert "".join(lines).replace(" ", "") == "".join(text.split())
    assert lines[0].startswith("Data") and any(line.startswith("←") for line in lines)  # the newline breaks


def test_bars_come_largest_first_whole_and_distinct():
    chart = svg.hbars([("b", 2), ("a", 2), ("Data Protection Essentials for People Managers", 5), ("b", 1)], "x")
    titles = re.findall(r"<title>([^<]*): (\d+)</title>", chart)
    assert titles == [("Data Protection Essentials for People Managers", "5"), ("a", "2"), ("b", "2"), ("b (2)", "1")]
    assert "…" not in chart and "People Managers" in chart


def test_the_heat_map_crosses_the_gaps_the_answer_marks_and_not_the_unknown_team():
    from chalicelib.report import render_html

    answer = table(
        "skills_by_team",
        SKILL_COLUMNS,
        [
            ("python", "(all teams)", 3, None),
            ("python", "Data", 3, None),
            ("python", "Sales", 0, "missing"),
            ("python", "unknown", 0, None),
        ],
    )
    drawn = render_html.chart(answer)
    assert drawn.count("✕") == 2  # Sales's cell and the key under the grid
    assert "<title>python / Sales: 0 (no one in this team holds it)</title>" in drawn
    assert "<title>python / unknown: 0</title>" in drawn


ANSWERS_ON_REQUEST = [
    (
        table(
            "credentials_by_role",
            ("job_role", "credential", "holders", "pct_of_role"),
            [("Engineer", "Python Expert", 6, 60.0), ("Engineer", "SQL", 6, 60.0), ("Analyst", "SQL", 9, 90.0)],
        ),
        "SQL is the credential most held in one job role: 9 learners of the Analyst role (90% of its learners with "
        "a credential)",
    ),
    (
        table(
            "roles_by_credential",
            ("credential", "job_role", "holders", "pct_of_holders"),
            [("Python Expert", "Engineer", 6, 100.0), ("SQL", "Analyst", 9, 60.0), ("SQL", "Engineer", 6, 40.0)],
        ),
        "SQL has the most holders (15); 60% of them are in the Analyst role",
    ),
    (
        table(
            "share_cohorts",
            ("month", "credential", "channel", "earned", "accepted_pct", "shared_pct", "views_per_share", "period"),
            [
                ("2026-04", "(all credentials)", "(all)", 10, 80.0, 50.0, 2.5, "whole"),
                ("2026-05", "(all credentials)", "(all)", 8, 62.5, 25.0, None, "whole"),
                ("2026-05", "SQL", "(all)", 8, 62.5, 25.0, None, "whole"),
                ("2026-06", "(all credentials)", "(all)", 3, 0.0, 0.0, None, "partial"),
            ],
        ),
        "Of the 8 credentials earned in 2026-05, 62.5% were accepted and 25% shared",
    ),
    (
        table(
            "activity_lift",
            ("credential", "earners", "rank", "activity", "earners_pct", "non_earners_pct", "lift"),
            [
                ("SQL", 4, 1, "Joins", 75.0, 10.0, 7.5),
                ("Python Expert", 10, 2, "Onboarding", 90.0, 90.0, 1.0),
                ("Python Expert", 10, 1, "Data Basics", 50.0, None, None),
            ],
        ),
        "Before earning Python Expert, 50% of earners did Data Basics, against none of the non-earners",
    ),
    (
        table(
            "searches_by_skill",
            ("skill", "holders", "rank", "query", "learners", "searches"),
            [("sql", 3, 1, "joins", 2, 5), ("python", 7, 2, "numpy", 1, 1), ("python", 7, 1, "pandas", 4, 9)],
        ),
        'Holders of python searched for "pandas" the most (4 holders, 9 searches)',
    ),
    (
        table(
            "who",
            ("learner", "team", "job_role", "credential", "earned", "expires"),
            [
                ("Ada", "Data", "Analyst", "SQL", "2026-01-02", ""),
                ("Ada", "Data", "Analyst", "SQL 2", "2026-02-02", ""),
                ("Grace", "Compilers", "Engineer", "SQL", "2026-03-02", ""),
            ],
        ),
        "2 learners hold it; Data has the most of them (2)",
    ),
]


@pytest.mark.parametrize(("answer", "expected"), ANSWERS_ON_REQUEST, ids=[a.name for a, _ in ANSWERS_ON_REQUEST])
def test_every_answer_on_request_has_its_headline(answer, expected):
    assert headline(answer) == expected


COVERAGE_COLUMNS = ("source", "platform", "organisation", "recipients", "mapped", "unmapped", "mapped_pct", "to_remap")


def test_identity_headlines_name_the_smallest_share_and_the_largest_domain():
    coverage = table(
        "identity_coverage",
        COVERAGE_COLUMNS,
        [("lrs", "Example", "Academy Ltd", 3, 1, 2, 33.3, 0), ("lrs", "Example", "Example", 2, 1, 1, 50.0, 0)],
    )
    assert headline(coverage) == (
        "40% of recipients map to the learner directory (2 of 5); the fewest in Academy Ltd: 33.3% (1 of 3)"
    )
    alone = table("identity_coverage", COVERAGE_COLUMNS, [("lrs", "Example", "Example", 4, 3, 1, 75.0, 1)])
    assert headline(alone) == "75% of recipients map to the learner directory (3 of 4)"
    columns = ("source", "platform", "organisation", "domain", "recipients", "records")
    domains = table(
        "identity_unmatched_domains",
        columns,
        [
            ("lrs", "Example", "Academy Ltd", "corp.example", 1, 1),
            ("lrs", "Example", "Academy Ltd", "partner.example", 1, 2),
            ("lrs", "Example", "Example", "partner.example", 1, 1),
        ],
    )
    assert headline(domains) == "partner.example has the most unmapped recipients: 2 of 3 (67%)"
