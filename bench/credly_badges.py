"""Synthetic Credly badges for the benchmarks: distinct, deterministic for a seed, fixture-shaped."""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "credly" / "badges_page_1.json"

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Niklaus",
    "Margaret",
    "Tony",
    "Radia",
    "Ken",
    "Hedy",
    "Dennis",
    "Sophie",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Wirth",
    "Hamilton",
    "Hoare",
    "Perlman",
    "Thompson",
    "Lamarr",
    "Ritchie",
    "Wilson",
]
# (name, description, url or None -> Credly BADGE_CLASS_IRI, skills)
TEMPLATES = [
    (
        "Python Expert",
        "Writes idiomatic, tested Python and reviews others' code.",
        "https://www.credly.com/org/acme-corp/badge/python-expert",
        ["Python", "Code Review"],
    ),
    (
        "Cloud Practitioner",
        "Deploys and operates services on a public cloud.",
        "https://www.credly.com/org/acme-corp/badge/cloud-practitioner",
        ["AWS", "Networking", "IAM"],
    ),
    ("Data Privacy Basics", None, None, ["GDPR"]),
    (
        "Agile Team Member",
        "Works in short iterations with a cross-functional team.",
        "https://www.credly.com/org/acme-corp/badge/agile-team-member",
        [],
    ),
    (
        "Security Champion",
        "Leads threat modelling and secure code reviews for a team.",
        None,
        ["Threat Modelling", "OWASP", "Secure Coding", "Incident Response"],
    ),
]


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso_millis(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def make_templates(base: dict, rng: random.Random) -> list[dict]:
    templates = []
    for name, description, url, skills in TEMPLATES:
        template = copy.deepcopy(base)
        slug = name.lower().replace(" ", "-")
        template.update(
            id=random_uuid(rng),
            name=name,
            description=description,
            url=url,
            vanity_slug=slug,
            image_url=f"https://images.credly.com/images/{slug}/image.png",
            skills=[
                {"id": f"s{i}", "name": s, "vanity_slug": s.lower().replace(" ", "-")} for i, s in enumerate(skills)
            ],
        )
        templates.append(template)
    return templates


def make_badges(
    count: int,
    seed: int,
    *,
    start: datetime,
    spread_days: int,
    expiry_days: tuple[int, ...],
    vary_templates: bool = True,
    state: str | None = None,
) -> list[dict]:
    """`count` badges issued within `spread_days` of `start`; a quarter never expire, the rest
    expire one of `expiry_days` after issue; templates varied unless told otherwise."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))["data"][0]
    rng = random.Random(seed)
    templates = make_templates(base["badge_template"], rng) if vary_templates else [base["badge_template"]]
    badges = []
    for i in range(count):
        badge = copy.deepcopy(base)
        badge_id = random_uuid(rng)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{i}@Example.com"
        issued = start + timedelta(seconds=rng.randrange(spread_days * 24 * 3600))
        expires = None if rng.random() < 0.25 else issued + timedelta(days=rng.choice(expiry_days))
        badge.update(
            id=badge_id,
            state=state or badge["state"],
            issued_at=iso_millis(issued),
            issued_at_date=issued.date().isoformat(),
            expires_at=iso_millis(expires) if expires else None,
            expires_at_date=expires.date().isoformat() if expires else None,
            created_at=iso_millis(issued),
            updated_at=iso_millis(issued),
            state_updated_at=iso_millis(issued),
            issued_to=f"{first} {last}",
            issued_to_first_name=first,
            issued_to_last_name=last,
            recipient_email=email,
            issuer_earner_id=f"E-{100000 + i}",
            image_url=f"https://images.credly.com/images/{badge_id[:8]}/image.png",
            badge_url=f"https://www.credly.com/badges/{badge_id}",
            badge_template=copy.deepcopy(rng.choice(templates)),
        )
        badge["user"].update(
            id=f"u-{i:06x}",
            email=email.lower(),
            first_name=first,
            last_name=last,
            url=f"https://www.credly.com/users/{first.lower()}-{last.lower()}-{i}",
        )
        badges.append(badge)
    return badges


# Credly's badge export (Organization > Data > Badges), as far as its columns are known.
EXPORT_HEADER = [
    "Badge Name",
    "Badge Template ID",
    "Issued by",
    "Earner Badge ID",
    "Issuer Earner ID",
    "Group Tag",
    "Badge URL",
    "Issued to First Name",
    "Issued to Middle Name",
    "Issued to Last Name",
    "Issued to Email",
    "Status",
    "Expired",
    "Issue Date",
    "Expiration Date",
]


def export_row(badge: dict) -> list[str]:
    """A badge (API shape) as a row of the export, in EXPORT_HEADER's order."""
    issuer = next((e["entity"]["name"] for e in badge.get("issuer", {}).get("entities", []) if e.get("primary")), "")
    return [
        badge["badge_template"]["name"],
        badge["badge_template"]["id"],
        issuer,
        badge["id"],
        badge.get("issuer_earner_id") or "",
        "",
        badge.get("badge_url") or "",
        badge.get("issued_to_first_name") or "",
        "",
        badge.get("issued_to_last_name") or "",
        badge.get("recipient_email") or "",
        badge["state"].capitalize(),
        "No",
        badge["issued_at"].replace("T", " ").replace(".000Z", " UTC"),
        (badge.get("expires_at") or "")[:10],
    ]
