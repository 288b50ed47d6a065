"""Identity coverage: how many credential recipients map to the learner directory, per platform and
organisation, where the others come from (email domains), and which aliases would map the most.

Recipients come from two sources: the platforms' APIs (canonical learners, as the adapters read
them) and the connector's statements in the LRS (their actors). A recipient is one identity: the
one the connector sends without the directory (its fallback identity), so a recipient read from a
platform and the statements sent for it count as the same one. Emails never reach a log line:
only the alias suggestions name them, on the operator's terminal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import UnidentifiedLearner
from ..events import Learner
from ..jsonshape import object_in
from ..report.answers import Cell, Table
from ..xapi import Statement
from ..xapi import vocabulary as v
from ..xapi.corrections import agent_key
from .directory import DirectoryEntry, LearnerDirectory, email_key
from .remap import is_connectors, learner_of
from .resolver import IdentityResolver, ifi_of

PLATFORM_SOURCE = "platform"
LRS_SOURCE = "lrs"
NO_EMAIL = "(no email)"
HASHED = "(hashed)"


@dataclass
class Recipient:
    mapped: bool
    to_remap: bool = False  # in the LRS under an identity the directory now maps to another agent
    email: str | None = None
    name: str | None = None
    hashed: bool = False
    statements: int = 0
    credentials: int = 0

    @property
    def domain(self) -> str:
        if self.email and "@" in self.email:
            return self.email.rsplit("@", 1)[1]
        return HASHED if self.hashed else NO_EMAIL


Group = tuple[str, str, str]  # source, platform, organisation


class Coverage:
    def __init__(self, resolver: IdentityResolver, vocab: v.DeploymentVocabulary) -> None:
        self.resolver = resolver
        self.vocab = vocab
        self.fallback = IdentityResolver(resolver.ifi, None, resolver.homepage)
        self.groups: dict[Group, dict[str, Recipient]] = defaultdict(dict)

    def add_learner(self, platform: str, title: str, organisation: str, learner: Learner) -> None:
        """A credential's recipient as a platform's API gives it (`platform`: its registry name)."""
        recipient = self.groups[(PLATFORM_SOURCE, title, organisation)].setdefault(
            self._key(learner),
            Recipient(
                mapped=self.resolver.maps(learner, platform),
                email=learner.email,
                name=learner.name,
                hashed=bool(learner.email_sha256),
            ),
        )
        recipient.credentials += 1

    def add_statement(self, statement: Statement) -> None:
        """One of the LRS's statements: counted when it is the connector's, with a learner as actor."""
        actor = learner_of(statement) if is_connectors(statement) else None
        if actor is None:
            return
        recipients = self.groups[(LRS_SOURCE, *self._where(statement))]
        key = agent_key(actor)
        recipient = recipients.get(key)
        if recipient is None:
            now = self.resolver.for_agent(actor)
            mbox = actor.get("mbox")
            recipient = recipients[key] = Recipient(
                mapped=now is not None,
                to_remap=now is not None and ifi_of(now.agent) != ifi_of(actor),
                email=email_key(mbox[7:]) if isinstance(mbox, str) and mbox[:7].lower() == "mailto:" else None,
                name=actor.get("name") if isinstance(actor.get("name"), str) else None,
                hashed="mbox_sha1sum" in actor,
            )
        recipient.statements += 1

    def _key(self, learner: Learner) -> str:
        try:
            return agent_key(self.fallback.resolve(learner).agent)
        except UnidentifiedLearner:  # never sent without the directory: keyed by what the platform gave
            return "unidentified:" + "|".join(str(x or "") for x in (learner.email_sha256, learner.platform_user_id))

    def _where(self, statement: Statement) -> tuple[str, str]:
        context = object_in(statement, "context")
        named = context.get("platform")
        platform = named if isinstance(named, str) else "(unknown)"
        connection = object_in(object_in(context, "extensions"), self.vocab.ext_connection)
        organisation = connection.get("organisation")
        return platform, organisation if isinstance(organisation, str) and organisation else platform

    # -- tables ----------------------------------------------------------------------------------

    def tables(
        self, sources: Iterable[str] = (PLATFORM_SOURCE, LRS_SOURCE), directory: LearnerDirectory | None = None
    ) -> list[Table]:
        wanted = tuple(sources)
        found = [coverage_table(self.groups, wanted), domains_table(self.groups, wanted)]
        return found + ([aliases_table(self.groups, directory)] if directory is not None else [])


def _groups(groups: Mapping[Group, dict[str, Recipient]], sources: tuple[str, ...]) -> list[Group]:
    return sorted((g for g in groups if g[0] in sources), key=lambda g: (sources.index(g[0]), g[1], g[2]))


def coverage_table(groups: Mapping[Group, dict[str, Recipient]], sources: tuple[str, ...]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for group in _groups(groups, sources):
        recipients = groups[group].values()
        total = len(recipients)
        mapped = sum(r.mapped for r in recipients)
        to_remap = sum(r.to_remap for r in recipients) if group[0] == LRS_SOURCE else None
        rows.append((*group, total, mapped, total - mapped, _share(mapped, total), to_remap))
    return Table(
        "identity_coverage",
        "Recipients mapped to the learner directory",
        "Distinct recipients per source (the platforms' APIs, the connector's statements in the LRS), "
        "platform and organisation; mapped: found in LEARNER_DIRECTORY now; to_remap: statements in the "
        "LRS under a fallback identity that now maps (`identity remap` corrects them).",
        ("source", "platform", "organisation", "recipients", "mapped", "unmapped", "mapped_pct", "to_remap"),
        rows,
    )


def domains_table(groups: Mapping[Group, dict[str, Recipient]], sources: tuple[str, ...]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for group in _groups(groups, sources):
        people: Counter[str] = Counter()
        records: Counter[str] = Counter()
        for recipient in groups[group].values():
            if not recipient.mapped:
                people[recipient.domain] += 1
                records[recipient.domain] += recipient.statements + recipient.credentials
        for domain in sorted(people, key=lambda d: (-people[d], d)):
            rows.append((*group, domain, people[domain], records[domain]))
    return Table(
        "identity_unmatched_domains",
        "Unmapped recipients by email domain",
        "Recipients the learner directory does not map, by the domain of their email (no email: an "
        "account or platform id only; hashed: a hashed email); records: credentials read from a platform, "
        "or statements in the LRS.",
        ("source", "platform", "organisation", "domain", "recipients", "records"),
        rows,
    )


def aliases_table(groups: Mapping[Group, dict[str, Recipient]], directory: LearnerDirectory) -> Table:
    """Unmapped recipients whose email's local part, or else whose name, is exactly one person's:
    the `other_emails` alias to add, most statements fixed first."""
    people = _People(directory)
    fixes: dict[str, list] = {}  # email -> [person, matched by, statements, credentials]
    for recipients in groups.values():
        for recipient in recipients.values():
            if recipient.mapped or not recipient.email or "@" not in recipient.email:
                continue
            person, how = people.match(recipient)
            if person is None:
                continue
            fix = fixes.setdefault(recipient.email, [person, how, 0, 0])
            fix[2] += recipient.statements
            fix[3] += recipient.credentials
    rows: list[tuple[Cell, ...]] = [
        (email, person.employee_id, person.name, how, statements, credentials)
        for email, (person, how, statements, credentials) in fixes.items()
    ]
    rows.sort(key=lambda row: (-int(row[4] or 0), -int(row[5] or 0), str(row[0])))
    return Table(
        "identity_alias_suggestions",
        "Aliases that would map the most",
        "Unmapped recipients whose email's local part (or else name) matches exactly one person of the "
        "directory: add the email to that person's other_emails; statements: in the LRS (`identity remap` "
        "corrects them), credentials: read from the platforms.",
        ("email", "employee_id", "name", "matched_by", "statements", "credentials"),
        rows,
    )


class _People:
    """The directory's people by each email's local part and by name (to suggest aliases)."""

    def __init__(self, directory: LearnerDirectory) -> None:
        self.by_local: dict[str, list[DirectoryEntry]] = defaultdict(list)
        self.by_name: dict[str, list[DirectoryEntry]] = defaultdict(list)
        for entry in directory:
            for local in dict.fromkeys(email.split("@", 1)[0] for email in entry.emails):
                self.by_local[local].append(entry)
            if entry.name:
                self.by_name[_name_key(entry.name)].append(entry)

    def match(self, recipient: Recipient) -> tuple[DirectoryEntry | None, str]:
        local = self.by_local.get((recipient.email or "").split("@", 1)[0], [])
        if len(local) == 1:
            return local[0], "local part"
        named = self.by_name.get(_name_key(recipient.name), []) if recipient.name else []
        return (named[0], "name") if len(named) == 1 else (None, "")


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
