"""Each platform's own recipient id finds the learner through that platform's directory column."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.errors import UnidentifiedLearner
from chalicelib.platforms import PLATFORMS
from tests.support.helpers import fixture, make_translator

HOMEPAGE = "https://people.example.com"
UNKNOWN_EMAIL = "ada@personal.example.net"  # an address HR does not know


def accredible() -> tuple[dict, str]:
    document = fixture("accredible/credentials_search.json")
    recipient = document["credentials"][0]["recipient"]
    recipient["email"], recipient["meta_data"] = UNKNOWN_EMAIL, {}
    return document, str(recipient["id"])


def accredible_v2() -> tuple[dict, str]:
    """The flat shape of POST /v2/credentials/search."""
    document, recipient_id = accredible()
    credential = document["credentials"][0]
    recipient = credential.pop("recipient")
    credential.update(
        recipient_name=recipient["name"],
        recipient_email=recipient["email"],
        recipient_id=recipient["id"],
        recipient_meta_data={},
    )
    return document, recipient_id


def certifier() -> tuple[dict, str]:
    document = fixture("certifier/webhook_credential_issued.json")
    credential = document["data"]["credential"]
    credential["customAttributes"] = {}
    credential["recipient"].update(id="01jmerb62apgachxwx6db76c7s", email=UNKNOWN_EMAIL)
    return document, "01jmerb62apgachxwx6db76c7s"


def badgr() -> tuple[dict, str]:
    """An assertion to a recipient named by a URL (an identity of type `url`, not hashed)."""
    page = fixture("badgr/assertions_changed.json")
    assertion = page["result"][0]
    assertion["badgeclass"] = fixture("badgr/badgeclass.json")["result"][0]
    assertion["recipient"] = {"identity": "https://people.example.org/u/ada", "hashed": False, "type": "url"}
    return {**page, "result": [assertion]}, "https://people.example.org/u/ada"


def badgr_email() -> tuple[dict, str]:
    """The usual assertion: an email identity, given in plain text beside its hash."""
    page, _ = badgr()
    page["result"][0]["recipient"] = {
        "identity": "sha256$00",
        "hashed": True,
        "type": "email",
        "plaintextIdentity": UNKNOWN_EMAIL,
    }
    return page, UNKNOWN_EMAIL


CASES: dict[str, tuple[str, Callable[[], tuple[dict, str]]]] = {
    "accredible": ("accredible", accredible),
    "accredible v2 search": ("accredible", accredible_v2),
    "certifier": ("certifier", certifier),
    "badgr": ("badgr", badgr),
    "badgr email": ("badgr", badgr_email),
}


def actor_with(tmp_path, platform: str, document: dict, column: str, value: str) -> dict:
    """The first statement's actor, against a directory whose one person has `value` in `column`
    only (their email is another one), in account mode: only a directory match names the actor."""
    columns = sorted(f"{name}_id" for name in PLATFORMS)
    path = tmp_path / "people.csv"
    cells = [value if name == column else "" for name in columns]
    path.write_text(
        f"employee_id,email,{','.join(columns)}\nE-9,someone@else.example.com,{','.join(cells)}\n", encoding="utf-8"
    )
    translator = make_translator(
        {"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": HOMEPAGE, "LEARNER_DIRECTORY": str(path)}
    )
    return translator.translate(platform, document).statements[0]["actor"]


@pytest.mark.parametrize("case", CASES)
def test_the_platforms_own_recipient_id_finds_the_learner_in_its_column(tmp_path, case):
    platform, make = CASES[case]
    document, recipient_id = make()
    actor = actor_with(tmp_path, platform, document, f"{platform}_id", recipient_id)
    assert actor["account"] == {"homePage": HOMEPAGE, "name": "E-9"}


@pytest.mark.parametrize("case", CASES)
def test_another_platforms_column_holding_that_id_finds_no_one(tmp_path, case):
    platform, make = CASES[case]
    document, recipient_id = make()
    other = next(name for name in sorted(PLATFORMS) if name != platform)
    with pytest.raises(UnidentifiedLearner):
        actor_with(tmp_path, platform, document, f"{other}_id", recipient_id)


def test_a_badgr_recipient_of_another_type_than_email_is_not_taken_for_an_email():
    from chalicelib.platforms.badgr.adapter import BadgrAdapter

    document, url = badgr()
    [event] = BadgrAdapter().parse(document)
    assert (event.learner.email, event.learner.platform_user_id) == (None, url)
