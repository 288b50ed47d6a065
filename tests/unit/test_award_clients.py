"""Award clients against local fakes that enforce auth and fail the way the platforms do."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.awards.clients import AccredibleAwards, AwardRejected, BadgrAwards, CertifierAwards, Recipient, award_client_for
from chalicelib.errors import SettingsError
from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.settings import load_settings
from chalicelib.sources.accredible_api import AccredibleAuthError, AccredibleClient
from chalicelib.sources.badgr_api import BadgrAuthError, BadgrClient
from chalicelib.sources.certifier_api import CertifierClient
from fakes.accredible_api import FakeAccredible
from fakes.badgr_api import FakeBadgr
from fakes.certifier_api import FakeCertifier

ADA = Recipient(email="ada.lovelace@example.com", name="Ada Lovelace", first_name="Ada", last_name="Lovelace", earner_id="E-1001")
WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
FAST = {"retry": RetryPolicy(attempts=3, base=0.0, cap=0.0), "sleep": lambda seconds: None}


@pytest.fixture
def badgr():
    with FakeBadgr("issuer@example.com", "s3cret") as fake:
        yield fake


def badgr_awards(fake: FakeBadgr, password: str = "s3cret") -> BadgrAwards:
    return BadgrAwards(BadgrClient(fake.base_url, "issuer@example.com", password, **FAST))


def test_badgr_awards_with_a_password_grant_token(badgr):
    result = badgr_awards(badgr).award("Bc7Dd8Ee9Ff0Gg1Hh2Ii3J", ADA, WHEN, "https://lms.example.com/exam/1")
    assert len(badgr.assertions) == 1 and result.vendor_id == badgr.assertions[0]["entityId"]
    assert badgr.assertions[0]["recipient"]["plaintextIdentity"] == "ada.lovelace@example.com"
    assert result.response["badgeclassOpenBadgeId"].endswith("/public/badges/Bc7Dd8Ee9Ff0Gg1Hh2Ii3J")
    assert [p for _, p in badgr.requests] == ["/o/token", "/v2/badgeclasses/Bc7Dd8Ee9Ff0Gg1Hh2Ii3J/assertions"]


def test_badgr_expired_token_is_refreshed_once(badgr):
    awards = badgr_awards(badgr)
    awards.award("bc1", ADA, WHEN)
    badgr.expire_tokens()  # the platform expired it before our clock did
    awards.award("bc2", ADA, WHEN)
    assert len(badgr.assertions) == 2
    assert [p for _, p in badgr.requests].count("/o/token") == 2


def test_badgr_refused_refresh_falls_back_to_the_password(badgr):
    awards = badgr_awards(badgr)
    awards.award("bc1", ADA, WHEN)
    badgr.expire_tokens()
    badgr.refuse_refresh = True
    awards.award("bc2", ADA, WHEN)
    assert len(badgr.assertions) == 2


def test_badgr_wrong_password_is_an_auth_error(badgr):
    with pytest.raises(BadgrAuthError, match="BADGR_USERNAME"):
        badgr_awards(badgr, password="wrong").award("bc1", ADA, WHEN)
    assert badgr.assertions == []


def test_badgr_500_then_success_issues_once_and_exhausted_retries_raise(badgr):
    awards = badgr_awards(badgr)
    awards.award("bc0", ADA, WHEN)  # token first
    badgr.fail_next(500)
    awards.award("bc1", ADA, WHEN)
    assert len(badgr.assertions) == 2
    badgr.fail_next(503, times=3)
    with pytest.raises(TransientFailure):
        awards.award("bc2", ADA, WHEN)
    assert len(badgr.assertions) == 2


def test_accredible_creates_the_credential():
    with FakeAccredible("key-1") as fake:
        result = AccredibleAwards(AccredibleClient(fake.base_url, "key-1", **FAST)).award("771002", ADA, WHEN)
        assert fake.credentials[0]["group"]["id"] == 771002
        assert fake.credentials[0]["issued_on"] == "2026-11-27"
        assert result.vendor_id == str(fake.credentials[0]["id"])


def test_accredible_422_is_rejected_with_its_message_and_401_names_the_setting():
    with FakeAccredible("key-1") as fake:
        nameless = Recipient(email="x@example.com", name="", first_name="", last_name="")
        with pytest.raises(AwardRejected, match="recipient.name"):
            AccredibleAwards(AccredibleClient(fake.base_url, "key-1", **FAST)).award("771002", nameless, WHEN)
        with pytest.raises(AccredibleAuthError, match="ACCREDIBLE_API_KEY"):
            AccredibleAwards(AccredibleClient(fake.base_url, "wrong", **FAST)).award("771002", ADA, WHEN)
        fake.fail_next(429, headers={"Retry-After": "0"})
        AccredibleAwards(AccredibleClient(fake.base_url, "key-1", **FAST)).award("771002", ADA, WHEN)
        assert len(fake.credentials) == 1


def test_certifier_creates_then_issues():
    with FakeCertifier(token="cert") as fake:
        result = CertifierAwards(CertifierClient(fake.base_url, "cert", **FAST)).award("01JC0GROUP", ADA, WHEN)
        [issued] = fake.issued
        assert issued["groupId"] == "01JC0GROUP" and issued["customAttributes"] == {"custom.employee_id": "E-1001"}
        assert result.vendor_id == issued["id"]
        assert [p for _, p in fake.requests] == ["/v1/credentials", f"/v1/credentials/{issued['id']}/issue"]


@pytest.mark.parametrize(("platform", "setting"), [("badgr", "BADGR_USERNAME"), ("accredible", "ACCREDIBLE_API_KEY"),
                                                   ("certifier", "CERTIFIER_TOKEN"), ("credly", "CREDLY_ORG_ID")])
def test_missing_settings_are_named(platform, setting):
    with pytest.raises(SettingsError, match=setting):
        award_client_for(platform, load_settings({}))
