"""Award clients against local fakes that enforce auth and fail the way the platforms do."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from chalicelib.errors import PlatformAuthError, PlatformRefused, SettingsError
from chalicelib.httpretry import OutcomeUnknown, RetryPolicy, TransientFailure
from chalicelib.platforms import award_client as award_client_for
from chalicelib.platforms.accredible.api import AccredibleAuthError, AccredibleClient
from chalicelib.platforms.accredible.awards import AccredibleAwards
from chalicelib.platforms.awarding import AwardRejected, AwardResult, Recipient
from chalicelib.platforms.badgr.api import BadgrAuthError, BadgrClient
from chalicelib.platforms.badgr.awards import BadgrAwards
from chalicelib.platforms.certifier.api import API_VERSION, CertifierAuthError, CertifierClient
from chalicelib.platforms.certifier.awards import CertifierAwards
from chalicelib.platforms.credly.api import CredlyAuthError, CredlyClient
from chalicelib.platforms.credly.awards import CredlyAwards
from chalicelib.settings import load_settings
from fakes.accredible_api import FakeAccredible
from fakes.badgr_api import FakeBadgr
from fakes.certifier_api import FakeCertifier
from fakes.credly_api import FakeCredly

ADA = Recipient(
    email="ada.lovelace@example.com", name="Ada Lovelace", first_name="Ada", last_name="Lovelace", earner_id="E-1001"
)
WHEN = datetime(2026, 11, 27, 9, 30, 15, tzinfo=timezone(timedelta(hours=1)))  # 08:30:15 UTC
EVIDENCE = "https://lms.example.com/exam/1"
ORG, CREDLY_TOKEN, TEMPLATE = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45", "tok-secret-123", "t-python-301"
BADGECLASS, USER, PASSWORD = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J", "issuer@example.com", "s3cret"
API_KEY, CERT_TOKEN, GROUP = "key-1", "cert-token", "01JC0GROUP"


def options(sleeps: list | None = None, read_timeout: float = 5.0, sleep=None) -> dict:
    """A fast retry policy (3 attempts, no jitter) with the sleeps recorded, not slept."""
    sink = sleeps if sleeps is not None else []
    return {
        "retry": RetryPolicy(attempts=3, base=0.01, cap=2.0, jitter=lambda wait: wait),
        "sleep": sleep or sink.append,
        "timeout": (1.0, read_timeout),
    }


def outwait_the_slow_answer(seconds: float) -> None:
    """Before retrying, let the fake finish the request it answered too late (0.5 s delay,
    0.2 s read timeout): the retry then sees what that request did, deterministically."""
    time.sleep(0.5)


def header(received, name: str) -> str | None:
    return next((v for k, v in received.headers.items() if k.lower() == name.lower()), None)


# -- fakes and clients -------------------------------------------------------------------------


@pytest.fixture
def credly():
    with FakeCredly(ORG, CREDLY_TOKEN) as fake:
        yield fake


@pytest.fixture
def badgr():
    with FakeBadgr(USER, PASSWORD) as fake:
        yield fake


@pytest.fixture
def accredible():
    with FakeAccredible(API_KEY) as fake:
        yield fake


@pytest.fixture
def certifier():
    with FakeCertifier(CERT_TOKEN) as fake:
        yield fake


def credly_awards(fake: FakeCredly, token: str = CREDLY_TOKEN, **kwargs) -> CredlyAwards:
    return CredlyAwards(CredlyClient(fake.base_url, ORG, token, **options(**kwargs)))


def badgr_awards(fake: FakeBadgr, password: str = PASSWORD, clock=None, **kwargs) -> BadgrAwards:
    extra = {"clock": clock} if clock else {}
    return BadgrAwards(BadgrClient(fake.base_url, USER, password, **extra, **options(**kwargs)))


def accredible_awards(fake: FakeAccredible, key: str = API_KEY, **kwargs) -> AccredibleAwards:
    return AccredibleAwards(AccredibleClient(fake.base_url, key, **options(**kwargs)))


def certifier_awards(fake: FakeCertifier, token: str = CERT_TOKEN, **kwargs) -> CertifierAwards:
    return CertifierAwards(CertifierClient(fake.base_url, token, **options(**kwargs)))


# -- Credly ------------------------------------------------------------------------------------


def test_credly_awards_once_with_the_documented_payload(credly):
    result = credly_awards(credly).award(TEMPLATE, ADA, WHEN, EVIDENCE)
    [sent] = credly.issued
    assert sent == {
        "recipient_email": "ada.lovelace@example.com",
        "issued_to_first_name": "Ada",
        "issued_to_last_name": "Lovelace",
        "badge_template_id": TEMPLATE,
        "issued_at": "2026-11-27 08:30:15 +0000",
        "issuer_earner_id": "E-1001",
        "evidence": [{"type": "UrlEvidence", "name": "Evidence", "value": EVIDENCE}],
    }
    assert result == AwardResult(vendor_id=credly.badges[0]["id"], already_awarded=False, response=credly.badges[0])
    assert credly.requests == [("POST", f"/v1/organizations/{ORG}/badges")]


def test_credly_already_has_this_badge_is_already_awarded_with_the_existing_id(credly):
    first = credly_awards(credly).award(TEMPLATE, ADA, WHEN)
    credly.add_badge(
        {
            "id": "someone-else",
            "badge_template": {"id": TEMPLATE},
            "issuer_earner_id": "E-2002",
            "recipient_email": "grace@example.com",
        }
    )
    again = credly_awards(credly).award(TEMPLATE, ADA, WHEN)
    assert again.already_awarded and again.vendor_id == first.vendor_id
    assert len(credly.issued) == 1
    assert credly.requests[-1] == ("GET", f"/v1/organizations/{ORG}/badges")  # one cheap lookup


def test_credly_already_awarded_without_an_earner_id_skips_the_lookup(credly):
    nameless = Recipient(email=ADA.email, name=ADA.name, first_name="Ada", last_name="Lovelace", earner_id=None)
    credly.issued.append({"recipient_email": ADA.email, "badge_template_id": TEMPLATE})  # history
    result = credly_awards(credly).award(TEMPLATE, nameless, WHEN)
    assert result.already_awarded and result.vendor_id == "" and "already has this badge" in result.response["message"]
    assert [m for m, _ in credly.requests] == ["POST"]


def test_credly_other_422_is_rejected_with_credlys_message(credly):
    blank = Recipient(email=ADA.email, name="", first_name="", last_name="", earner_id=None)
    with pytest.raises(AwardRejected, match="issued_to_first_name"):
        credly_awards(credly).award(TEMPLATE, blank, WHEN)
    assert credly.issued == []


def test_credly_429_with_retry_after_then_500_then_success_awards_once(credly):
    credly.fail_next(429, headers={"Retry-After": "1"})
    credly.fail_next(500)
    sleeps: list[float] = []
    result = credly_awards(credly, sleeps=sleeps).award(TEMPLATE, ADA, WHEN)
    assert not result.already_awarded and len(credly.issued) == 1
    assert sleeps == [1.0, 0.02]  # Retry-After honoured, then the backoff of the second retry


def test_credly_timeout_is_retried_and_the_422_makes_it_safe(credly):
    credly.delay_next(0.5)  # Credly issues the badge but answers too late
    result = credly_awards(credly, read_timeout=0.2, sleep=outwait_the_slow_answer).award(TEMPLATE, ADA, WHEN)
    assert len(credly.issued) == 1
    assert result.already_awarded and result.vendor_id == credly.badges[0]["id"]


def test_credly_401_is_an_auth_error_after_one_request(credly):
    with pytest.raises(CredlyAuthError, match="CREDLY_TOKEN"):
        credly_awards(credly, token="expired").award(TEMPLATE, ADA, WHEN)
    assert len(credly.requests) == 1


def test_credly_exhausted_retries_are_a_transient_failure(credly):
    credly.fail_next(503, times=3)
    with pytest.raises(TransientFailure, match="after 3 attempts"):
        credly_awards(credly).award(TEMPLATE, ADA, WHEN)
    assert credly.issued == []


def test_a_naive_issued_at_is_taken_as_utc(credly):
    credly_awards(credly).award(TEMPLATE, ADA, datetime(2026, 11, 27, 9, 30))
    assert credly.issued[0]["issued_at"] == "2026-11-27 09:30:00 +0000"


# -- Canvas Credentials / Badgr ----------------------------------------------------------------


def test_badgr_awards_once_with_a_password_grant_token(badgr):
    result = badgr_awards(badgr).award(BADGECLASS, ADA, WHEN, EVIDENCE)
    token, issue = badgr.received
    assert (token.path, token.body) == (
        "/o/token",
        {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "rw:issuer"},
    )
    assert issue.path == f"/v2/badgeclasses/{BADGECLASS}/assertions"
    assert header(issue, "Authorization") == f"Bearer {next(iter(badgr.tokens))}"
    assert next(iter(badgr.tokens.values())).scope == "rw:profile rw:issuer rw:backpack"  # wider than asked: fine
    assert issue.body == {
        "recipient": {"identity": ADA.email, "type": "email", "hashed": True},
        "issuedOn": "2026-11-27T08:30:15+00:00",
        "evidence": [{"url": EVIDENCE}],
    }  # no `notify`
    [assertion] = badgr.assertions
    assert result.vendor_id == assertion["entityId"] and not result.already_awarded
    assert result.response["recipient"]["plaintextIdentity"] == ADA.email
    assert result.response["recipient"]["identity"].startswith("sha256$")


def test_badgr_does_not_prevent_duplicates_the_ledger_does(badgr):
    awards = badgr_awards(badgr)
    first, second = awards.award(BADGECLASS, ADA, WHEN), awards.award(BADGECLASS, ADA, WHEN)
    assert first.vendor_id != second.vendor_id and len(badgr.assertions) == 2
    assert badgr.grants == ["password"]  # the token is cached


def test_badgr_token_expired_by_the_platform_is_refreshed_once(badgr):
    awards = badgr_awards(badgr)
    awards.award("bc1", ADA, WHEN)
    badgr.expire_tokens()  # the platform expired it before our clock did
    awards.award("bc2", ADA, WHEN)
    assert len(badgr.assertions) == 2
    assert badgr.grants == ["password", "refresh_token"]
    assert [p.rsplit("/", 1)[-1] for _, p in badgr.requests] == [
        "token",
        "assertions",
        "assertions",
        "token",
        "assertions",
    ]


def test_badgr_token_expired_by_our_clock_is_refreshed_before_the_request(badgr):
    now = [1000.0]
    awards = badgr_awards(badgr, clock=lambda: now[0])
    awards.award("bc1", ADA, WHEN)
    now[0] += badgr.expires_in  # a day later
    awards.award("bc2", ADA, WHEN)
    assert badgr.grants == ["password", "refresh_token"]
    assert [p.rsplit("/", 1)[-1] for _, p in badgr.requests] == ["token", "assertions", "token", "assertions"]


def test_badgr_short_lived_tokens_are_renewed_early(badgr):
    badgr.expires_in = 30  # renewed after 27 s of our clock: never used in its last tenth
    now = [0.0]
    awards = badgr_awards(badgr, clock=lambda: now[0])
    awards.award("bc1", ADA, WHEN)
    now[0] = 27.5
    awards.award("bc2", ADA, WHEN)
    assert badgr.grants == ["password", "refresh_token"]


def test_badgr_refused_refresh_falls_back_to_the_password_grant(badgr):
    awards = badgr_awards(badgr)
    awards.award("bc1", ADA, WHEN)
    badgr.expire_tokens()
    badgr.refuse_refresh = True
    awards.award("bc2", ADA, WHEN)
    assert len(badgr.assertions) == 2
    assert badgr.grants == ["password", "refresh_token", "password"]


def test_badgr_wrong_password_is_an_auth_error_naming_the_settings(badgr):
    with pytest.raises(BadgrAuthError, match="BADGR_USERNAME / BADGR_PASSWORD") as raised:
        badgr_awards(badgr, password="wrong").award(BADGECLASS, ADA, WHEN)
    assert "invalid_grant" in str(raised.value) and "wrong" not in str(raised.value)
    assert f"at {urlsplit(badgr.base_url).netloc} refused" in str(raised.value)  # the host asked
    assert badgr.requests == [("POST", "/o/token")] and badgr.assertions == []


def test_badgr_401_with_a_fresh_token_is_an_auth_error(badgr):
    badgr.fail_next(401, times=2, path="/assertions")
    with pytest.raises(BadgrAuthError, match="fresh token"):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)
    assert badgr.grants == ["password", "refresh_token"] and badgr.assertions == []


def test_badgr_403_names_the_account_and_its_issuer_role(badgr):
    badgr.fail_next(403, path="/assertions")
    with pytest.raises(BadgrAuthError, match="BADGR_USERNAME must be an owner, editor or staff"):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)


def test_badgr_unknown_badge_class_is_rejected_naming_it_and_the_account(badgr):
    badgr.badgeclasses = {BADGECLASS}
    with pytest.raises(AwardRejected, match="no badge class nope to BADGR_USERNAME .HTTP 404: entity not found"):
        badgr_awards(badgr).award("nope", ADA, WHEN)


def test_badgr_dot_segment_badge_class_is_rejected_without_a_request(badgr):
    with pytest.raises(AwardRejected, match="credential.id"):
        badgr_awards(badgr).award("..", ADA, WHEN)
    assert badgr.assertions == [] and "/v2/" not in str(badgr.requests)


def test_badgr_validation_errors_reach_the_message(badgr):
    nobody = Recipient(email="", name="", first_name="", last_name="")
    with pytest.raises(
        AwardRejected, match=r"bad request; fieldErrors \{'recipient': \{'identity'"
    ):  # as the server nests it
        badgr_awards(badgr).award(BADGECLASS, nobody, WHEN)


def test_badgr_429_then_503_then_success_awards_once(badgr):
    badgr.fail_next(429, headers={"Retry-After": "2"}, path="/assertions")
    badgr.fail_next(503, path="/assertions")
    sleeps: list[float] = []
    badgr_awards(badgr, sleeps=sleeps).award(BADGECLASS, ADA, WHEN)
    assert len(badgr.assertions) == 1 and sleeps == [2.0, 0.02]


def test_badgr_500_on_an_award_is_not_repeated_and_unknown_when_nothing_was_made(badgr):
    # Badgr accepts duplicates: a 500 may come after the assertion was made, so no second POST;
    # the badge class's assertions to the learner are read back, and none was issued then.
    badgr.fail_next(500, path="/assertions")
    with pytest.raises(OutcomeUnknown, match="check the platform"):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)
    assert [r.method for r in badgr.received if r.path.endswith("/assertions")] == ["POST", "GET"]
    [read_back] = [t for m, t in badgr.targets if m == "GET"]
    assert "recipient=ada.lovelace%40example.com" in read_back and "include_revoked=true" in read_back


def test_badgr_notify_is_sent_as_badgr_notify_says(badgr):
    settings = load_settings(
        {"BADGR_API_BASE": badgr.base_url, "BADGR_USERNAME": USER, "BADGR_PASSWORD": PASSWORD, "BADGR_NOTIFY": "true"}
    )
    BadgrAwards(BadgrClient.from_settings(settings)).award(BADGECLASS, ADA, WHEN)
    assert [r.body["notify"] for r in badgr.received if r.method == "POST" and r.path.endswith("/assertions")] == [True]


def test_badgr_a_lost_answer_is_not_confused_with_an_earlier_award_to_the_learner(badgr):
    badgr.add_assertion(BADGECLASS, ADA.email, WHEN - timedelta(days=30))  # issued by hand, a month before
    badgr.add_assertion(BADGECLASS, "grace@example.com", WHEN)  # someone else's, at the same second
    badgr.fail_next(500, path="/assertions")  # this time nothing was saved
    with pytest.raises(OutcomeUnknown, match="check the platform"):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)


def test_badgr_a_lost_answer_stays_unknown_when_the_read_back_fails_too(badgr):
    badgr.fail_next(504, path="/assertions")  # the POST, then the read back's two attempts
    badgr.fail_next(503, times=3, path="/assertions")
    with pytest.raises(OutcomeUnknown, match="HTTP 504"):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)


def test_badgr_token_endpoint_outage_is_transient(badgr):
    badgr.fail_next(503, times=3, path="/o/token")
    with pytest.raises(TransientFailure):
        badgr_awards(badgr).award(BADGECLASS, ADA, WHEN)
    assert badgr.assertions == []


def test_badgr_wrong_api_base_names_the_setting(badgr):
    client = BadgrClient(badgr.base_url + "/nowhere", USER, PASSWORD, **options())
    badgr.fail_next(404, path="/o/token")
    with pytest.raises(BadgrAuthError, match="BADGR_API_BASE"):
        BadgrAwards(client).award(BADGECLASS, ADA, WHEN)


# -- Accredible --------------------------------------------------------------------------------


def test_accredible_creates_the_credential_with_token_auth(accredible):
    result = accredible_awards(accredible).award("771002", ADA, WHEN, EVIDENCE)
    [sent] = accredible.received
    assert (sent.method, sent.path, header(sent, "Authorization")) == (
        "POST",
        "/v1/credentials",
        f"Token token={API_KEY}",
    )
    assert sent.body == {
        "credential": {
            "recipient": {"name": "Ada Lovelace", "email": ADA.email, "meta_data": {"employee_id": "E-1001"}},
            "group_id": 771002,
            "issued_on": "2026-11-27",
            "evidence_items": [{"description": "Evidence", "category": "url", "url": EVIDENCE}],
        }
    }
    [created] = accredible.credentials
    assert result == AwardResult(
        vendor_id=str(created["id"]), already_awarded=False, response=created, issued_document=created
    )  # no webhooks: the answer is the issued event
    assert created["group"]["id"] == 771002 and created["recipient"]["meta_data"] == {"employee_id": "E-1001"}


def test_accredible_422_is_rejected_with_its_message(accredible):
    nameless = Recipient(email="x@example.com", name="", first_name="", last_name="")
    with pytest.raises(AwardRejected, match="HTTP 422.*recipient.name can't be blank"):
        accredible_awards(accredible).award("771002", nameless, WHEN)
    assert accredible.credentials == [] and len(accredible.requests) == 1


def test_accredible_unknown_group_is_rejected(accredible):
    accredible.groups = {771002: "Python 301"}
    with pytest.raises(AwardRejected, match="group_id Group not found"):
        accredible_awards(accredible).award("771003", ADA, WHEN)


def test_accredible_401_names_the_key_after_one_request(accredible):
    with pytest.raises(AccredibleAuthError, match="ACCREDIBLE_API_KEY"):
        accredible_awards(accredible, key="wrong").award("771002", ADA, WHEN)
    assert len(accredible.requests) == 1


def test_accredible_timeout_is_not_repeated(accredible):
    accredible.fail_next(503, delay=0.5)  # too slow: from here nobody knows whether it was created
    with pytest.raises(OutcomeUnknown):
        accredible_awards(accredible, read_timeout=0.2).award("771002", ADA, WHEN)
    assert len(accredible.requests) == 1


def test_accredible_429_then_503_then_success_awards_once(accredible):
    accredible.fail_next(429, headers={"Retry-After": "0"})
    accredible.fail_next(503)
    sleeps: list[float] = []
    accredible_awards(accredible, sleeps=sleeps).award("771002", ADA, WHEN)
    assert len(accredible.credentials) == 1 and sleeps == [0.0, 0.02]


# -- Certifier ---------------------------------------------------------------------------------


def test_certifier_creates_then_issues_with_its_headers(certifier):
    result = certifier_awards(certifier).award(GROUP, ADA, WHEN, EVIDENCE)
    [issued] = certifier.issued
    create, issue = certifier.received
    assert (create.method, create.path) == ("POST", "/v1/credentials")
    assert create.body == {
        "groupId": GROUP,
        "recipient": {"name": "Ada Lovelace", "email": ADA.email},
        "issueDate": "2026-11-27",
        "customAttributes": {"custom.employee_id": "E-1001"},
    }
    assert (issue.method, issue.path) == ("POST", f"/v1/credentials/{issued['id']}/issue")
    for sent in (create, issue):
        assert header(sent, "Authorization") == f"Bearer {CERT_TOKEN}"
        assert header(sent, "Certifier-Version") == API_VERSION
    assert result.vendor_id == issued["id"] and result.response["status"] == "issued"


def test_certifier_retry_after_a_failed_issue_issues_the_same_draft(certifier):
    awards = certifier_awards(certifier)
    certifier.fail_next(503, times=3, path="/issue")
    with pytest.raises(TransientFailure):
        awards.award(GROUP, ADA, WHEN)
    result = awards.award(GROUP, ADA, WHEN)  # the worker's later retry
    assert len(certifier.created) == 1 and [c["id"] for c in certifier.issued] == [result.vendor_id]


def test_certifier_issue_that_timed_out_after_taking_effect_counts_as_issued(certifier):
    certifier.delay_next(0.5, path="/issue")  # issued, but the answer comes too late
    result = certifier_awards(certifier, read_timeout=0.2, sleep=outwait_the_slow_answer).award(GROUP, ADA, WHEN)
    [issued] = certifier.issued
    assert result.vendor_id == issued["id"] and len(certifier.created) == 1
    assert [m for m, _ in certifier.requests] == ["POST", "POST", "POST", "GET"]  # create, issue, issue (422), read


def test_certifier_create_refusal_is_rejected_with_its_message(certifier):
    nameless = Recipient(email=ADA.email, name="", first_name="", last_name="")
    with pytest.raises(AwardRejected, match="recipient.name required"):
        certifier_awards(certifier).award(GROUP, nameless, WHEN)


def test_certifier_401_names_the_token_after_one_request(certifier):
    with pytest.raises(CertifierAuthError, match="CERTIFIER_TOKEN"):
        certifier_awards(certifier, token="wrong").award(GROUP, ADA, WHEN)
    assert len(certifier.requests) == 1 and certifier.created == []


def test_certifier_fetch_for_webhooks_still_works(certifier):
    certifier.add_credential({"id": "01JD8Q", "status": "issued"})
    assert CertifierClient(certifier.base_url, CERT_TOKEN, **options()).fetch_credential("01JD8Q")["status"] == "issued"


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "settings"),
    [
        ("credly", "CREDLY_ORG_ID, CREDLY_TOKEN"),
        ("certifier", "CERTIFIER_TOKEN"),
        ("badgr", "BADGR_USERNAME, BADGR_PASSWORD"),
        ("accredible", "ACCREDIBLE_API_KEY"),
    ],
)
def test_missing_settings_are_named(platform, settings):
    with pytest.raises(SettingsError, match=settings):
        award_client_for(platform, load_settings({}))


def test_only_the_missing_setting_is_named():
    with pytest.raises(SettingsError, match=r"needs BADGR_PASSWORD \(not set\)"):
        award_client_for("badgr", load_settings({"BADGR_USERNAME": USER}))


def test_an_unknown_platform_is_a_settings_error():
    with pytest.raises(SettingsError, match="one of accredible, badgr, certifier, credly"):
        award_client_for("openbadges", load_settings({}))


def test_clients_built_from_settings_award_against_the_fakes(credly, badgr, accredible, certifier):
    settings = load_settings(
        {
            "CREDLY_API_BASE": credly.base_url,
            "CREDLY_ORG_ID": ORG,
            "CREDLY_TOKEN": CREDLY_TOKEN,
            "BADGR_API_BASE": badgr.base_url,
            "BADGR_USERNAME": USER,
            "BADGR_PASSWORD": PASSWORD,
            "ACCREDIBLE_API_BASE": accredible.base_url,
            "ACCREDIBLE_API_KEY": API_KEY,
            "CERTIFIER_API_BASE": certifier.base_url,
            "CERTIFIER_TOKEN": CERT_TOKEN,
        }
    )
    for platform, credential in (
        ("credly", TEMPLATE),
        ("badgr", BADGECLASS),
        ("accredible", "771002"),
        ("certifier", GROUP),
    ):
        client = award_client_for(platform, settings)
        assert client.platform == platform
        assert client.award(credential, ADA, WHEN).vendor_id
    assert [len(x) for x in (credly.issued, badgr.assertions, accredible.credentials, certifier.issued)] == [1, 1, 1, 1]


def test_errors_fit_the_workers_handling():
    # The worker releases the claim on TransientFailure and PlatformAuthError, fails it on
    # AwardRejected; AwardRejected is still a PlatformRefused for code that catches that.
    assert issubclass(AwardRejected, PlatformRefused)
    for auth in (CredlyAuthError, BadgrAuthError, AccredibleAuthError, CertifierAuthError):
        assert issubclass(auth, PlatformAuthError) and not issubclass(auth, AwardRejected)


def test_credly_basic_auth_header_is_the_token_and_an_empty_password(credly):
    # The fake enforces it; spelled out here because the award depends on it.
    expected = "Basic " + base64.b64encode(f"{CREDLY_TOKEN}:".encode()).decode()
    assert credly._authorised(expected)
    credly_awards(credly).award(TEMPLATE, ADA, WHEN)
    assert len(credly.issued) == 1
