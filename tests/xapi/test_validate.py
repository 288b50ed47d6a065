"""The strict statement check (docs/statements.md): fixtures pass, broken statements don't."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from chalicelib.errors import InvalidStatement
from chalicelib.xapi.validate import validate_statement
from tests.support.helpers import fixture, translate

# (source, fixture) for every fixture that translates without fetching details.
FIXTURE_DOCUMENTS = [
    ("credly", "credly/event_badge_created.json"),
    ("credly", "credly/event_badge_accepted.json"),
    ("credly", "credly/event_badge_revoked.json"),
    ("credly", "credly/event_badge_deleted.json"),
    ("credly", "credly/badges_page_1.json"),
    ("certifier", "certifier/webhook_credential_issued.json"),
    ("certifier", "certifier/webhook_credential_shared_linkedin.json"),
    ("certifier", "certifier/webhook_credential_viewed_guest.json"),
    ("openbadges", "openbadges/ob2_assertion.json"),
    ("openbadges", "openbadges/ob3_credential.json"),
]
IDENTITY_MODES = {
    "mbox": {},
    "mbox_sha1sum": {"IDENTITY_IFI": "mbox_sha1sum"},
    "account": {"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": "https://people.example.com"},
}
# Late enough that every fixture's credential has expired: the expired statements are checked too.
LATE = datetime(2030, 1, 1, tzinfo=UTC)

EXT = "https://credential-connector.dev/xapi"

VALID = {
    "id": "aae510ad-fa17-58f8-852f-ecf36914b9d7",
    "actor": {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:ada.lovelace@example.com"},
    "verb": {"id": "http://specification.openbadges.org/xapi/verbs/earned", "display": {"en": "earned"}},
    "object": {
        "objectType": "Activity",
        "id": "https://www.credly.com/org/acme-corp/badge/python-expert",
        "definition": {
            "type": "http://activitystrea.ms/schema/1.0/badge",
            "name": {"en": "Python Expert"},
            "extensions": {
                "http://specification.openbadges.org/xapi/extensions/badgeclass": {
                    "@id": "https://www.credly.com/org/acme-corp/badge/python-expert"
                }
            },
        },
    },
    "result": {
        "extensions": {
            "http://specification.openbadges.org/xapi/extensions/badgeassertion": {
                "@id": "https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211"
            }
        }
    },
    "context": {
        "platform": "Credly",
        "contextActivities": {
            "category": [
                {
                    "id": "http://specification.openbadges.org/xapi/recipe/base/0_0_2",
                    "definition": {"type": "http://id.tincanapi.com/activitytype/recipe"},
                }
            ]
        },
        "extensions": {
            f"{EXT}/extensions/skills": ["Python", "Code Review"],
            f"{EXT}/extensions/issuer": {"name": "Acme Corp", "url": "https://www.credly.com/organizations/acme-corp"},
        },
    },
    "timestamp": "2026-11-20T14:03:10.000Z",
}
EARNER_CONTEXT_AGENT = {
    "objectType": "contextAgent",
    "agent": {"objectType": "Agent", "mbox": "mailto:grace.hopper@example.com"},
    "relevantTypes": [f"{EXT}/agent-types/earner"],
}


def broken(change: Callable[[dict], None]) -> dict:
    statement = copy.deepcopy(VALID)
    change(statement)
    return statement


def assert_invalid(statement: dict, path_prefix: str, names: str, version: str = "1.0.3") -> None:
    with pytest.raises(InvalidStatement) as caught:
        validate_statement(statement, version)
    error = caught.value
    assert error.path.startswith(path_prefix), error.path
    assert names in str(error), str(error)


# -- everything the translator makes is valid --------------------------------------------------------


# The OB 3.0 fixture's learner (alan.turing@) is not in directory.csv: in account mode it is an
# unidentified learner (a dead letter, see test_identity.py), so it has no statement to check.
FIXTURES_BY_MODE = [
    pytest.param(source, name, mode, id=f"{name}-{mode}")
    for mode in IDENTITY_MODES
    for source, name in FIXTURE_DOCUMENTS
    if not (mode == "account" and name == "openbadges/ob3_credential.json")
]


@pytest.mark.parametrize(("source", "name", "mode"), FIXTURES_BY_MODE)
def test_every_fixture_statement_is_valid(source, name, mode):
    statements = translate(source, fixture(name), env=IDENTITY_MODES[mode], directory=True, as_of=LATE).statements

    assert statements
    for statement in statements:
        validate_statement(statement, "1.0.3")


@pytest.mark.parametrize(("source", "name"), FIXTURE_DOCUMENTS, ids=[n for _, n in FIXTURE_DOCUMENTS])
def test_every_fixture_statement_is_valid_in_xapi_2_0_0_mode(source, name):
    env = {"LRS_XAPI_VERSION": "2.0.0"}
    statements = translate(source, fixture(name), env=env, directory=True, as_of=LATE).statements

    assert statements
    for statement in statements:
        validate_statement(statement, "2.0.0")


@pytest.mark.parametrize(
    "document",
    [
        {"id": "https://badges.example.org/assertions/1", "revoked": True},
        {**fixture("openbadges/ob2_assertion.json"), "revoked": True, "revocationReason": "Error"},
    ],
    ids=["minimal revoked", "full revoked"],
)
def test_open_badges_revocations_are_valid(document):
    for statement in translate("openbadges", document, directory=True).statements:
        validate_statement(statement)


def test_the_hand_written_statement_is_valid():
    validate_statement(VALID)


# -- broken statements are rejected, naming the field -------------------------------------------------


def _set(path: list, value) -> Callable[[dict], None]:
    def change(statement: dict) -> None:
        target = statement
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list) -> Callable[[dict], None]:
    def change(statement: dict) -> None:
        target = statement
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _add_context_agents(statement: dict) -> None:
    statement["context"]["contextAgents"] = [copy.deepcopy(EARNER_CONTEXT_AGENT)]


BROKEN = [
    # (change, path prefix, text the error must contain)
    pytest.param(_set(["actor", "mbox_sha1sum"], "a" * 40), "actor", "actor", id="two IFIs"),
    pytest.param(_delete(["actor", "mbox"]), "actor", "actor", id="no IFI"),
    pytest.param(_set(["verb", "id"], "verbs/earned"), "verb.id", "verb.id", id="relative verb id"),
    pytest.param(
        _set(["context", "extensions", "skills"], ["Python"]),
        "context.extensions",
        "skills",
        id="extension key not an IRI",
    ),
    pytest.param(
        _set(["result", "extensions", "badgeassertion"], {"@id": "https://x.example/1"}),
        "result.extensions",
        "badgeassertion",
        id="result extension key not an IRI",
    ),
    pytest.param(_set(["verb", "display"], {"en_US": "earned"}), "verb.display", "en_US", id="bad language tag"),
    pytest.param(
        _set(["object", "definition", "name"], {"english (uk)": "Python Expert"}),
        "object.definition.name",
        "english (uk)",
        id="bad language tag in a definition",
    ),
    pytest.param(_set(["id"], "credly-9f1e2d3c-issued"), "id", "id", id="non-UUID id"),
    pytest.param(_set(["timestamp"], "2026-11-20T14:03:10"), "timestamp", "timestamp", id="timestamp without zone"),
    pytest.param(
        _set(["context", "extensions", f"{EXT}/extensions/issuer"], {"name": "Acme Corp", "url": None}),
        "context.extensions",
        "issuer",
        id="null inside an extension",
    ),
    pytest.param(
        _set(["context", "extensions"], {}), "context.extensions", "context.extensions", id="empty extensions"
    ),
    pytest.param(_add_context_agents, "context", "contextAgents", id="contextAgents in 1.0.3"),
    pytest.param(_set(["stored"], "2026-11-20T14:03:11.000Z"), "", "stored", id="stored"),
    pytest.param(_set(["version"], "1.0.3"), "", "version", id="version"),
    pytest.param(
        _set(["authority"], {"objectType": "Agent", "mbox": "mailto:lrs@example.com"}), "", "authority", id="authority"
    ),
]


@pytest.mark.parametrize(("change", "path_prefix", "names"), BROKEN)
def test_broken_statement_is_rejected(change, path_prefix, names):
    assert_invalid(broken(change), path_prefix, names)


def test_context_agents_are_accepted_in_xapi_2_0_0_mode():
    statement = broken(_add_context_agents)

    validate_statement(statement, "2.0.0")


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_stored_and_version_are_rejected_in_both_modes(version):
    assert_invalid(broken(_set(["stored"], "2026-11-20T14:03:11.000Z")), "", "stored", version)
    assert_invalid(broken(_set(["version"], "2.0.0")), "", "version", version)


# -- "never null values, never empty objects or arrays" (section 2), wherever they are ----------------

NULLS_AND_EMPTIES = [
    # (change, path prefix, xAPI version)
    pytest.param(_set(["object", "definition"], None), "object.definition", "1.0.3", id="null definition"),
    pytest.param(
        _set(["context", "contextActivities"], None), "context.contextActivities", "1.0.3", id="null contextActivities"
    ),
    pytest.param(_set(["context", "registration"], None), "context.registration", "1.0.3", id="null registration"),
    pytest.param(_set(["context", "language"], None), "context.language", "1.0.3", id="null language"),
    pytest.param(_set(["context", "contextAgents"], None), "context.contextAgents", "2.0.0", id="null contextAgents"),
    pytest.param(_set(["context", "contextAgents"], []), "context.contextAgents", "2.0.0", id="empty contextAgents"),
    pytest.param(_set(["context", "contextGroups"], None), "context.contextGroups", "2.0.0", id="null contextGroups"),
    pytest.param(_set(["result", "response"], None), "result.response", "1.0.3", id="null response"),
    pytest.param(
        _set(["context", "contextActivities", "category"], []),
        "context.contextActivities",
        "1.0.3",
        id="empty category",
    ),
    pytest.param(_set(["result"], {}), "result", "1.0.3", id="empty result"),
]


@pytest.mark.parametrize(("change", "path_prefix", "version"), NULLS_AND_EMPTIES)
def test_nulls_and_empties_are_rejected_everywhere(change, path_prefix, version):
    statement = broken(change)

    with pytest.raises(InvalidStatement) as caught:
        validate_statement(statement, version)

    assert caught.value.path.startswith(path_prefix), caught.value.path


@pytest.mark.parametrize("timestamp", ["2026-13-45T10:00:00Z", "2026-02-30T10:00:00.000Z", "2026-11-20T25:61:00Z"])
def test_timestamp_must_be_a_real_date_and_time(timestamp):
    assert_invalid(broken(_set(["timestamp"], timestamp)), "timestamp", "timestamp")


def test_a_text_accepted_before_does_not_vouch_for_another_and_a_refused_one_stays_refused():
    good = copy.deepcopy(VALID)
    validate_statement(good)  # its IRIs and mbox accepted, and remembered
    for _ in range(2):  # refused the first time, and again: a refusal is never remembered
        bad = copy.deepcopy(VALID)
        bad["verb"]["id"] = good["verb"]["id"] + " with a space"
        with pytest.raises(InvalidStatement, match="verb.id"):
            validate_statement(bad)
        bad = copy.deepcopy(VALID)
        bad["actor"]["mbox"] = good["actor"]["mbox"].replace("@", "")
        with pytest.raises(InvalidStatement, match="actor.mbox"):
            validate_statement(bad)


def test_the_accepted_texts_kept_are_bounded():
    from chalicelib.xapi import validate

    for n in range(validate._Accepted.LIMIT + 10):
        statement = copy.deepcopy(VALID)
        statement["object"]["id"] = f"https://badges.example.org/classes/{n}"
        validate_statement(statement)
    assert len(validate._is_iri.seen) <= validate._Accepted.LIMIT
