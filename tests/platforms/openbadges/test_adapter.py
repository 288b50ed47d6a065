"""Open Badges 2.0 assertions and 3.0 credentials -> statements."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from chalicelib.errors import UnidentifiedLearner
from tests.support.helpers import (
    BADGEASSERTION_EXT,
    BADGECLASS_EXT,
    CONNECTOR_ACCOUNT,
    EXT,
    RECIPE,
    VERB_EARNED,
    VERB_REVOKED,
    VERB_VOIDED,
    dumps,
    fixture,
    ifis,
    only,
    statement_id,
    translate,
    verbs,
)

OB2_ID = "https://badges.example.org/assertions/4a1d5c9e-0001"
OB2_BADGE_CLASS = "https://badges.example.org/badgeclasses/data-literacy"
OB3_ID = "urn:uuid:6a2f41a3-c54c-4f6e-9c1a-0e5b9d3d2c11"
OB3_ACHIEVEMENT = "https://credentials.example.edu/achievements/cloud-foundations"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ob2() -> dict:
    return fixture("openbadges/ob2_assertion.json")


def ob3() -> dict:
    return fixture("openbadges/ob3_credential.json")


def vc11(document: dict) -> dict:
    """The same credential in VC 1.1 terms: issuanceDate / expirationDate."""
    document["issuanceDate"] = document.pop("validFrom")
    document["expirationDate"] = document.pop("validUntil")
    del document["awardedDate"]
    return document


def statements_of(document: object, **kwargs) -> list[dict]:
    return translate("openbadges", document, **kwargs).statements


# -- Open Badges 2.0 ------------------------------------------------------------------------------


def test_ob2_hashed_salted_recipient_resolves_against_the_directory():
    [statement] = statements_of(ob2(), directory=True)

    assert statement["id"] == statement_id(f"openbadges|{OB2_ID}|issued")
    assert statement["actor"]["mbox"] == "mailto:katherine.johnson@example.com"
    assert statement["actor"]["name"] == "Katherine Johnson"
    assert ifis(statement["actor"]) == {"mbox"}
    extensions = statement["context"]["extensions"]
    assert extensions[f"{EXT}/extensions/job_role"] == "Data Analyst"
    assert extensions[f"{EXT}/extensions/team"] == "Flight Research"


def test_ob2_statement_shape():
    [statement] = statements_of(ob2(), directory=True)

    assert statement["verb"]["id"] == VERB_EARNED
    assert statement["object"]["id"] == OB2_BADGE_CLASS
    assert statement["object"]["definition"]["name"] == {"en": "Data Literacy"}
    assert statement["object"]["definition"]["extensions"][BADGECLASS_EXT] == {
        "@id": OB2_BADGE_CLASS,
        "image": "https://badges.example.org/images/data-literacy.png",
        "criteria": "https://badges.example.org/criteria/data-literacy",
        "issuer": "https://badges.example.org/issuer",
    }
    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": OB2_ID}
    context = statement["context"]
    assert context["platform"] == "Open Badges"
    assert context["contextActivities"]["category"] == [RECIPE]
    assert context["extensions"][f"{EXT}/extensions/skills"] == ["data", "analytics", "Data analysis"]
    assert context["extensions"][f"{EXT}/extensions/issuer"] == {
        "name": "Example Learning Org",
        "url": "https://example.org",
    }


def test_ob2_issued_on_with_offset_becomes_utc():
    [statement] = statements_of(ob2(), directory=True)

    # "2026-10-01T09:00:00+02:00" and "2027-10-01T09:00:00+02:00"
    assert statement["timestamp"] == "2026-10-01T07:00:00.000Z"
    assert statement["context"]["extensions"][f"{EXT}/extensions/expires_at"] == "2027-10-01T07:00:00.000Z"


def test_ob2_hashed_recipient_without_directory_is_unidentified():
    with pytest.raises(UnidentifiedLearner) as caught:
        translate("openbadges", ob2(), directory=False)

    assert "@" not in str(caught.value)


def test_ob2_plain_recipient():
    document = ob2()
    document["recipient"] = {"type": "email", "hashed": False, "identity": " Katherine.Johnson@Example.com "}

    [statement] = statements_of(document)

    assert statement["actor"]["mbox"] == "mailto:katherine.johnson@example.com"
    assert ifis(statement["actor"]) == {"mbox"}


def test_ob2_hashed_recipient_without_salt():
    document = ob2()
    document["recipient"] = {
        "type": "email",
        "hashed": True,
        "identity": "sha256$" + sha256_hex("katherine.johnson@example.com"),
    }

    [statement] = statements_of(document, directory=True)

    assert statement["actor"]["mbox"] == "mailto:katherine.johnson@example.com"
    assert statement["actor"]["name"] == "Katherine Johnson"


def test_ob2_revoked_full_assertion_gives_issued_voiding_and_revoked():
    document = ob2()
    document["revoked"] = True
    document["revocationReason"] = "Capstone was plagiarised"

    statements = statements_of(document, directory=True)

    assert sorted(verbs(statements)) == sorted([VERB_EARNED, VERB_VOIDED, VERB_REVOKED])
    issued_id = statement_id(f"openbadges|{OB2_ID}|issued")
    issued = only(statements, VERB_EARNED)
    assert issued["id"] == issued_id
    assert issued["timestamp"] == "2026-10-01T07:00:00.000Z"

    voiding = only(statements, VERB_VOIDED)
    assert voiding["id"] == statement_id(f"openbadges|{OB2_ID}|revoked|void")
    assert voiding["object"] == {"objectType": "StatementRef", "id": issued_id}
    assert voiding["actor"]["account"] == CONNECTOR_ACCOUNT

    revoked = only(statements, VERB_REVOKED)
    assert revoked["id"] == statement_id(f"openbadges|{OB2_ID}|revoked")
    assert revoked["actor"]["mbox"] == "mailto:katherine.johnson@example.com"
    assert revoked["result"]["response"] == "Capstone was plagiarised"
    # OB 2.0 gives no revocation time: the revocation is not dated at issue time.
    assert "timestamp" not in voiding
    assert "timestamp" not in revoked


@pytest.mark.parametrize(
    "document",
    [
        {"id": "https://badges.example.org/assertions/4a1d5c9e-0002", "revoked": True},
        {"type": "Assertion", "id": "https://badges.example.org/assertions/4a1d5c9e-0002", "revoked": True},
    ],
    ids=["untyped", "typed"],
)
@pytest.mark.parametrize("policy", ["both", "void", "revoke"])
def test_minimal_revoked_assertion_gives_only_a_voiding_statement(document, policy):
    assertion_id = "https://badges.example.org/assertions/4a1d5c9e-0002"

    statements = statements_of(document, env={"REVOCATION_POLICY": policy})

    assert len(statements) == 1
    [voiding] = statements
    assert voiding["id"] == statement_id(f"openbadges|{assertion_id}|revoked|void")
    assert voiding["verb"]["id"] == VERB_VOIDED
    assert voiding["actor"]["account"] == CONNECTOR_ACCOUNT
    assert voiding["object"] == {
        "objectType": "StatementRef",
        "id": statement_id(f"openbadges|{assertion_id}|issued"),
    }
    assert "timestamp" not in voiding


# -- Open Badges 3.0 ------------------------------------------------------------------------------


def test_ob3_credential():
    [statement] = statements_of(ob3())

    assert statement["id"] == statement_id(f"openbadges|{OB3_ID}|issued")
    assert statement["verb"]["id"] == VERB_EARNED
    assert statement["actor"]["mbox"] == "mailto:alan.turing@example.com"
    assert statement["object"]["id"] == OB3_ACHIEVEMENT
    assert statement["object"]["definition"]["name"] == {"en": "Cloud Architecture Foundations"}
    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": OB3_ID}
    assert statement["timestamp"] == "2026-09-15T00:00:00.000Z"
    extensions = statement["context"]["extensions"]
    assert extensions[f"{EXT}/extensions/expires_at"] == "2029-09-15T00:00:00.000Z"
    assert extensions[f"{EXT}/extensions/skills"] == ["cloud", "architecture"]


def test_vc_1_1_dates_give_the_same_statement_as_vc_2_0_dates():
    [vc2_statement] = statements_of(ob3())
    [vc1_statement] = statements_of(vc11(ob3()))

    assert vc1_statement["timestamp"] == "2026-09-15T00:00:00.000Z"
    assert vc1_statement["context"]["extensions"][f"{EXT}/extensions/expires_at"] == "2029-09-15T00:00:00.000Z"
    assert dumps([vc1_statement]) == dumps([vc2_statement])


def test_ob3_hashed_identifier_resolves_against_the_directory():
    document = ob3()
    document["credentialSubject"]["identifier"] = [
        {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": "sha256$" + sha256_hex("dorothy.vaughan@example.com" + "pepper"),
            "identityType": "emailAddress",
            "salt": "pepper",
        }
    ]

    [statement] = statements_of(document, directory=True)

    assert statement["actor"]["mbox"] == "mailto:dorothy.vaughan@example.com"
    assert statement["actor"]["name"] == "Dorothy Vaughan"
    assert statement["context"]["extensions"][f"{EXT}/extensions/team"] == "Computing"


def test_ob3_already_expired_gets_an_expired_statement_at_valid_until():
    statements = statements_of(ob3(), as_of=datetime(2030, 1, 1, tzinfo=UTC))

    expired = only(statements, "http://id.tincanapi.com/verb/expired")
    assert expired["id"] == statement_id(f"openbadges|{OB3_ID}|expired")
    assert expired["timestamp"] == "2029-09-15T00:00:00.000Z"


def test_a_badge_class_given_only_as_an_iri_is_refused_not_fetched(monkeypatch):
    import requests

    from chalicelib.errors import InputError

    def no_network(*args, **kwargs):
        raise AssertionError("the adapter must not fetch anything a payload names")

    monkeypatch.setattr(requests.Session, "request", no_network)
    document = {**ob2(), "badge": "http://169.254.169.254/latest/meta-data/"}
    with pytest.raises(InputError, match="badge: is an IRI"):
        statements_of(document)
