"""Every platform adapter against mutated fixture documents.

Property checked, for each fixture of tests/fixtures/<platform>/ with one field (at any depth)
replaced by a nasty value (wrong type, huge int, nan/inf, empty or very long text, lone
surrogate, deep nesting, odd timestamp) or removed:

- `adapter.parse(document)` returns, or raises InputError / another ConnectorError
  (DetailsRequired for thin deliveries); never any other exception;
- when it returns, translating its events (Translator with the learner directory, for the mbox
  and the account IFI and for xAPI 2.0) raises nothing but UnidentifiedLearner: a document the
  route accepted (the route runs the same parse) must not become a dead letter for a reason the
  route could have named, and every statement is JSON without NaN.

Plus one regression test per bug found.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from chalicelib.errors import ConnectorError, InputError, UnidentifiedLearner
from chalicelib.events import CredentialEvent
from chalicelib.intake.http import read_json
from chalicelib.platforms import adapter_for
from chalicelib.platforms.common import check_shape
from chalicelib.settings import load_settings
from tests.support.helpers import AS_OF, make_translator
from tests.support.strategies import FIXTURES, HugeInt, fuzz, load_fixture, mutated, mutated_many, nested

pytestmark = pytest.mark.fuzz

SETTINGS = load_settings({})
# A Badgr assertion with its badge class expanded (expand=badgeclass), as the award path fetches
# it: the changed-feed fixture alone stops at the missing badge class name.
BADGR_EXPANDED = "badgr/assertion+badgeclass"
NOT_PLATFORMS = ("lap", "lxp", "identity")  # award rules, report and identity-check inputs, not platform documents
DOCUMENTS = sorted(
    [
        (path.parent.name, str(path.relative_to(FIXTURES)))
        for path in FIXTURES.glob("*/*.json")
        if path.parent.name not in NOT_PLATFORMS
    ]
    + [("badgr", BADGR_EXPANDED)]
)
TRANSLATORS = [
    make_translator(directory=True),
    make_translator({"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": "https://hr.example.com"}, directory=True),
    make_translator({"IDENTITY_IFI": "mbox_sha1sum", "LRS_XAPI_VERSION": "2.0.0"}, directory=True),
]


def badgr_assertion() -> dict:
    """A Badgr assertion with its badge class expanded (expand=badgeclass), as awards fetch it."""
    document = load_fixture("badgr/assertions_changed.json")
    document["result"][0]["badgeclass"] = load_fixture("badgr/badgeclass.json")["result"][0]
    return document


def fixture_document(relative: str) -> object:
    return badgr_assertion() if relative == BADGR_EXPANDED else load_fixture(relative)


def parse_and_translate(platform: str, document: object) -> None:
    adapter = adapter_for(platform, SETTINGS)
    try:
        items = adapter.parse(document)
    except ConnectorError:
        return
    assert isinstance(items, list)
    for event in items:
        if not isinstance(event, CredentialEvent):
            continue
        for translator in TRANSLATORS:
            try:
                statements = translator.statements(event, AS_OF)
            except UnidentifiedLearner:
                continue
            json.dumps(statements, allow_nan=False)


def test_every_platform_has_fixtures():
    assert {platform for platform, _ in DOCUMENTS} == {"accredible", "badgr", "certifier", "credly", "openbadges"}


@pytest.mark.parametrize(("platform", "relative"), DOCUMENTS, ids=[r for _, r in DOCUMENTS])
def test_fixtures_translate_as_they_are(platform, relative):
    parse_and_translate(platform, fixture_document(relative))


def _fuzzed(platform: str, relative: str, mutate, examples: int):
    @fuzz(examples)
    @given(mutate(fixture_document(relative)))
    def run(candidate):
        parse_and_translate(platform, candidate)

    return run


@pytest.mark.parametrize(("platform", "relative"), DOCUMENTS, ids=[r for _, r in DOCUMENTS])
def test_one_mutated_field_is_refused_or_translated(platform, relative):
    _fuzzed(platform, relative, mutated, 200)()


@pytest.mark.parametrize(("platform", "relative"), DOCUMENTS, ids=[r for _, r in DOCUMENTS])
def test_several_mutated_fields_are_refused_or_translated(platform, relative):
    _fuzzed(platform, relative, mutated_many, 100)()


# -- regressions -----------------------------------------------------------------------------


def changed(relative: str, path: str, value: object) -> dict:
    """The fixture with the dotted `path` (list indexes as numbers) set to value."""
    document = badgr_assertion() if relative == BADGR else load_fixture(relative)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = document
    for part in parents:
        target = target[part]
    target[last] = value
    return document


def refused(platform: str, document: object) -> InputError:
    with pytest.raises(InputError) as error:
        adapter_for(platform, SETTINGS).parse(document)
    return error.value


OB2 = "openbadges/ob2_assertion.json"
BADGR = "badgr/assertions_changed.json"
OB3 = "openbadges/ob3_credential.json"


@pytest.mark.parametrize(
    "tags", [True, -1, float("nan"), {"name": "data"}, [{"name": "data"}, 3, None, "sql"], HugeInt(10**5000), "data"]
)
def test_odd_open_badges_tags_are_ignored(tags):
    # c. `badge.tags` true / -1 / NaN / an object: TypeError in _skills (a 500 at the route)
    events = adapter_for("openbadges", SETTINGS).parse(changed(OB2, "badge.tags", tags))
    skills = events[0].credential.skills
    assert "Data analysis" in skills  # the alignment still counts
    assert all(isinstance(skill, str) for skill in skills)
    parse_and_translate("openbadges", changed(OB2, "badge.tags", tags))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("badge.alignment", {"targetName": "Data analysis"}),
        ("badge.alignment", True),
        ("badge.alignment", 7),
    ],
)
def test_odd_open_badges_alignment_is_tolerated(path, value):
    adapter_for("openbadges", SETTINGS).parse(changed(OB2, path, value))


def test_odd_open_badges_3_tag_is_ignored():
    events = adapter_for("openbadges", SETTINGS).parse(changed(OB3, "credentialSubject.achievement.tag", 1))
    assert events[0].credential.skills == ()


@pytest.mark.parametrize(
    ("platform", "relative", "path", "field"),
    [
        # a. year 1 / 9999 with an offset: OverflowError from parse_time (a 500, or a dead letter)
        ("openbadges", OB2, "issuedOn", "issuedOn"),
        ("openbadges", OB2, "expires", "expires"),
        ("openbadges", OB3, "validFrom", "validFrom"),
        (
            "certifier",
            "certifier/webhook_credential_issued.json",
            "data.credential.issueDate",
            "data.credential.issueDate",
        ),
        (
            "certifier",
            "certifier/webhook_credential_viewed_guest.json",
            "data.credentialInteraction.triggeredAt",
            "data.credentialInteraction.triggeredAt",
        ),
        ("credly", "credly/event_badge_created.json", "data.badge.issued_at", "data.badge.issued_at"),
        ("credly", "credly/event_badge_accepted.json", "data.badge.state_updated_at", "data.badge.state_updated_at"),
        ("badgr", BADGR, "result.0.issuedOn", "result[0].issuedOn"),
        ("accredible", "accredible/credentials_search.json", "credentials.0.expired_on", "credentials[0].expired_on"),
    ],
)
@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_times_out_of_range_name_their_field(platform, relative, path, field, when):
    assert refused(platform, changed(relative, path, when)).field == field


@pytest.mark.parametrize(
    ("platform", "relative", "path", "value", "field"),
    [
        # e. emails that are no email address: InvalidStatement (actor.mbox) in the worker, a dead letter
        (
            "openbadges",
            OB3,
            "credentialSubject.identifier.0.identityHash",
            "alan turing",
            "credentialSubject.identifier[0].identityHash",
        ),
        ("openbadges", OB3, "credentialSubject.id", "mailto:nobody", "credentialSubject.id"),
        (
            "certifier",
            "certifier/webhook_credential_issued.json",
            "data.credential.recipient.email",
            "\x00",
            "data.credential.recipient.email",
        ),
        (
            "credly",
            "credly/event_badge_created.json",
            "data.badge.recipient_email",
            "ada lovelace",
            "data.badge.recipient_email",
        ),
        ("badgr", BADGR, "result.0.recipient.plaintextIdentity", "@", "result[0].recipient.plaintextIdentity"),
        (
            "accredible",
            "accredible/credentials_search.json",
            "credentials.0.recipient.email",
            "k@j",
            "credentials[0].recipient.email",
        ),
        # e. activity ids that are no IRI: InvalidStatement (object.id) in the worker, a dead letter
        ("openbadges", OB2, "badge.id", "data literacy", "badge.id"),
        (
            "openbadges",
            OB3,
            "credentialSubject.achievement.id",
            "cloud-foundations",
            "credentialSubject.achievement.id",
        ),
        (
            "certifier",
            "certifier/webhook_credential_issued.json",
            "data.credential.groupId",
            "group one",
            "data.credential.groupId",
        ),
        (
            "certifier",
            "certifier/webhook_credential_shared_linkedin.json",
            "data.credential.publicId",
            "a b",
            "data.credential.publicId",
        ),
        (
            "credly",
            "credly/event_badge_created.json",
            "data.badge.badge_template.url",
            "python expert",
            "data.badge.badge_template.url",
        ),
        ("badgr", BADGR, "result.0.badgeclassOpenBadgeId", "Bc7Dd8", "result[0].badgeclassOpenBadgeId"),
        (
            "accredible",
            "accredible/credentials_search.json",
            "credentials.0.group.id",
            "pm essentials",
            "credentials[0].group.id",
        ),
        # e. an object as Accredible's group id became "{'a': 1}" in the IRI (InvalidStatement)
        (
            "accredible",
            "accredible/credentials_search.json",
            "credentials.0.group.id",
            {"a": 1},
            "credentials[0].group.id",
        ),
        ("accredible", "accredible/credentials_search.json", "credentials.0.id", [1], "credentials[0].id"),
        # e. an int str() refuses (ValueError) as Accredible's credential id
        (
            "accredible",
            "accredible/credentials_search.json",
            "credentials.0.id",
            HugeInt(10**5000),
            "credentials[0].id",
        ),
        # e. a Credly template without a name: InvalidStatement (empty language map entry)
        (
            "credly",
            "credly/event_badge_created.json",
            "data.badge.badge_template.name",
            " ",
            "data.badge.badge_template.name",
        ),
        # e. lone surrogates in what is encoded: UnicodeEncodeError building statement ids / hashes
        ("credly", "credly/event_badge_created.json", "data.badge.id", "9f1e\ud800", "credential.id"),
        ("openbadges", OB2, "recipient.salt", "dead\udc00", "learner.email_salt"),
        ("openbadges", OB2, "recipient.hashed", False, "recipient.identity"),  # a sha256$ identity is no email
        # e. repr() of a huge int in the message: ValueError
        ("openbadges", OB2, "recipient.type", HugeInt(10**5000), "recipient.type"),
    ],
)
def test_what_could_never_be_translated_is_refused_naming_the_field(platform, relative, path, value, field):
    assert refused(platform, changed(relative, path, value)).field == field


def test_lone_surrogate_in_an_interaction_id_is_refused():
    document = changed("certifier/webhook_credential_viewed_guest.json", "data.credentialInteraction.id", "ci_\ud800")
    assert refused("certifier", document).field == "interaction.id"


def test_learner_email_with_a_lone_surrogate_is_refused():
    # hashed for mbox_sha1sum: UnicodeEncodeError
    document = changed(
        "certifier/webhook_credential_issued.json", "data.credential.recipient.email", "gr\ud800@example.com"
    )
    assert refused("certifier", document).field == "learner.email"


@pytest.mark.parametrize("event_type", [HugeInt(10**5000), 7, None, ["badge.created"]])
def test_credly_notification_with_odd_event_type_is_refused(event_type):
    # e. str(event_type) raised ValueError for a huge int
    assert refused("credly", {"id": "e1", "event_type": event_type}).field == "event_type"


def test_credly_notification_without_id_is_refused():
    # e. DetailsRequired("credly", "None"): the worker would fetch event "None"
    assert refused("credly", {"event_type": "badge.created"}).field == "id"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\ud800", "not valid Unicode"),  # a field no adapter reads: the queue could not encode it either
        (nested(150), "nested more than 100 levels deep"),  # the queue's JSON parser stops at 200
    ],
)
def test_route_check_refuses_what_the_queue_could_not_carry(value, message):
    document = changed(OB2, "evidence.0.narrative", value)
    check_shape(adapter_for("openbadges", SETTINGS), document, "[0]")  # a field no adapter reads
    with pytest.raises(InputError) as error:
        read_json(json.dumps([document]).encode())  # the body as the route reads it
    assert error.value.field.startswith("[0].evidence[0].narrative")
    assert message in error.value.message


def test_badgr_assertion_fixture_translates():
    parse_and_translate("badgr", badgr_assertion())
