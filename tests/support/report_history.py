"""A varied credential history for the report tests, in the shape the connector writes, with the
figures the report must find in it (worked out by hand, see the comments).

Everything happens in 2011 (the range under test) except what is there to be left out: so the
report of 2011 is not disturbed by what other tests write to the session's LRS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from chalicelib.events import Kind
from chalicelib.settings import load_settings
from chalicelib.xapi import vocabulary as v

VOCAB = v.DeploymentVocabulary(load_settings({}).xapi_extension_base)
SINCE, UNTIL, END = "2011-01-01", "2011-12-31", "2012-01-01T00:00:00.000Z"  # UNTIL, a date: its end is END
XSS_NAME = "<script>alert(1)</script>"
XSS_TEAM = "<img src=x onerror=alert(1)>"
FORMULA_ROLE = "=HYPERLINK(1)"
COMPLETED, PASSED, ATTENDED = v.ACTIVITY_VERBS[0], v.ACTIVITY_VERBS[1], v.ACTIVITY_VERBS[3]
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


def at(day: str) -> str:
    return day + ".000Z" if "T" in day else f"{day}T00:00:00.000Z"


@dataclass(frozen=True)
class Learner:
    key: str
    name: str | None
    team: str | None
    role: str | None
    email: str


class History:
    """Builds statements for one run (its own ids, emails and badge classes)."""

    BADGES = {
        "A": ("Python Expert", ["python", "testing"]),
        "B": ("Cloud Architect", ["aws"]),
        "C": ("Data Literacy", ["sql", "python"]),
    }

    def __init__(self, run: str | None = None) -> None:
        self.run = run or uuid.uuid4().hex[:10]
        self.statements: list[dict] = []
        self.earned_ids: dict[int, str] = {}
        self.learners: dict[str, Learner] = {}

    def learner(self, key: str, name: str | None, team: str | None, role: str | None) -> Learner:
        self.learners[key] = Learner(key, name, team, role, f"{key}.{self.run}@example.com")
        return self.learners[key]

    def badge_iri(self, badge: str) -> str:
        return f"https://badges.example.com/{self.run}/classes/{badge}"

    def assertion(self, number: int) -> str:
        return f"https://badges.example.com/{self.run}/assertions/{number}"

    def agent(self, learner: Learner) -> dict:
        agent = {"objectType": "Agent", "mbox": f"mailto:{learner.email}"}
        return {**agent, "name": learner.name} if learner.name else agent

    def _extensions(self, learner: Learner, badge: str, expires: str | None) -> dict:
        extensions: dict = {VOCAB.ext_skills: self.BADGES[badge][1]}
        if expires:
            extensions[VOCAB.ext_expires_at] = at(expires)
        if learner.role:
            extensions[VOCAB.ext_job_role] = learner.role
        if learner.team:
            extensions[VOCAB.ext_team] = learner.team
        return extensions

    def credential(
        self, kind: Kind | str, number: int, learner: Learner, badge: str, day: str, expires: str | None = None
    ) -> str:
        """earned/accepted/rejected/expired/revoked statements: the badge class as object."""
        verb = VOCAB.verb_revoked if kind == "revoked" else v.VERBS[kind][0]
        statement_id = str(uuid.uuid4())
        self.statements.append(
            {
                "id": statement_id,
                "actor": self.agent(learner),
                "verb": {"id": verb},
                "object": {
                    "objectType": "Activity",
                    "id": self.badge_iri(badge),
                    "definition": {"type": v.BADGE_ACTIVITY_TYPE, "name": {"en": self.BADGES[badge][0]}},
                },
                "result": {"extensions": {v.BADGEASSERTION_EXTENSION: {"@id": self.assertion(number)}}},
                "context": {
                    "platform": "Example",
                    "contextActivities": {
                        "category": [{"id": v.OPEN_BADGES_RECIPE, "definition": {"type": v.RECIPE_ACTIVITY_TYPE}}]
                    },
                    "extensions": self._extensions(learner, badge, expires),
                },
                "timestamp": at(day),
            }
        )
        if kind is Kind.ISSUED:
            self.earned_ids[number] = statement_id
        return statement_id

    def void(self, number: int, day: str) -> None:
        self.statements.append(
            {
                "id": str(uuid.uuid4()),
                "actor": {"objectType": "Agent", "account": {"homePage": VOCAB.base, "name": v.CONNECTOR_ACCOUNT_NAME}},
                "verb": {"id": v.VERB_VOIDED},
                "object": {"objectType": "StatementRef", "id": self.earned_ids[number]},
                "timestamp": at(day),
            }
        )

    def interaction(
        self,
        kind: Kind,
        number: int,
        learner: Learner,
        badge: str,
        day: str,
        medium: str | None = None,
        guest: bool = False,
    ) -> None:
        """shared/viewed: the learner's credential as object, the badge class in the grouping."""
        extensions: dict = {v.SHARE_MEDIUM_EXTENSION: medium} if medium else {}
        actor = self.agent(learner)
        if guest:
            extensions[VOCAB.ext_earner] = actor
            actor = {"objectType": "Agent", "account": {"homePage": "https://badges.example.com", "name": "guest"}}
        context: dict = {
            "contextActivities": {
                "grouping": [{"objectType": "Activity", "id": self.badge_iri(badge)}],
                "category": [{"id": v.OPEN_BADGES_RECIPE}],
            }
        }
        if extensions:
            context["extensions"] = extensions
        self.statements.append(
            {
                "id": str(uuid.uuid4()),
                "actor": actor,
                "verb": {"id": v.VERBS[kind][0]},
                "object": {
                    "objectType": "Activity",
                    "id": self.assertion(number),
                    "definition": {"name": {"en": self.BADGES[badge][0]}},
                },
                "context": context,
                "timestamp": at(day),
            }
        )

    def activity(self, verb: str, learner: Learner, name: str, day: str, recipe: bool = False) -> None:
        statement = {
            "id": str(uuid.uuid4()),
            "actor": self.agent(learner),
            "verb": {"id": verb},
            "object": {
                "objectType": "Activity",
                "id": f"https://lms.example.com/{self.run}/{name.replace(' ', '-')}",
                "definition": {"name": {"en-US": name}},
            },
            "result": {"completion": True},
            "timestamp": at(day),
        }
        if recipe:  # looks like one of the connector's own statements: never a learning activity
            statement["context"] = {"contextActivities": {"category": [{"id": v.OPEN_BADGES_RECIPE}]}}
        self.statements.append(statement)


def varied_history() -> History:
    h = History()
    ada = h.learner("ada", "Ada Lovelace", "Platform", "Engineer")
    bob = h.learner("bob", "Bob Kahn", "Platform", "Engineer")
    cy = h.learner("cy", "Cy Young", "Platform", "Manager")
    dee = h.learner("dee", "Dee Hock", "Data", "Analyst")
    eve = h.learner("eve", "Eve Arden", "Data", "Analyst")
    fay = h.learner("fay", None, None, None)  # no name: a hash; no directory entry: "unknown"
    gus = h.learner("gus", "Gus Grissom", "Sales", "Rep")
    xss = h.learner("mallory", XSS_NAME, XSS_TEAM, FORMULA_ROLE)
    stranger = h.learner("zed", "Zed Nobody", "Other", "Other")
    hal = h.learner("hal", "Hal Abelson", "Platform", "Engineer")
    ivy = h.learner("ivy", "Ivy Bean", "Data", "Analyst")
    jo = h.learner("jo", "Jo March", "Data", "Analyst")
    kim = h.learner("kim", "Kim Wu", "Sales", "Rep")
    issued = Kind.ISSUED

    # Credentials: number, learner, badge, earned, expiry; and what happens to them.
    h.credential(issued, 1, ada, "A", "2011-03-10")  # held
    h.credential(issued, 2, bob, "A", "2011-04-05")  # held
    h.credential(issued, 3, cy, "B", "2011-04-20", "2012-01-20")  # held, expires in 19 days
    h.credential(issued, 4, dee, "C", "2011-05-01", "2012-06-01")  # held, expires later
    h.credential(issued, 5, eve, "C", "2011-05-15", "2011-10-01")  # expired (statement)
    h.credential(Kind.EXPIRED, 5, eve, "C", "2011-10-01", "2011-10-01")
    h.credential(issued, 6, eve, "A", "2011-06-01", "2012-01-10")  # revoked: voided + revoked statement
    h.void(6, "2011-07-01")
    h.credential("revoked", 6, eve, "A", "2011-07-01")
    h.credential(issued, 7, gus, "B", "2011-06-10", "2012-01-25")  # revoked: revoked statement only
    h.credential("revoked", 7, gus, "B", "2011-08-01")
    h.credential(issued, 8, gus, "C", "2011-07-10")  # voided after the range: held at its end
    h.void(8, "2012-02-01")
    h.credential(issued, 9, fay, "B", "2011-08-15", "2012-03-15")  # held, expires in 74 days
    h.credential(issued, 10, ada, "B", "2011-09-01")  # declined
    h.credential(Kind.REJECTED, 10, ada, "B", "2011-09-05")
    h.credential(issued, 11, xss, "A", "2011-10-10", "2012-02-10")  # held, expires in 40 days
    h.credential(issued, 12, bob, "C", "2010-11-01", "2012-02-01")  # earned before the range, expires in 31 days
    h.credential(issued, 13, cy, "C", "2012-01-15", "2012-02-15")  # earned after the range
    h.credential(issued, 14, dee, "A", "2011-11-20", "2011-12-20")  # expired (expires_at passed)
    h.credential(issued, 15, bob, "B", "2011-10-20")  # held
    h.credential(issued, 16, hal, "B", "2011-02-01", "2011-08-01")  # renewed under the same assertion:
    h.credential(issued, 16, hal, "B", "2011-07-25", "2012-01-05T12:00:00")  # held, 4 whole days left (4.5)
    h.credential(issued, 17, ivy, "C", "2011-02-10", "2011-09-01")  # expired (expires_at passed), then
    h.credential(issued, 18, ivy, "C", "2011-08-25")  # earned again as a new credential: held
    h.credential(issued, 19, jo, "A", "2011-09-10")  # revoked after the range: held at its end
    h.credential("revoked", 19, jo, "A", "2012-01-10")
    h.credential(issued, 20, kim, "B", "2011-06-01")  # revoked, then renewed: held
    h.credential("revoked", 20, kim, "B", "2011-06-15")
    h.credential(issued, 20, kim, "B", "2011-09-01")

    for number, learner, badge, day in (
        (1, ada, "A", "2011-03-12"),
        (2, bob, "A", "2011-04-06"),
        (3, cy, "B", "2011-05-02"),
        (11, xss, "A", "2011-10-11"),
        (12, bob, "C", "2010-11-02"),
    ):
        h.credential(Kind.ACCEPTED, number, learner, badge, day)

    S, V = Kind.SHARED, Kind.VIEWED
    h.interaction(S, 1, ada, "A", "2011-03-15", "linkedin")
    h.interaction(S, 1, ada, "A", "2011-03-16", "twitter")
    h.interaction(S, 2, bob, "A", "2011-04-07", "linkedin")
    h.interaction(S, 3, cy, "B", "2011-05-03", "email")
    h.interaction(S, 11, xss, "A", "2011-10-12", "linkedin")
    h.interaction(S, 1, ada, "A", "2012-01-05", "linkedin")  # after the range
    h.interaction(S, 12, bob, "C", "2010-12-01", "linkedin")  # before it
    h.interaction(V, 1, ada, "A", "2011-03-17", "linkedin", guest=True)
    h.interaction(V, 1, ada, "A", "2011-03-17", "linkedin", guest=True)
    h.interaction(V, 1, ada, "A", "2011-03-18")  # no medium: "unknown"
    h.interaction(V, 3, cy, "B", "2011-05-04", "email", guest=True)

    h.activity(COMPLETED, ada, "Intro to Python", "2011-02-20")  # 18 days before #1
    h.activity(COMPLETED, ada, "Intro to Python", "2011-03-01")  # again: one learner still
    h.activity(PASSED, ada, "Python Exam", "2011-03-05")
    h.activity(COMPLETED, ada, "Old Course", "2011-01-01")  # 68 days before: too early
    h.activity(COMPLETED, ada, "Later Course", "2011-03-20")  # after earning
    h.activity(COMPLETED, ada, "Recipe Lookalike", "2011-03-08", recipe=True)
    h.activity(COMPLETED, bob, "Intro to Python", "2011-03-20")  # before #2
    h.activity(PASSED, bob, "Python Exam", "2011-04-01")
    h.activity(COMPLETED, bob, "AWS Basics", "2011-10-01")  # before #15
    h.activity(COMPLETED, cy, "AWS Basics", "2011-04-10")  # before #3
    h.activity(EXPERIENCED, cy, "Cloud Video", "2011-04-11")  # not a completion verb
    h.activity(COMPLETED, fay, "AWS Basics", "2011-08-01")  # before #9
    h.activity(ATTENDED, dee, "SQL Workshop", "2011-04-25")  # before #4
    h.activity(COMPLETED, eve, "SQL Workshop", "2011-05-10")  # before #5 (expired later: still earned)
    h.activity(COMPLETED, eve, "Intro to Python", "2011-05-25")  # before #6, which was revoked
    h.activity(PASSED, xss, "Python Exam", "2011-10-01")  # before #11
    h.activity(COMPLETED, stranger, "Intro to Python", "2011-03-01")  # earned nothing
    h.activity(COMPLETED, hal, "AWS Basics", "2011-01-20")  # before both of #16's earnings:
    h.activity(COMPLETED, hal, "AWS Basics", "2011-07-20")  # one learner still
    h.activity(COMPLETED, ivy, "SQL Workshop", "2011-02-01")  # before #17 and before #18:
    h.activity(COMPLETED, ivy, "SQL Workshop", "2011-08-20")  # one learner still
    return h


# -- what the report must say about varied_history(), worked out by hand -------------------------

HELD = [  # held at the end of the range, whenever earned
    (XSS_TEAM, FORMULA_ROLE, 1, 1),
    ("Data", "Analyst", 3, 3),  # #4, #18 (ivy's second), #19 (revoked after the range)
    ("Platform", "Engineer", 5, 3),  # #1, #2, #12 (earned in 2010), #15, #16 (renewed); #10 declined
    ("Platform", "Manager", 1, 1),  # #3
    ("Sales", "Rep", 2, 2),  # #8 (voided after the range), #20 (renewed after its revocation)
    ("unknown", "unknown", 1, 1),  # #9
]
# Team sizes: the directory's, Sales (not in it) the two people holding credentials there, and
# (all teams) everyone: 6 + 5 + 1 + 2 + 2, and Fay (no team).
SIZES = {XSS_TEAM: 1, "Data": 5, "Platform": 6, "Sales": 2, "Support": 2}
EVERYONE = 17
SKILL_HOLDERS = {  # skill -> team -> learners; in the report's order (most holders first)
    "python": {XSS_TEAM: 1, "Data": 3, "Platform": 2, "Sales": 1},  # A or C: jo, dee, ivy; ada, bob; gus
    "aws": {"Platform": 3, "Sales": 1, "unknown": 1},  # B: cy, bob, hal; kim; fay
    "sql": {"Data": 2, "Platform": 1, "Sales": 1},  # C: dee, ivy; bob (#12); gus
    "testing": {XSS_TEAM: 1, "Data": 1, "Platform": 2},  # A: mallory; jo; ada, bob
}


def percent(part: int, whole: int) -> int:
    return int(Decimal(100 * part / whole).quantize(Decimal(1), ROUND_HALF_UP))


def shares(held: int, size: int | None, flagged: bool) -> tuple:
    gap = "missing" if flagged and not held else None
    if size is None:
        return (held, gap, None, None, None, None)
    return (held, gap, size, percent(held, size), size - held, percent(size - held, size))


def skills_rows() -> list[tuple]:
    rows: list[tuple] = []
    for skill, teams in SKILL_HOLDERS.items():
        rows.append((skill, "(all teams)", *shares(sum(teams.values()), EVERYONE, False)))
        rows.extend((skill, team, *shares(teams.get(team, 0), SIZES[team], True)) for team in sorted(SIZES))
        rows.append((skill, "unknown", *shares(teams.get("unknown", 0), None, False)))  # never "missing"
    return rows


FUNNEL = [  # month, credential, channel, earned, accepted, shared, viewed
    ("2011-02", "Cloud Architect", "(all)", 1, 0, 0, 0),  # #16, first earning
    ("2011-02", "Data Literacy", "(all)", 1, 0, 0, 0),  # #17
    ("2011-03", "Python Expert", "(all)", 1, 1, 2, 3),
    ("2011-03", "Python Expert", "linkedin", None, None, 1, 2),
    ("2011-03", "Python Expert", "twitter", None, None, 1, 0),
    ("2011-03", "Python Expert", "unknown", None, None, 0, 1),
    ("2011-04", "Cloud Architect", "(all)", 1, 0, 0, 0),
    ("2011-04", "Python Expert", "(all)", 1, 1, 1, 0),
    ("2011-04", "Python Expert", "linkedin", None, None, 1, 0),
    ("2011-05", "Cloud Architect", "(all)", 0, 1, 1, 1),
    ("2011-05", "Cloud Architect", "email", None, None, 1, 1),
    ("2011-05", "Data Literacy", "(all)", 2, 0, 0, 0),
    # June: #6, #7 and #20's first earning, all revoked
    ("2011-07", "Cloud Architect", "(all)", 1, 0, 0, 0),  # #16 renewed
    ("2011-07", "Data Literacy", "(all)", 1, 0, 0, 0),
    ("2011-08", "Cloud Architect", "(all)", 1, 0, 0, 0),
    ("2011-08", "Data Literacy", "(all)", 1, 0, 0, 0),  # #18
    ("2011-09", "Cloud Architect", "(all)", 2, 0, 0, 0),  # #10 (declined later), #20 renewed
    ("2011-09", "Python Expert", "(all)", 1, 0, 0, 0),  # #19
    ("2011-10", "Cloud Architect", "(all)", 1, 0, 0, 0),
    ("2011-10", "Python Expert", "(all)", 1, 1, 1, 0),
    ("2011-10", "Python Expert", "linkedin", None, None, 1, 0),
    ("2011-11", "Python Expert", "(all)", 1, 0, 0, 0),
]
ACTIVITIES = [  # credential, earners (people), rank, activity, learners, earnings
    ("Cloud Architect", 6, 1, "AWS Basics", 4, 7),  # cy, fay, bob, hal (twice before: once); 7 earnings
    ("Data Literacy", 4, 1, "SQL Workshop", 3, 5),  # dee, eve, ivy (before #17 and #18: once)
    ("Python Expert", 5, 1, "Python Exam", 3, 5),  # #1, #2, #11 (#14, #19: nothing before)
    ("Python Expert", 5, 2, "Intro to Python", 2, 5),  # #1, #2
]


def expiring_rows(fay_label: str) -> list[tuple]:
    return [
        ("Cloud Architect", "Hal Abelson", "Platform", "2012-01-05", 4),  # 4 days and 12 hours
        ("Cloud Architect", "Cy Young", "Platform", "2012-01-20", 19),
        ("Data Literacy", "Bob Kahn", "Platform", "2012-02-01", 31),
        ("Python Expert", XSS_NAME, XSS_TEAM, "2012-02-10", 40),
        ("Cloud Architect", fay_label, "unknown", "2012-03-15", 74),
    ]


# The learner directory of the organisation (LEARNER_DIRECTORY): team sizes for the skills table.
# Gus and Kim (Sales), Fay and Zed are not in it; Pat, Quinn, Rae, Sam and Tia hold nothing.
DIRECTORY = {
    "Platform": ["ada", "bob", "cy", "hal", "pat", "quinn"],
    "Data": ["dee", "eve", "ivy", "jo", "rae"],
    XSS_TEAM: ["mallory"],
    "Support": ["sam", "tia"],
}


def directory_csv(history: History) -> str:
    lines = ["employee_id,email,name,job_role,team"]
    for team, keys in DIRECTORY.items():
        lines.extend(f'{key},{key}.{history.run}@example.com,{key},,"{team}"' for key in keys)
    return "\n".join(lines) + "\n"


HEADCOUNTS = {team: len(keys) for team, keys in DIRECTORY.items()}


def generated_history(seed: int, learners: int = 30) -> History:
    """2014: each learner earns credentials at random, some renewed under the same assertion or
    as new ones, some revoked (within the range, voided, or after it by a revoked statement),
    declined or expired; with accepts, shares, views and completed courses. Nothing is voided
    after the range: an LRS that shows no voided statement cannot tell what those were."""
    import random

    rng = random.Random(seed)
    h = History()
    issued = Kind.ISSUED
    day = lambda: f"2014-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"  # noqa: E731
    number = 0
    for index in range(learners):
        team = rng.choice(["Alpha", "Beta", None])
        person = h.learner(f"g{index}", f"Person {index}", team, rng.choice(["Engineer", "Analyst"]))
        for _ in range(rng.randint(1, 3)):
            number += 1
            badge, earned = rng.choice("ABC"), day()
            expires = rng.choice([None, "2014-06-30", "2015-02-01T06:00:00", "2015-01-15"])
            h.credential(issued, number, person, badge, earned, expires)
            h.activity(COMPLETED, person, f"Course {badge}", f"{earned[:8]}01")
            fate = rng.choice(["renewed", "again", "revoked", "voided", "later", "declined", "expired", "shared", ""])
            if fate == "renewed":
                h.credential(issued, number, person, badge, f"{earned[:8]}28", "2015-01-20")
            elif fate == "again":
                number += 1
                h.credential(issued, number, person, badge, f"{earned[:8]}28")
            elif fate == "revoked":
                h.credential("revoked", number, person, badge, f"{earned[:8]}28")
            elif fate == "voided":
                h.void(number, f"{earned[:8]}28")
            elif fate == "later":
                h.credential("revoked", number, person, badge, "2015-03-01")
            elif fate in ("declined", "expired"):
                h.credential(
                    Kind.REJECTED if fate == "declined" else Kind.EXPIRED, number, person, badge, f"{earned[:8]}28"
                )
            else:
                h.credential(Kind.ACCEPTED, number, person, badge, f"{earned[:8]}28")
                h.interaction(Kind.SHARED, number, person, badge, f"{earned[:8]}28", rng.choice(["linkedin", "email"]))
    return h
