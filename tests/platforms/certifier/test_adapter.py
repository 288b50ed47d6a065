"""Certifier webhook bodies (credentials, shares, views) -> statements."""

from __future__ import annotations

import re

import pytest

from chalicelib.errors import DetailsRequired, InputError, InvalidStatement
from chalicelib.xapi.validate import validate_statement
from tests.support.helpers import (
    BADGE_TYPE,
    BADGEASSERTION_EXT,
    BADGECLASS_EXT,
    EXT,
    RECIPE,
    SHARE_MEDIUM_EXT,
    VERB_EARNED,
    VERB_SHARED,
    VERB_VIEWED,
    fixture,
    ifis,
    statement_id,
    translate,
)

CREDENTIAL_ID = "01JD8Q1A2B3C4D5E6F7G8H9J0K"
GROUP_IRI = "https://app.certifier.io/groups/01JC0GROUPSECURITY0000001"
ASSERTION_URL = "https://credsverse.com/credentials/7c4a9e2b-55d1-4a0c-9f3e-1b2d3c4e5f6a"
GRACE = {"objectType": "Agent", "name": "Grace Hopper", "mbox": "mailto:grace.hopper@example.com"}
EARNER_EXT = f"{EXT}/extensions/earner"

# Every interaction eventType Certifier documents: (eventType, verb, share medium or None).
# For credential_downloaded the contract names no medium: any one lower-case word will do.
INTERACTIONS = [
    ("credential_viewed", VERB_VIEWED, "web"),
    ("credential_verified", VERB_VIEWED, "verification"),
    ("credential_shared_to_linkedin", VERB_SHARED, "linkedin"),
    ("credential_added_to_linkedin_profile", VERB_SHARED, "linkedin"),
    ("credential_shared_to_facebook", VERB_SHARED, "facebook"),
    ("credential_shared_to_twitter", VERB_SHARED, "twitter"),
    ("credential_shared_to_messenger", VERB_SHARED, "messenger"),
    ("credential_shared_to_whatsapp", VERB_SHARED, "whatsapp"),
    ("credential_shared_to_pinterest", VERB_SHARED, "pinterest"),
    ("credential_shared_to_telegram", VERB_SHARED, "telegram"),
    ("credential_shared_to_weibo", VERB_SHARED, "weibo"),
    ("credential_link_copied", VERB_SHARED, "link"),
    ("credential_downloaded", VERB_SHARED, None),
]
WEBHOOK_TYPE = {
    "credential_viewed": "credential.viewed",
    "credential_verified": "credential.viewed",
    "credential_downloaded": "credential.downloaded",
}


def certifier(name: str) -> dict:
    return fixture(f"certifier/{name}.json")


def one_statement(document: dict, **kwargs) -> dict:
    statements = translate("certifier", document, **kwargs).statements
    assert len(statements) == 1, statements
    return statements[0]


def interaction(event_type: str, *, interaction_id: str | None = None, by: str = "recipient") -> dict:
    """The LinkedIn share fixture turned into another interaction."""
    document = certifier("webhook_credential_shared_linkedin")
    document["type"] = WEBHOOK_TYPE.get(event_type, "credential.shared")
    details = document["data"]["credentialInteraction"]
    details["eventType"] = event_type
    details["triggeredBy"] = by
    if interaction_id is None:
        del details["id"]
    else:
        details["id"] = interaction_id
    return document


# -- issued -------------------------------------------------------------------------------------


def test_issued_gives_earned_statement():
    statement = one_statement(certifier("webhook_credential_issued"))

    assert statement["id"] == statement_id(f"certifier|{CREDENTIAL_ID}|issued")
    assert statement["verb"] == {"id": VERB_EARNED, "display": {"en": "earned"}}
    assert statement["actor"]["name"] == "Grace Hopper"
    assert statement["actor"]["mbox"] == "mailto:grace.hopper@example.com"
    assert ifis(statement["actor"]) == {"mbox"}
    # issueDate is date-only: midnight UTC.
    assert statement["timestamp"] == "2026-11-22T00:00:00.000Z"
    assert statement["context"]["platform"] == "Certifier"
    assert statement["context"]["contextActivities"]["category"] == [RECIPE]


def test_issued_object_is_the_group_and_result_the_public_credential():
    statement = one_statement(certifier("webhook_credential_issued"))

    assert statement["object"]["id"] == GROUP_IRI
    definition = statement["object"]["definition"]
    assert definition["type"] == BADGE_TYPE
    assert definition["name"] == {"en": "Secure Coding Practitioner"}
    assert definition["extensions"][BADGECLASS_EXT]["@id"] == GROUP_IRI
    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": ASSERTION_URL}


def test_issued_uses_the_configured_group_and_public_bases():
    env = {
        "CERTIFIER_GROUP_BASE": "https://certs.example.com/groups",
        "CERTIFIER_PUBLIC_BASE": "https://verify.example.com/c/",
    }

    statement = one_statement(certifier("webhook_credential_issued"), env=env)

    assert statement["object"]["id"] == "https://certs.example.com/groups/01JC0GROUPSECURITY0000001"
    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {
        "@id": "https://verify.example.com/c/7c4a9e2b-55d1-4a0c-9f3e-1b2d3c4e5f6a"
    }


def test_issued_statement_carries_nothing_from_the_delivery():
    statement = one_statement(certifier("webhook_credential_issued"))
    text = str(statement)

    assert "evt_01JD8Q2W6X4K9P3M7N5B2C1V0Z" not in text
    assert "11:30:05" not in text


def test_created_as_draft_is_skipped():
    document = certifier("webhook_credential_issued")
    document["type"] = "credential.created"
    document["data"]["credential"]["status"] = "draft"

    translation = translate("certifier", document)

    assert translation.statements == []
    assert len(translation.skipped) == 1


# -- shares -------------------------------------------------------------------------------------


def test_shared_to_linkedin():
    statement = one_statement(certifier("webhook_credential_shared_linkedin"))

    assert statement["id"] == statement_id("certifier|ci_01JD9A0S1H2A3R4E5D6L7N8K9D")
    assert statement["verb"] == {"id": VERB_SHARED, "display": {"en": "shared"}}
    assert statement["actor"]["mbox"] == "mailto:grace.hopper@example.com"
    assert statement["timestamp"] == "2026-11-23T07:45:11.000Z"
    assert statement["context"]["extensions"][SHARE_MEDIUM_EXT] == "linkedin"


def test_shared_object_is_the_learners_credential_grouped_under_the_group():
    statement = one_statement(certifier("webhook_credential_shared_linkedin"))

    assert statement["object"]["id"] == ASSERTION_URL
    assert statement["object"]["definition"]["type"] == BADGE_TYPE
    grouping = statement["context"]["contextActivities"]["grouping"]
    assert [activity["id"] for activity in grouping] == [GROUP_IRI]
    assert statement["context"]["contextActivities"]["category"] == [RECIPE]


def test_share_without_interaction_id_is_keyed_by_credential_kind_channel_and_time():
    statement = one_statement(interaction("credential_shared_to_linkedin", interaction_id=None))

    key = f"certifier|{CREDENTIAL_ID}|shared|linkedin|2026-11-23T07:45:11.000Z"
    assert statement["id"] == statement_id(key)


@pytest.mark.parametrize(("event_type", "verb", "medium"), INTERACTIONS, ids=[i[0] for i in INTERACTIONS])
def test_every_documented_interaction_type(event_type, verb, medium):
    statement = one_statement(interaction(event_type, interaction_id=f"ci_{event_type}"))

    assert statement["verb"]["id"] == verb
    assert statement["id"] == statement_id(f"certifier|ci_{event_type}")
    assert statement["object"]["id"] == ASSERTION_URL
    extensions = statement["context"].get("extensions", {})
    # Shares and views alike carry their channel (a view: the one it came through).
    assert re.fullmatch(r"[a-z]+", extensions[SHARE_MEDIUM_EXT])
    if medium is not None:
        assert extensions[SHARE_MEDIUM_EXT] == medium


def test_unknown_interaction_type_names_the_field():
    with pytest.raises(InputError) as caught:
        translate("certifier", interaction("credential_shared_to_myspace", interaction_id="ci_x"))

    assert caught.value.field == "data.credentialInteraction.eventType"
    assert "data.credentialInteraction.eventType" in str(caught.value)


# -- views --------------------------------------------------------------------------------------


def test_guest_view_in_xapi_1_0_3():
    statement = one_statement(certifier("webhook_credential_viewed_guest"))

    assert statement["id"] == statement_id("certifier|ci_01JDB7V1E2W3E4D5G6U7E8S9T0")
    assert statement["verb"] == {"id": VERB_VIEWED, "display": {"en": "viewed"}}
    assert statement["actor"]["account"] == {"homePage": "https://credsverse.com", "name": "guest"}
    assert ifis(statement["actor"]) == {"account"}
    assert statement["timestamp"] == "2026-11-24T16:02:39.000Z"
    assert statement["object"]["id"] == ASSERTION_URL
    assert statement["context"]["extensions"][EARNER_EXT] == GRACE
    assert "contextAgents" not in statement["context"]
    assert "contextGroups" not in statement["context"]


def test_guest_view_in_xapi_2_0_0_puts_the_earner_in_context_agents():
    statement = one_statement(certifier("webhook_credential_viewed_guest"), env={"LRS_XAPI_VERSION": "2.0.0"})

    assert statement["actor"]["account"]["name"] == "guest"
    [context_agent] = statement["context"]["contextAgents"]
    assert context_agent["objectType"] == "contextAgent"
    assert context_agent["agent"] == GRACE
    assert context_agent["relevantTypes"]
    assert all(re.match(r"^[a-z][a-z0-9+.-]*:", iri) for iri in context_agent["relevantTypes"])
    assert EARNER_EXT not in statement["context"].get("extensions", {})
    validate_statement(statement, "2.0.0")
    with pytest.raises(InvalidStatement):
        validate_statement(statement, "1.0.3")


def test_view_by_the_recipient_has_the_learner_as_actor():
    statement = one_statement(interaction("credential_viewed", interaction_id="ci_self", by="recipient"))

    assert statement["actor"]["mbox"] == "mailto:grace.hopper@example.com"
    assert ifis(statement["actor"]) == {"mbox"}
    assert EARNER_EXT not in statement["context"].get("extensions", {})


# -- deliveries that cannot be translated as they are --------------------------------------------


def test_body_with_only_the_resource_requires_details():
    document = certifier("webhook_credential_issued")
    del document["data"]["credential"]

    with pytest.raises(DetailsRequired) as caught:
        translate("certifier", document)

    assert caught.value.resource_id == CREDENTIAL_ID
