"""The deployment's identity setting: which inverse functional identifier the actor gets."""

from __future__ import annotations

import hashlib
import json

import pytest

from chalicelib.errors import SettingsError, UnidentifiedLearner
from chalicelib.settings import load_settings
from tests.support.helpers import fixture, ifis, translate

HOMEPAGE = "https://people.example.com"
ACCOUNT_ENV = {"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": HOMEPAGE}


def credly_created() -> dict:
    return fixture("credly/event_badge_created.json")


def badge(document: dict) -> dict:
    return document["data"]["badge"]


def actors(translation) -> list[dict]:
    return [s["actor"] for s in translation.statements]


# -- mbox_sha1sum ---------------------------------------------------------------------------------


def test_mbox_sha1sum_is_sha1_of_the_lower_cased_mailto_iri():
    translation = translate("credly", credly_created(), env={"IDENTITY_IFI": "mbox_sha1sum"})
    [actor] = actors(translation)

    # The badge says "Ada.Lovelace@Example.com".
    assert actor["mbox_sha1sum"] == hashlib.sha1(b"mailto:ada.lovelace@example.com").hexdigest()
    assert ifis(actor) == {"mbox_sha1sum"}
    assert actor["name"] == "Ada Lovelace"


def test_mbox_sha1sum_keeps_the_email_out_of_every_statement():
    env = {"IDENTITY_IFI": "mbox_sha1sum"}
    documents = [
        ("credly", credly_created()),
        ("credly", fixture("credly/event_badge_revoked.json")),
        ("certifier", fixture("certifier/webhook_credential_viewed_guest.json")),
    ]
    for source, document in documents:
        text = json.dumps(translate(source, document, env=env, directory=True).statements).lower()
        assert "@example.com" not in text, source


def test_guest_view_earner_uses_the_configured_ifi():
    translation = translate(
        "certifier", fixture("certifier/webhook_credential_viewed_guest.json"), env={"IDENTITY_IFI": "mbox_sha1sum"}
    )
    [statement] = translation.statements
    earner = statement["context"]["extensions"]["https://credential-connector.dev/xapi/extensions/earner"]

    assert earner["mbox_sha1sum"] == hashlib.sha1(b"mailto:grace.hopper@example.com").hexdigest()
    assert ifis(earner) == {"mbox_sha1sum"}


# -- account --------------------------------------------------------------------------------------


def test_account_name_is_the_employee_id_found_by_email():
    document = credly_created()
    del badge(document)["issuer_earner_id"]  # only the email can find the learner

    [actor] = actors(translate("credly", document, env=ACCOUNT_ENV, directory=True))

    assert actor["account"] == {"homePage": HOMEPAGE, "name": "E-1001"}
    assert ifis(actor) == {"account"}


@pytest.mark.parametrize("recipient_email", [None, "ada@personal.example.net"], ids=["no email", "unknown email"])
def test_account_name_is_the_employee_id_found_by_issuer_earner_id(recipient_email):
    document = credly_created()
    del badge(document)["user"]["email"]
    if recipient_email is None:
        del badge(document)["recipient_email"]
    else:
        badge(document)["recipient_email"] = recipient_email
    assert badge(document)["issuer_earner_id"] == "E-1001"

    [actor] = actors(translate("credly", document, env=ACCOUNT_ENV, directory=True))

    assert actor["account"] == {"homePage": HOMEPAGE, "name": "E-1001"}
    assert ifis(actor) == {"account"}


def test_account_mode_for_a_hashed_open_badges_recipient():
    translation = translate("openbadges", fixture("openbadges/ob2_assertion.json"), env=ACCOUNT_ENV, directory=True)
    [actor] = actors(translation)

    assert actor["account"] == {"homePage": HOMEPAGE, "name": "E-3003"}
    assert ifis(actor) == {"account"}


def test_account_mode_needs_a_homepage():
    with pytest.raises(SettingsError):
        load_settings({"IDENTITY_IFI": "account"})


def test_unknown_ifi_setting_is_rejected():
    with pytest.raises(SettingsError):
        load_settings({"IDENTITY_IFI": "email"})


def test_account_mode_learner_not_in_directory_is_unidentified_without_leaking_the_email():
    document = credly_created()
    badge(document)["recipient_email"] = "Someone.Else@Example.net"
    del badge(document)["user"]["email"]
    del badge(document)["issuer_earner_id"]

    with pytest.raises(UnidentifiedLearner) as caught:
        translate("credly", document, env=ACCOUNT_ENV, directory=True)

    message = str(caught.value)
    assert "someone.else" not in message.lower()
    assert "@" not in message


def test_per_assertion_salts_keep_memory_bounded_and_every_lookup_right():
    from chalicelib.events import Learner
    from chalicelib.identity import SALT_TABLES, DirectoryEntry, LearnerDirectory, sha256_identity

    people = [
        DirectoryEntry(
            employee_id=f"E-{n}", email=f"p{n}@example.com", name=f"P {n}", job_role="", team="", lms_account=""
        )
        for n in range(200)
    ]
    directory = LearnerDirectory(people)
    for n in range(1000):  # a salt per assertion, as Open Badges issuers may do
        salt, person = f"salt-{n}", people[n % 200]
        found = directory.find(Learner(email_sha256=sha256_identity(person.email, salt), email_salt=salt))
        assert found == person
        assert len(directory._by_salted_hash) <= SALT_TABLES
    recent = f"salt-{999}"
    assert recent in directory._by_salted_hash  # the latest salts stay cached: a batch reuses its salt
