"""What the holders of each skill searched for in an LXP or a search tool (xAPI `searched`).

Tools write the query in different places; the report reads, in this order: the ECC (DoD
Enterprise Course Catalog) search-term result extension, `result.response`, a `q` / `query` /
`keyword` / `search` / `term` parameter of the object's IRI, and last the object's name (a tool
that names the searched catalogue entry rather than the words typed). Queries are compared
without case or repeated spaces. Each holder counts once per query, however often repeated.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import facts
from .answers import Cell, Table
from .ledger import Ledger

SEARCH_VERBS = ("https://w3id.org/xapi/dod-isd/verbs/searched", "http://id.tincanapi.com/verb/searched")
ECC_SEARCH_TERM = "https://w3id.org/xapi/ecc/result/extensions/searchTerm"
QUERY_PARAMETERS = ("q", "query", "keyword", "search", "term")


def query_of(statement: Mapping[str, Any]) -> str | None:
    result = statement.get("result")
    result = result if isinstance(result, dict) else {}
    extensions = result.get("extensions")
    found = (
        extensions.get(ECC_SEARCH_TERM) if isinstance(extensions, dict) else None,
        result.get("response"),
        _parameter(facts.object_id(statement)),
        facts.object_name(statement),
    )
    text = next((facts.text_of(value) for value in found if facts.text_of(value)), None)
    return " ".join(text.split()).casefold() if text else None


def _parameter(iri: str) -> str | None:
    try:
        parameters = parse_qs(urlsplit(iri).query)
    except ValueError:  # an IRI another system wrote: a malformed one has no query
        return None
    return next((parameters[name][0] for name in QUERY_PARAMETERS if parameters.get(name)), None)


class SkillSearches:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.skills: dict[str, set[str]] = defaultdict(set)  # learner -> skills held at the end of the range
        self.holders: Counter[str] = Counter()  # skill -> learners
        for credential in ledger.held():
            self.skills[credential.learner].update(credential.skills)
        for skills in self.skills.values():
            self.holders.update(skills)
        self.learners: Counter[tuple[str, str]] = Counter()  # (skill, query) -> holders who searched it
        self.searches: Counter[tuple[str, str]] = Counter()  # (skill, query) -> statements
        self._seen: set[tuple[str, str]] = set()  # (learner, query)

    def add(self, statement: Mapping[str, Any]) -> None:
        learner = facts.actor_key(statement.get("actor")) or ""
        skills = self.skills.get(learner)
        if not skills or facts.verb_id(statement) not in SEARCH_VERBS:
            return
        at, query = facts.statement_time(statement), query_of(statement)
        if at is None or at not in self.ledger.window or query is None:
            return
        first = (learner, query) not in self._seen
        self._seen.add((learner, query))
        for skill in skills:
            self.learners[(skill, query)] += first
            self.searches[(skill, query)] += 1

    def table(self, top: int) -> Table:
        rows: list[tuple[Cell, ...]] = []
        for skill in sorted(self.holders, key=lambda s: (-self.holders[s], s)):
            found = sorted(((q, n) for (s, q), n in self.learners.items() if s == skill), key=lambda i: (-i[1], i[0]))
            for rank, (query, learners) in enumerate(found[:top], 1):
                rows.append((skill, self.holders[skill], rank, query, learners, self.searches[(skill, query)]))
        return Table(
            "searches_by_skill",
            "Topics searched by the holders of each skill",
            "Per skill held at the end of the range (whenever earned): the queries its holders searched "
            "most in the range (xAPI 'searched'), by how many holders, and how many searches.",
            ("skill", "holders", "rank", "query", "learners", "searches"),
            rows,
        )
