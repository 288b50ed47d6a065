"""`report` against the real LRS: the figures of a history this module writes, in every output."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from chalicelib.events import Kind
from chalicelib.report import render_text
from chalicelib.report.facts import learner_label
from tests.report.test_answers import NEW_ANSWERS, SEARCHES, searched
from tests.support import chromium
from tests.support.paths import REPO
from tests.support.report_history import (
    ACTIVITIES,
    COMPLETED,
    FUNNEL,
    HELD,
    SINCE,
    UNTIL,
    VOCAB,
    XSS_TEAM,
    History,
    Learner,
    directory_csv,
    expiring_rows,
    generated_history,
    skills_rows,
    varied_history,
)

pytestmark = pytest.mark.integration

ROOT = REPO
COLUMNS = {
    "held_by_team_role": ("team", "job_role", "credentials", "learners"),
    "skills_by_team": ("skill", "team", "learners", "gap", "team_size", "holding_pct", "without", "without_pct"),
    "share_funnel": ("month", "credential", "channel", "earned", "accepted", "shared", "viewed"),
    "activities_before_earning": ("credential", "earners", "rank", "activity", "learners", "earnings"),
    "expiring": ("credential", "learner", "team", "expires_at", "days_left"),
}


def post(lrs, statements: list[dict]) -> None:
    for start in range(0, len(statements), 200):
        answer = requests.post(
            lrs.statements_url,
            json=statements[start : start + 200],
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text


def store(lrs, history: History) -> None:
    # A voiding statement goes after the statement it voids, as the connector sends them.
    voiding = [s for s in history.statements if s["verb"]["id"].endswith("/voided")]
    post(lrs, [s for s in history.statements if s not in voiding])
    post(lrs, voiding)


def report(lrs, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LRS_ENDPOINT": lrs.endpoint, **env}
    return subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def lrs():
    """An LRS of this module's own: the report counts whatever the LRS holds in its range, and the
    session's LRS holds other tests' statements, some of them (generated histories) in any year."""
    from lrs_process import LrsProcess

    with LrsProcess() as process:
        yield process


@pytest.fixture(scope="module")
def varied(lrs) -> History:
    history = varied_history()
    store(lrs, history)
    return history


@pytest.fixture(scope="module")
def expected(varied) -> dict[str, list[tuple]]:
    fay = learner_label(varied.agent(varied.learners["fay"]))
    return {
        "held_by_team_role": HELD,
        "skills_by_team": skills_rows(),
        "share_funnel": FUNNEL,
        "activities_before_earning": ACTIVITIES,
        "expiring": expiring_rows(fay),
    }


@pytest.fixture(scope="module")
def outputs(lrs, varied, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("report")
    directory = folder / "directory.csv"
    directory.write_text(directory_csv(varied), encoding="utf-8")
    # A small page size: every verb's history spans several LRS pages.
    answer = report(
        lrs,
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--page-size",
        "7",
        "--csv",
        str(folder / "csv"),
        "--html",
        str(folder / "report.html"),
        LEARNER_DIRECTORY=str(directory),
    )
    assert answer.returncode == 0, answer.stderr
    return {"answer": answer, "csv": folder / "csv", "html": folder / "report.html", "folder": folder}


def text_section(stdout: str, title_start: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"== {title_start}"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i]), len(lines))
    return [
        line for line in lines[start + 2 : end] if not line.startswith("> ")
    ]  # after the title and the note, no headline


TITLES = {
    "held_by_team_role": "Credentials held",
    "skills_by_team": "Skills held",
    "share_funnel": "Share funnel",
    "activities_before_earning": "Activities completed",
    "expiring": "Credentials expiring",
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_terminal_tables_hold_the_expected_figures(outputs, expected, name):
    shown = text_section(outputs["answer"].stdout, TITLES[name])
    assert shown == list(render_text.grid(COLUMNS[name], expected[name]))


def test_terminal_shows_a_held_row_as_aligned_text(outputs):
    assert re.search(r"^Platform\s+Engineer\s+5\s+3$", outputs["answer"].stdout, re.MULTILINE)
    assert "read " in outputs["answer"].stderr  # progress and the count on stderr


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


@pytest.mark.parametrize("name", list(COLUMNS))
def test_csv_files_hold_the_expected_figures(outputs, expected, name):
    with (outputs["csv"] / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS[name])
    assert rows[1:] == [[csv_cell(value) for value in row] for row in expected[name]]


def test_csv_quotes_a_formula_and_keeps_markup_as_text(outputs):
    held = (outputs["csv"] / "held_by_team_role.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in held and XSS_TEAM in held


class Tables(HTMLParser):
    """Each section's table as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.section = ""
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs)["id"]
            self.tables[self.section] = []
        elif tag == "tr" and self.section:
            self.tables[self.section].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[self.section][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_html_tables_hold_the_expected_figures(outputs, expected, name):
    parser = Tables()
    parser.feed(outputs["html"].read_text(encoding="utf-8"))
    rows = parser.tables[name]
    assert rows[0] == list(COLUMNS[name])
    assert rows[1:] == [["" if v is None else str(v) for v in row] for row in expected[name]]


def test_the_page_is_self_contained_and_escapes_names(outputs):
    page = outputs["html"].read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing loaded from elsewhere
    # the five answers and the identity coverage; the unmapped domains have no chart (their table says it all)
    assert page.count("<svg") == 6


def test_emails_only_with_the_flag(lrs, varied, outputs, tmp_path):
    written = [*outputs["csv"].glob("*.csv"), outputs["html"]]
    assert not [p.name for p in written if "@example.com" in p.read_text(encoding="utf-8")]
    assert "@example.com" not in outputs["answer"].stdout
    answer = report(lrs, "--since", SINCE, "--until", UNTIL, "--include-emails", "--csv", str(tmp_path))
    assert answer.returncode == 0, answer.stderr
    with (tmp_path / "expiring.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["email"] for r in rows] == [varied.learners[k].email for k in ("hal", "cy", "bob", "mallory", "fay")]


def test_every_chart_renders_in_chromium(outputs):
    """The page in headless Chromium: each chart's box (measured by a script added to a copy)
    holds drawn, coloured pixels in a screenshot of the page as written."""
    from PIL import Image

    page, folder = outputs["html"], outputs["folder"]
    measured = (
        page.read_text(encoding="utf-8")
        .replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
        .replace("</body>", MEASURE + "</body>")
    )
    copy = folder / "measured.html"
    copy.write_text(measured, encoding="utf-8")
    dom = chromium.run("--dump-dom", "--window-size=1280,900", copy.resolve().as_uri()).stdout  # as screenshotted
    found = json.loads(re.search(r'<pre id="boxes">(.*?)</pre>', dom, re.DOTALL).group(1))
    assert found["scripts"] == 1 and found["images"] == 0  # the names stayed text
    assert len(found["charts"]) == 6  # the five answers and the identity coverage (mapped share per organisation)
    png = chromium.screenshot(page, folder / "report.png", 1280, found["height"] + 20)
    image = Image.open(png).convert("RGB")
    for chart in found["charts"]:
        x, y, width, height = (round(chart[k]) for k in ("x", "y", "width", "height"))
        assert width > 300 and height > 50 and chart["marks"] > 0, chart
        region = image.crop((x, y, x + width, y + height))
        pixels = region.tobytes()  # RGB triples
        coloured = sum(
            1
            for i in range(0, len(pixels), 3)
            if abs(pixels[i] - pixels[i + 1]) + abs(pixels[i + 1] - pixels[i + 2]) > 60
        )
        assert coloured > 0.01 * width * height, (chart["label"], coloured)


MEASURE = """<script>
const charts = [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {label: svg.getAttribute('aria-label'), x: box.x + scrollX, y: box.y + scrollY, width: box.width,
          height: box.height, marks: svg.querySelectorAll('rect > title').length};
});
const pre = document.createElement('pre');
pre.id = 'boxes';
pre.textContent = JSON.stringify({charts, height: document.documentElement.scrollHeight,
  scripts: document.scripts.length, images: document.images.length});
document.body.appendChild(pre);
</script>"""


def test_bad_dates_and_an_unreachable_lrs_are_one_line_errors(lrs):
    for args in (
        ["--since", "last tuesday"],
        ["--until", "2011-02-30"],
        ["--since", "2012-01-01", "--until", "2011-01-01"],
    ):
        answer = report(lrs, *args)
        assert answer.returncode == 2 and answer.stdout == "", args
        assert len(answer.stderr.strip().splitlines()) == 1 and answer.stderr.startswith("error: "), answer.stderr
    answer = report(lrs, LRS_ENDPOINT="http://127.0.0.1:9/xAPI/", HTTP_MAX_ATTEMPTS="1")
    assert answer.returncode == 3  # an outside failure, not a usage error
    assert answer.stderr.strip().splitlines()[-1].startswith("error: LRS GET /xAPI/statements")


def test_a_history_of_many_pages_is_read_whole(lrs, tmp_path):
    """2013: 150 credentials in two teams, each after one completed course, read 20 a page."""
    history = History()
    for number in range(150):
        team = "Alpha" if number % 3 == 0 else "Beta"
        learner = history.learner(f"p{number}", f"Learner {number}", team, "Engineer")
        day = f"2013-{1 + number % 12:02d}-{10 + number % 15:02d}"
        history.credential(Kind.ISSUED, number, learner, "A", day)
        history.activity(COMPLETED, learner, "Course", f"2013-{1 + number % 12:02d}-05")
        if number % 5 == 0:
            history.interaction(Kind.SHARED, number, learner, "A", day, "linkedin")
    store(lrs, history)
    answer = report(lrs, "--since", "2013-01-01", "--until", "2013-12-31", "--page-size", "20", "--csv", str(tmp_path))
    assert answer.returncode == 0, answer.stderr
    with (tmp_path / "held_by_team_role.csv").open(newline="") as handle:  # 2011's credentials still held too
        held = [row for row in csv.reader(handle) if row[0] in ("Alpha", "Beta")]
    assert held == [["Alpha", "Engineer", "50", "50"], ["Beta", "Engineer", "100", "100"]]
    with (tmp_path / "activities_before_earning.csv").open(newline="") as handle:
        assert list(csv.reader(handle))[1:] == [["Python Expert", "150", "1", "Course", "150", "150"]]
    with (tmp_path / "share_funnel.csv").open(newline="") as handle:
        totals = [row for row in csv.DictReader(handle) if row["channel"] == "(all)"]
    assert sum(int(r["earned"]) for r in totals) == 150 and sum(int(r["shared"]) for r in totals) == 30


def csv_tables(folder: Path) -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            tables[path.stem] = list(csv.reader(handle))
    return tables


def searching_organisation(seed: int) -> History:
    """generated_history, and each learner's searches; the courses of the second half of the year
    renamed (a new edition under the same IRI), so an activity's name depends on which statement
    gives it."""
    history = generated_history(seed)
    rng = random.Random(seed)
    for key in history.learners:
        for _ in range(3):
            searched(
                history, key, rng.randrange(len(SEARCHES)), f"2014-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            )
    for statement in history.statements:
        if statement["verb"]["id"] == COMPLETED and statement["timestamp"] >= "2014-07":
            statement["object"]["definition"]["name"]["en-US"] += " (2nd edition)"
    return history


def test_every_table_is_the_same_from_an_lrs_answering_oldest_first_and_ignoring_id_filters(lrs, hostile_lrs, tmp_path):
    """2014, a generated organisation with renewals, revocations, voids, expiries, declines,
    searches and renamed courses, read from the LRS directly (newest first) and through the proxy
    (oldest first, statementId and voidedStatementId ignored): every CSV table equal, the five
    and every added one (--add all, --who-skill), and none empty."""
    store(lrs, searching_organisation(seed=2014))
    found = {}
    for name, endpoint in (("direct", lrs.endpoint), ("hostile", hostile_lrs.endpoint)):
        answer = report(
            lrs,
            "--since",
            "2014-01-01",
            "--until",
            "2014-12-31",
            "--page-size",
            "7",
            "--add",
            "all",
            "--who-skill",
            "python",
            "--csv",
            str(tmp_path / name),
            LRS_ENDPOINT=endpoint,
        )
        assert answer.returncode == 0, answer.stderr
        found[name] = csv_tables(tmp_path / name)
    assert any(seen.path.endswith("/statements") for seen in hostile_lrs.seen)  # read through the proxy
    assert set(found["direct"]) == {*COLUMNS, *NEW_ANSWERS}
    assert found["hostile"] == found["direct"]
    assert all(len(rows) > 1 for rows in found["direct"].values()), found["direct"]


IDENTITY_SINCE, IDENTITY_UNTIL = "2016-01-01", "2016-12-31"
ACADEMY = {"name": "academy-a", "organisation": "Academy Ltd"}


def identity_history() -> tuple[History, str]:
    """2016: five recipients in two organisations (a named connection's, and the platform of
    statements from before connections), two of them in the directory; the unmapped ones at
    corp.example and partner.example; and a 2015 statement of a sixth, outside the range."""
    h = History()
    people = {
        key: Learner(key, key.title(), None, None, f"{key}.{h.run}@{domain}")
        for key, domain in (
            ("ana", "corp.example"),
            ("ben", "corp.example"),
            ("cat", "partner.example"),
            ("dan", "corp.example"),
            ("eli", "partner.example"),
            ("fay", "other.example"),
        )
    }
    h.learners.update(people)
    academy = [
        h.credential(Kind.ISSUED, 1, people["ana"], "A", "2016-02-01"),
        h.credential(Kind.ACCEPTED, 1, people["ana"], "A", "2016-02-02"),
        h.credential(Kind.ISSUED, 2, people["ben"], "A", "2016-03-01"),
        h.credential(Kind.ISSUED, 3, people["cat"], "B", "2016-04-01"),
        h.credential(Kind.REJECTED, 3, people["cat"], "B", "2016-04-03"),
        h.credential(Kind.ISSUED, 6, people["fay"], "B", "2015-06-01"),
    ]
    h.credential(Kind.ISSUED, 4, people["dan"], "C", "2016-05-01")
    h.credential(Kind.ISSUED, 5, people["eli"], "C", "2016-06-01")
    for statement in h.statements:
        if statement["id"] in academy:
            statement["context"]["extensions"][VOCAB.ext_connection] = ACADEMY
    directory = "employee_id,email,name,job_role,team\n" + "".join(
        f"{key},{people[key].email},{key},Engineer,Core\n" for key in ("ana", "dan")
    )
    return h, directory


@pytest.fixture(scope="module")
def identity_outputs(lrs, tmp_path_factory) -> dict:
    history, directory = identity_history()
    store(lrs, history)
    folder = tmp_path_factory.mktemp("identity")
    (folder / "directory.csv").write_text(directory, encoding="utf-8")
    found = {}
    for name, extra in (("all", ()), ("academy", ("--organisation", "academy-a"))):
        answer = report(
            lrs,
            "--since",
            IDENTITY_SINCE,
            "--until",
            IDENTITY_UNTIL,
            *extra,
            "--csv",
            str(folder / name),
            "--html",
            str(folder / f"{name}.html"),
            LEARNER_DIRECTORY=str(folder / "directory.csv"),
        )
        assert answer.returncode == 0, answer.stderr
        found[name] = {
            "answer": answer,
            "csv": csv_tables(folder / name),
            "html": (folder / f"{name}.html").read_text(encoding="utf-8"),
        }
    return found


IDENTITY_COVERAGE = [
    ["source", "platform", "organisation", "recipients", "mapped", "unmapped", "mapped_pct", "to_remap"],
    ["lrs", "Example", "Academy Ltd", "3", "1", "2", "33.3", "0"],
    ["lrs", "Example", "Example", "2", "1", "1", "50.0", "0"],
]
UNMATCHED_DOMAINS = [
    ["source", "platform", "organisation", "domain", "recipients", "records"],
    ["lrs", "Example", "Academy Ltd", "corp.example", "1", "1"],
    ["lrs", "Example", "Academy Ltd", "partner.example", "1", "2"],
    ["lrs", "Example", "Example", "partner.example", "1", "1"],
]


def test_identity_coverage_in_every_output(identity_outputs):
    """Exact figures: ana and dan mapped, ben, cat and eli not (cat with two statements); fay's
    2015 credential is outside the range. The same rows in the CSV files, the page and the terminal."""
    found = identity_outputs["all"]
    assert found["csv"]["identity_coverage"] == IDENTITY_COVERAGE
    assert found["csv"]["identity_unmatched_domains"] == UNMATCHED_DOMAINS
    parser = Tables()
    parser.feed(found["html"])
    assert parser.tables["identity_coverage"] == IDENTITY_COVERAGE
    assert parser.tables["identity_unmatched_domains"] == UNMATCHED_DOMAINS
    stdout = found["answer"].stdout
    assert text_section(stdout, "Recipients mapped") == list(
        render_text.grid(
            IDENTITY_COVERAGE[0],
            [("lrs", "Example", "Academy Ltd", 3, 1, 2, 33.3, 0), ("lrs", "Example", "Example", 2, 1, 1, 50.0, 0)],
        )
    )
    assert (
        "> 40% of recipients map to the learner directory (2 of 5); the fewest in Academy Ltd: 33.3% (1 of 3)."
        in stdout.splitlines()
    )
    assert "> partner.example has the most unmapped recipients: 2 of 3 (67%)." in stdout.splitlines()


def test_identity_coverage_names_domains_never_emails(identity_outputs):
    for found in identity_outputs.values():
        written = [found["answer"].stdout, found["html"], json.dumps(found["csv"])]
        assert not [text for text in written if re.search(r"[\w.]+@(corp|partner|other)\.example", text)]


def test_identity_coverage_chart_only_for_the_mapped_share(identity_outputs):
    page = identity_outputs["all"]["html"]
    sections = dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.DOTALL))
    chart = re.findall(r"<rect [^>]*><title>([^<]*)</title>", sections["identity_coverage"])
    assert chart == ["Example: 50", "Academy Ltd (Example): 33"]  # largest first, whole percents
    domains = sections["identity_unmatched_domains"]
    assert "<svg" not in domains and "<figure" not in domains


def test_identity_coverage_keeps_the_organisations_asked_for(identity_outputs):
    tables = identity_outputs["academy"]["csv"]
    assert tables["identity_coverage"] == IDENTITY_COVERAGE[:2]
    assert tables["identity_unmatched_domains"] == UNMATCHED_DOMAINS[:3]


def test_no_identity_coverage_without_a_learner_directory(lrs, identity_outputs, tmp_path):
    answer = report(lrs, "--since", IDENTITY_SINCE, "--until", IDENTITY_UNTIL, "--csv", str(tmp_path))
    assert answer.returncode == 0, answer.stderr
    assert set(csv_tables(tmp_path)) == set(COLUMNS)  # 0% mapped everywhere would say nothing
