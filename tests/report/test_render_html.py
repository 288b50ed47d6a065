"""The report page at a glance, in headless Chromium at 1280 px and at a phone's 390 px: labels
whole and unique, bars largest first, no text outside its chart or cell, long tables folded
under their chart, and no page-level horizontal scroll on the phone.

The history has what made the page hard to read: credential names sharing a long start, long
activity, skill and team names (one a single long word), many skills and teams."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.events import Kind
from chalicelib.report.render_html import OPEN_ROWS
from tests.commands.test_report import Tables, report, store
from tests.support import chromium
from tests.support.report_history import COMPLETED, VOCAB, History

pytestmark = pytest.mark.integration

PHONE, DESKTOP = 390, 1280
SKILLS = [
    f"{topic} {level}"
    for topic in (
        "Privacy impact assessment under GDPR Article 35",
        "Records of processing",
        "Threat modelling",
        "Kubernetes",
        "Incident command",
    )
    for level in ("basics", "practice", "assessment", "coaching", "leadership")
]
PREFIX = "Data Protection Essentials for"
BADGES = {  # names that a cut at 27 characters made identical
    "P1": (f"{PREFIX} People Managers", SKILLS[0:6]),
    "P2": (f"{PREFIX} Software Engineers", SKILLS[4:10]),
    "P3": (f"{PREFIX} Sales and Marketing", SKILLS[8:13]),
    "C": ("Cloud Security Architecture Professional", SKILLS[12:18]),
    "K": ("Kubernetes Operations", SKILLS[17:21]),
    "I": ("Incident Response Foundations and Advanced Practice, Level Two", SKILLS[20:25]),
}
TEAMS = [
    "Platform Engineering and Site Reliability",
    "Sales",
    "Data",
    "Customer Success EMEA",
    "Legal and Compliance",
    "Marketing",
    "Kommunikationsabteilungsleitungsgremium",
]
ORGANISATION = {"name": "kag", "organisation": "Kommunikationsabteilungsleitungsgremium Aktiengesellschaft"}
ACTIVITY = "Data Protection Essentials module {}: lawful bases for processing personal data, part {}"


class WideHistory(History):
    BADGES = BADGES


def wide_history() -> History:
    """42 learners in 7 teams, each earning some of the 6 credentials in 2014 after completing
    some of 7 long-named activities; every third credential shared and viewed, some expiring."""
    history, number = WideHistory(), 0
    for index in range(42):
        learner = history.learner(f"w{index}", f"Learner {index}", TEAMS[index % 7], ("Engineer", "Manager")[index % 2])
        for modulo, badge in enumerate(BADGES, 2):
            if index % modulo:
                continue
            number += 1
            day = f"2014-{1 + number % 12:02d}-{10 + index % 15:02d}"
            expires = "2015-02-01" if number % 9 == 0 else None
            history.credential(Kind.ISSUED, number, learner, badge, day, expires)
            for step in range(1 + (index + modulo) % 7):
                history.activity(COMPLETED, learner, ACTIVITY.format(modulo, step), f"{day[:8]}0{1 + step}")
            if number % 3 == 0:
                history.interaction(Kind.SHARED, number, learner, badge, day, "linkedin")
                history.interaction(Kind.VIEWED, number, learner, badge, day, "linkedin", guest=True)
    learners = list(history.learners.values())
    long_named = {f"mailto:{learner.email}" for learner in learners[::3]}
    for statement in history.statements:  # a third of the learners' credentials came through a long-named organisation
        if statement["actor"].get("mbox") in long_named and "context" in statement:
            statement["context"].setdefault("extensions", {})[VOCAB.ext_connection] = ORGANISATION
    return history


def directory_csv(history: History) -> str:
    """Every other learner: the identity coverage has mapped and unmapped recipients."""
    people = [learner for index, learner in enumerate(history.learners.values()) if index % 2 == 0]
    return "employee_id,email,name,job_role,team\n" + "".join(f"{p.key},{p.email},{p.name},,\n" for p in people)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    from lrs_process import LrsProcess

    folder = tmp_path_factory.mktemp("page")
    with LrsProcess() as lrs:
        history = wide_history()
        directory = folder / "directory.csv"
        directory.write_text(directory_csv(history), encoding="utf-8")
        store(lrs, history)
        answer = report(
            lrs,
            "--since",
            "2014-01-01",
            "--until",
            "2014-12-31",
            "--html",
            str(folder / "report.html"),
            LEARNER_DIRECTORY=str(directory),
        )
    assert answer.returncode == 0, answer.stderr
    return folder / "report.html"


def measured_copy(page: Path, width: int) -> Path:
    """A copy of the page with a script that measures it (the page itself forbids scripts).
    Headless Chromium lays pages out at least 500 px wide, so the phone's width is the root
    element's: everything that does not scroll sideways in a container must fit in it."""
    html = page.read_text(encoding="utf-8").replace(
        "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';"
    )
    phone = f"<style>html{{width:{width}px}}</style>" if width < 500 else ""
    copy = page.with_name(f"measured-{width}.html")
    html = html.replace("</head>", phone + "</head>").replace("</body>", MEASURE + "</body>")
    copy.write_text(html, encoding="utf-8")
    return copy


def measure(page: Path, width: int) -> dict:
    dom = chromium.run("--dump-dom", f"--window-size={width},900", measured_copy(page, width).resolve().as_uri()).stdout
    return json.loads(
        re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
        .group(1)
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )


@pytest.fixture(scope="module", params=[DESKTOP, PHONE])
def layout(request, page) -> dict:
    found = measure(page, request.param)
    found["width"] = request.param
    return found


def test_labels_are_whole_unique_and_bars_largest_first(page, layout):
    charts = {chart["section"]: chart for chart in layout["charts"]}
    tables = Tables()
    tables.feed(page.read_text(encoding="utf-8"))
    activities = [
        dict(zip(tables.tables["activities_before_earning"][0], row, strict=True))
        for row in tables.tables["activities_before_earning"][1:]
    ]
    wanted = {squeeze(f"{row['credential']} ← {row['activity']}") for row in activities}
    assert len(wanted) == len(activities) > 5
    for name, chart in charts.items():
        labels = [squeeze(label) for label in chart["labels"]]
        assert len(labels) == len(set(labels)), (name, labels)
        assert not any("…" in text for text in chart["texts"]), name
    assert set(map(squeeze, charts["activities_before_earning"]["labels"])) == wanted
    skills = {squeeze(row[0]) for row in tables.tables["skills_by_team"][1:]}
    assert skills <= set(map(squeeze, charts["skills_by_team"]["labels"])) and len(skills) == len(SKILLS)
    for name in ("activities_before_earning", "expiring"):
        bars = [title.rsplit(": ", 1) for title in charts[name]["bars"]]
        order = [(-int(value), squeeze(label)) for label, value in bars]
        assert len(order) > 1 and order == sorted(order), name


def squeeze(text: str) -> str:
    """A label without its spaces: lines joined in the DOM lose the space at each break."""
    return re.sub(r"\s+", "", text)


def test_no_text_leaves_its_chart_and_none_is_shrunk(layout):
    assert len(layout["charts"]) == 6  # the five answers and the identity coverage (none for the unmapped domains)
    for chart in layout["charts"]:
        assert chart["shown_width"] == chart["natural_width"], chart["section"]  # scrolls, never shrinks
        assert chart["smallest_font"] >= 12, chart["section"]
        assert chart["outside"] == [], (layout["width"], chart["section"], chart["outside"][:3])


def test_long_tables_are_folded_under_their_chart(layout):
    tables = layout["tables"]
    assert len(tables) == 7 and {t["rows"] > OPEN_ROWS for t in tables} == {True, False}  # long and short ones
    for table in tables:
        assert table["folded"] == (table["rows"] > OPEN_ROWS), table
        assert table["headline"], table  # above the chart, visible with the page
        assert not table["open"], table


def test_nothing_overflows_and_the_phone_needs_no_sideways_scroll(layout):
    assert layout["root_width"] == layout["width"] or layout["width"] == DESKTOP
    assert layout["widest"] <= layout["width"], layout["wide"][:3]
    assert layout["overflowing"] == [], layout["overflowing"][:5]
    assert layout["cells"] > 100 and layout["clipped_cells"] == [], layout["clipped_cells"][:5]


def test_screenshots_show_each_chart_at_both_widths(page, layout):
    from PIL import Image

    width = layout["width"]
    shown = page.read_text(encoding="utf-8")
    if width < 500:
        shown = shown.replace("</head>", f"<style>html{{width:{width}px}}</style></head>")
    copy = page.with_name(f"shown-{width}.html")
    copy.write_text(shown, encoding="utf-8")
    png = chromium.screenshot(copy, page.with_name(f"report-{width}.png"), width, layout["height"] + 20)
    image = Image.open(png).convert("RGB")
    assert image.size[0] == width
    for chart in layout["charts"]:
        x, y, w, h = (round(chart["box"][k]) for k in ("x", "y", "width", "height"))
        region = image.crop((x, y, min(x + w, width), y + h)).tobytes()
        coloured = sum(
            1
            for i in range(0, len(region), 3)
            if abs(region[i] - region[i + 1]) + abs(region[i + 1] - region[i + 2]) > 60
        )
        assert coloured > 200, (width, chart["section"], coloured)


MEASURE = """<script>
const within = (inner, outer) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 &&
  inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
const lines = t => t.querySelector('tspan') ? [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ')
  : t.textContent;
const charts = [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text, tspan')];
  return {
    section: svg.closest('section').id,
    box: {x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height},
    shown_width: box.width, natural_width: svg.width.baseVal.value,
    smallest_font: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize))),
    outside: texts.filter(t => !within(t.getBoundingClientRect(), box)).map(t => t.textContent),
    labels: [...svg.querySelectorAll('text.label')].map(lines), texts: [...svg.querySelectorAll('text')].map(lines),
    bars: [...svg.querySelectorAll('rect > title')].map(t => t.textContent),
  };
});
const tables = [...document.querySelectorAll('section')].map(section => {
  const table = section.querySelector('table'), details = table && table.closest('details');
  const headline = section.querySelector('.headline');
  return {section: section.id, rows: table ? table.tBodies[0].rows.length : 0, folded: !!details,
          open: !!(details && details.open),
          headline: !!headline && headline.getBoundingClientRect().height > 0 &&
            !!(headline.compareDocumentPosition(section.querySelector('figure, p.note')) &
               Node.DOCUMENT_POSITION_FOLLOWING)};
});
const height = document.documentElement.scrollHeight;
document.querySelectorAll('details').forEach(d => d.open = true);  // the cells, once unfolded
const scrolls = el => getComputedStyle(el).overflowX === 'auto';
const free = [...document.body.querySelectorAll('*')].filter(el => !(el.parentElement.closest('.scroll')) &&
  !(el instanceof SVGElement) && el.tagName !== 'SCRIPT');
const wide = free.map(el => ({tag: el.tagName, cls: el.className, right: el.getBoundingClientRect().right}))
  .filter(item => item.right > document.documentElement.getBoundingClientRect().width + 0.5);
const overflowing = free.filter(el => !scrolls(el) && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
  .map(el => el.tagName + '.' + el.className);
const cells = [...document.querySelectorAll('td, th')];
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify({charts, tables, wide, overflowing,
  widest: Math.max(...free.map(el => el.getBoundingClientRect().right)),
  root_width: document.documentElement.getBoundingClientRect().width,
  cells: cells.length, clipped_cells: cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent),
  height});
document.body.appendChild(pre);
</script>"""
