"""Credly event details, badges and list pages -> statements (docs/statements.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.errors import DetailsRequired, InputError
from tests.support.helpers import (
    BADGE_TYPE,
    BADGEASSERTION_EXT,
    BADGECLASS_EXT,
    CONNECTOR_ACCOUNT,
    EXT,
    RECIPE,
    VERB_ACCEPT,
    VERB_EARNED,
    VERB_EXPIRED,
    VERB_REJECT,
    VERB_REVOKED,
    VERB_VOIDED,
    dumps,
    fixture,
    ifis,
    make_translator,
    only,
    statement_id,
    translate,
    verbs,
)

BADGE_ID = "9f1e2d3c-4b5a-4697-8877-665544332211"
TEMPLATE_URL = "https://www.credly.com/org/acme-corp/badge/python-expert"
BADGE_URL = "https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211"
ADA = {"name": "Ada Lovelace", "mbox": "mailto:ada.lovelace@example.com"}

ISSUED_ID = statement_id(f"credly|{BADGE_ID}|issued")
ACCEPTED_ID = statement_id(f"credly|{BADGE_ID}|accepted")
REVOKED_ID = statement_id(f"credly|{BADGE_ID}|revoked")
VOIDING_ID = statement_id(f"credly|{BADGE_ID}|revoked|void")
EXPIRED_ID = statement_id(f"credly|{BADGE_ID}|expired")


def credly(name: str) -> dict:
    return fixture(f"credly/{name}.json")


def statements_of(document: object, **kwargs) -> list[dict]:
    return translate("credly", document, **kwargs).statements


def badge_of(name: str) -> dict:
    """The bare badge inside an event-details fixture."""
    return credly(name)["data"]["badge"]


def page(*badges: dict) -> dict:
    return {"data": list(badges), "metadata": {"count": len(badges), "next_page_url": None}}


def assert_learner(actor: dict) -> None:
    assert actor["name"] == ADA["name"]
    assert actor["mbox"] == ADA["mbox"]
    assert ifis(actor) == {"mbox"}


# -- badge.created ---------------------------------------------------------------------------


def test_badge_created_gives_one_earned_statement():
    [statement] = statements_of(credly("event_badge_created"))

    assert statement["id"] == ISSUED_ID
    assert_learner(statement["actor"])
    assert statement["verb"] == {"id": VERB_EARNED, "display": {"en": "earned"}}
    assert statement["timestamp"] == "2026-11-20T14:03:10.000Z"


def test_badge_created_object_is_the_template():
    [statement] = statements_of(credly("event_badge_created"))
    activity = statement["object"]

    assert activity["id"] == TEMPLATE_URL
    definition = activity["definition"]
    assert definition["type"] == BADGE_TYPE
    assert definition["name"] == {"en": "Python Expert"}
    assert definition["description"] == {"en": "Writes idiomatic, tested Python and reviews others' code."}
    badge_class = definition["extensions"][BADGECLASS_EXT]
    assert badge_class["@id"] == TEMPLATE_URL
    assert badge_class["image"] == "https://images.credly.com/images/c3d4e5f6/python-expert.png"


def test_badge_created_result_names_the_learners_assertion():
    [statement] = statements_of(credly("event_badge_created"))

    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": BADGE_URL}


def test_badge_created_context():
    [statement] = statements_of(credly("event_badge_created"))
    context = statement["context"]

    assert context["platform"] == "Credly"
    assert context["contextActivities"]["category"] == [RECIPE]
    extensions = context["extensions"]
    assert extensions[f"{EXT}/extensions/skills"] == ["Python", "Code Review"]
    assert extensions[f"{EXT}/extensions/issuer"] == {
        "name": "Acme Corp",
        "url": "https://www.credly.com/organizations/acme-corp",
    }
    assert extensions[f"{EXT}/extensions/expires_at"] == "2028-11-20T00:00:00.000Z"


def test_statement_carries_nothing_from_the_delivery():
    [statement] = statements_of(credly("event_badge_created"))
    text = json.dumps(statement)

    assert "0b6f3c1e-2d4a-4f7e-9a51-7c2b8e4d1a90" not in text  # the webhook event id
    assert "14:03:11" not in text  # the delivery's occurred_at
    for forbidden in ("version", "stored", "authority"):
        assert forbidden not in statement


def test_directory_enriches_context_with_job_role_and_team():
    [statement] = statements_of(credly("event_badge_created"), directory=True)
    extensions = statement["context"]["extensions"]

    assert extensions[f"{EXT}/extensions/job_role"] == "Software Engineer"
    assert extensions[f"{EXT}/extensions/team"] == "Platform"


# -- state changes ----------------------------------------------------------------------------


def test_badge_accepted_gives_accept_statement_at_state_change_time():
    [statement] = statements_of(credly("event_badge_accepted"))

    assert statement["id"] == ACCEPTED_ID
    assert statement["verb"] == {"id": VERB_ACCEPT, "display": {"en": "accepted"}}
    assert statement["timestamp"] == "2026-11-21T08:15:00.000Z"
    assert_learner(statement["actor"])
    assert statement["object"]["id"] == TEMPLATE_URL
    assert statement["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": BADGE_URL}


def test_badge_rejected_gives_reject_statement():
    document = credly("event_badge_accepted")
    document["data"]["badge"]["state"] = "rejected"

    [statement] = statements_of(document)

    assert statement["id"] == statement_id(f"credly|{BADGE_ID}|rejected")
    assert statement["verb"]["id"] == VERB_REJECT
    assert statement["timestamp"] == "2026-11-21T08:15:00.000Z"


def test_state_changed_to_pending_is_skipped():
    document = credly("event_badge_accepted")
    document["data"]["badge"]["state"] = "pending"

    translation = translate("credly", document)

    assert translation.statements == []
    assert len(translation.skipped) == 1


# -- revocation -------------------------------------------------------------------------------


def test_badge_revoked_with_policy_both_gives_voiding_and_revoked():
    statements = statements_of(credly("event_badge_revoked"))

    assert sorted(verbs(statements)) == sorted([VERB_VOIDED, VERB_REVOKED])

    voiding = only(statements, VERB_VOIDED)
    assert voiding["id"] == VOIDING_ID
    assert voiding["actor"]["account"] == CONNECTOR_ACCOUNT
    assert ifis(voiding["actor"]) == {"account"}
    assert voiding["object"] == {"objectType": "StatementRef", "id": ISSUED_ID}

    revoked = only(statements, VERB_REVOKED)
    assert revoked["id"] == REVOKED_ID
    assert revoked["verb"] == {"id": f"{EXT}/verbs/revoked", "display": {"en": "revoked"}}
    assert_learner(revoked["actor"])
    assert revoked["object"]["id"] == TEMPLATE_URL
    assert revoked["result"]["response"] == "Issued in error"
    assert revoked["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": BADGE_URL}
    assert revoked["timestamp"] == "2027-02-02T09:00:00.000Z"


@pytest.mark.parametrize(
    ("policy", "expected_verb", "expected_id"),
    [("void", VERB_VOIDED, VOIDING_ID), ("revoke", VERB_REVOKED, REVOKED_ID)],
)
def test_revocation_policy_gives_one_statement(policy, expected_verb, expected_id):
    statements = statements_of(credly("event_badge_revoked"), env={"REVOCATION_POLICY": policy})

    assert verbs(statements) == [expected_verb]
    assert statements[0]["id"] == expected_id


def test_default_revocation_policy_is_both():
    default = statements_of(credly("event_badge_revoked"))
    both = statements_of(credly("event_badge_revoked"), env={"REVOCATION_POLICY": "both"})

    assert dumps(default) == dumps(both)


def test_badge_deleted_is_a_revocation():
    statements = statements_of(credly("event_badge_deleted"))

    assert sorted(verbs(statements)) == sorted([VERB_VOIDED, VERB_REVOKED])
    assert only(statements, VERB_VOIDED)["object"] == {"objectType": "StatementRef", "id": ISSUED_ID}
    revoked = only(statements, VERB_REVOKED)
    assert revoked["id"] == REVOKED_ID
    assert revoked["timestamp"] == "2027-03-03T10:00:00.000Z"


# -- the same badge from a list page ------------------------------------------------------------


def test_list_page_badge_gives_the_same_bytes_as_the_created_event():
    from_page = statements_of(credly("badges_page_1"))
    from_event = statements_of(credly("event_badge_created"))

    assert dumps(from_page) == dumps(from_event)


def test_single_badge_response_gives_the_same_bytes_as_the_created_event():
    single = {"data": badge_of("event_badge_created")}

    assert dumps(statements_of(single)) == dumps(statements_of(credly("event_badge_created")))


def test_bare_accepted_badge_gives_issued_and_accepted():
    statements = statements_of(page(badge_of("event_badge_accepted")))

    assert verbs(statements) == [VERB_EARNED, VERB_ACCEPT]
    issued, accepted = statements
    assert issued["id"] == ISSUED_ID
    assert issued["timestamp"] == "2026-11-20T14:03:10.000Z"
    assert accepted["id"] == ACCEPTED_ID
    assert accepted["timestamp"] == "2026-11-21T08:15:00.000Z"
    # ... and they are exactly what the webhooks of the same facts give.
    assert dumps([issued]) == dumps(statements_of(credly("event_badge_created")))
    assert dumps([accepted]) == dumps(statements_of(credly("event_badge_accepted")))


# -- documented skips and thin notifications ----------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    [
        "badge_template.created",
        "badge_template.changed",
        "badge_template.deleted",
        "pending_badge_notification.created",
    ],
)
def test_non_badge_events_are_skipped_and_counted(event_type):
    document = {
        "data": {
            "id": "7a7a7a7a-0000-4000-8000-000000000001",
            "event_type": event_type,
            "occurred_at": "2026-11-20T14:03:11.000Z",
            "organization_id": "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45",
            "badge_template": credly("event_badge_created")["data"]["badge"]["badge_template"],
        }
    }

    translation = translate("credly", document)

    assert translation.statements == []
    assert len(translation.skipped) == 1


def test_thin_webhook_notification_requires_details():
    with pytest.raises(DetailsRequired) as caught:
        translate("credly", credly("webhook_badge_created"))

    assert caught.value.resource_id == "0b6f3c1e-2d4a-4f7e-9a51-7c2b8e4d1a90"


def test_unknown_event_type_names_the_field():
    document = credly("event_badge_created")
    document["data"]["event_type"] = "badge.teleported"

    with pytest.raises(InputError) as caught:
        translate("credly", document)

    assert "event_type" in caught.value.field


@pytest.mark.parametrize(
    ("document_shape", "expected_field"),
    [
        ("event", "data.badge.recipient_email"),
        ("page", "data[0].recipient_email"),
    ],
)
def test_missing_learner_is_named_at_its_place_in_the_document(document_shape, expected_field):
    # Field paths elsewhere in the adapter carry the document prefix (e.g. a missing issued_at
    # is "data.badge.issued_at"); the missing learner identifiers should be named the same way.
    badge = badge_of("event_badge_created")
    del badge["recipient_email"], badge["user"]["email"], badge["issuer_earner_id"]
    document = {"data": {"event_type": "badge.created", "badge": badge}} if document_shape == "event" else page(badge)

    with pytest.raises(InputError) as caught:
        translate("credly", document)

    assert caught.value.field == expected_field


@pytest.mark.parametrize(
    ("document_shape", "expected_field"),
    [("event", "data.badge.issued_at"), ("page", "data[0].issued_at")],
)
def test_missing_issued_at_is_named_at_its_place_in_the_document(document_shape, expected_field):
    badge = badge_of("event_badge_created")
    del badge["issued_at"]
    document = {"data": {"event_type": "badge.created", "badge": badge}} if document_shape == "event" else page(badge)

    with pytest.raises(InputError) as caught:
        translate("credly", document)

    assert caught.value.field == expected_field


# -- expiry -------------------------------------------------------------------------------------


def test_badge_already_expired_at_ingest_gets_an_expired_statement():
    as_of = datetime(2028, 12, 1, tzinfo=UTC)

    statements = statements_of(credly("event_badge_created"), as_of=as_of)

    assert verbs(statements) == [VERB_EARNED, VERB_EXPIRED]
    expired = only(statements, VERB_EXPIRED)
    assert expired["id"] == EXPIRED_ID
    assert expired["verb"] == {"id": VERB_EXPIRED, "display": {"en": "expired"}}
    assert expired["timestamp"] == "2028-11-20T00:00:00.000Z"
    assert_learner(expired["actor"])
    assert expired["object"]["id"] == TEMPLATE_URL
    assert expired["result"]["extensions"][BADGEASSERTION_EXT] == {"@id": BADGE_URL}


@pytest.mark.parametrize(
    "as_of",
    [
        datetime(2026, 11, 28, tzinfo=UTC),
        datetime(2028, 11, 19, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_badge_not_yet_expired_gets_no_expired_statement(as_of):
    statements = statements_of(credly("event_badge_created"), as_of=as_of)

    assert verbs(statements) == [VERB_EARNED]


def test_expired_statement_does_not_depend_on_how_late_it_is_seen():
    early = statements_of(credly("event_badge_created"), as_of=datetime(2028, 11, 21, tzinfo=UTC))
    late = statements_of(credly("event_badge_created"), as_of=datetime(2031, 1, 1, tzinfo=UTC))

    assert dumps(early) == dumps(late)


# -- reproducibility ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["event_badge_created", "event_badge_accepted", "event_badge_revoked", "event_badge_deleted", "badges_page_1"],
)
def test_translating_twice_gives_identical_bytes(name):
    translator = make_translator()
    first = translator.translate("credly", credly(name), as_of=datetime(2029, 1, 1, tzinfo=UTC))
    again = translator.translate("credly", credly(name), as_of=datetime(2029, 1, 1, tzinfo=UTC))
    fresh = make_translator().translate("credly", credly(name), as_of=datetime(2029, 1, 1, tzinfo=UTC))

    assert first.statements
    assert dumps(first.statements) == dumps(again.statements) == dumps(fresh.statements)
