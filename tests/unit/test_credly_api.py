"""The Credly API client against the local fake, which fails the way Credly does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.errors import ConnectorError, InputError
from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.sources.credly import CredlyAdapter
from chalicelib.sources.credly_api import CredlyAlreadyAwarded, CredlyAuthError, CredlyClient, CredlyNotFound
from fakes.credly_api import FakeCredly

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "credly"
ORG = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"
CREATED = "0b6f3c1e-2d4a-4f7e-9a51-7c2b8e4d1a90"


@pytest.fixture
def fake():
    with FakeCredly(ORG, "tok") as server:
        server.load_events_dir(FIXTURES)
        yield server


def client_for(fake: FakeCredly, token: str = "tok", sleeps: list | None = None, **kwargs) -> CredlyClient:
    policy = RetryPolicy(attempts=3, base=0.01, cap=2.0, jitter=lambda wait: wait)
    sink = sleeps if sleeps is not None else []
    return CredlyClient(fake.base_url, ORG, token, retry=policy, sleep=sink.append, **kwargs)


def test_fetched_event_translates_to_an_issued_event(fake):
    document = client_for(fake).fetch_event(CREATED)
    events = CredlyAdapter().parse(document)
    assert [e.kind.value for e in events] == ["issued"]
    assert events[0].source_event_id == CREATED


def test_unknown_event_is_not_found(fake):
    with pytest.raises(CredlyNotFound, match="404"):
        client_for(fake).fetch_event("nope")


def test_hostile_event_id_cannot_leave_the_events_path(fake):
    with pytest.raises(CredlyNotFound):
        client_for(fake).fetch_event("../badges")
    assert fake.requests[-1][1].endswith("/events/..%2Fbadges")


def test_wrong_token_is_an_auth_error_after_one_request(fake):
    with pytest.raises(CredlyAuthError, match="CREDLY_TOKEN") as caught:
        client_for(fake, token="expired").fetch_event(CREATED)
    assert "expired" not in str(caught.value)
    assert len(fake.requests) == 1


def test_429_then_500_then_success_honours_retry_after(fake):
    fake.fail_next(429, headers={"Retry-After": "1"})
    fake.fail_next(500)
    sleeps: list[float] = []
    document = client_for(fake, sleeps=sleeps).fetch_event(CREATED)
    assert document["data"]["id"] == CREATED
    assert sleeps == [1.0, 0.02]


def test_retries_are_bounded(fake):
    fake.fail_next(503, times=3)
    with pytest.raises(TransientFailure, match="3 attempts"):
        client_for(fake).fetch_event(CREATED)


def test_slow_answer_is_retried(fake):
    fake.delay_next(0.5)
    document = client_for(fake, timeout=(1.0, 0.2)).fetch_event(CREATED)
    assert document["data"]["id"] == CREATED
    assert len(fake.requests) == 2


def test_event_of_another_organisation_is_refused(fake):
    detail = {**json.loads((FIXTURES / "event_badge_created.json").read_text())["data"], "id": "foreign", "organization_id": "other"}
    fake.add_event(detail)
    with pytest.raises(ConnectorError, match="another organisation"):
        client_for(fake).fetch_event("foreign")


def test_badge_list_follows_every_page(fake):
    template = json.loads((FIXTURES / "badges_page_1.json").read_text())["data"][0]
    for index in range(120):
        fake.add_badge({**template, "id": f"badge-{index}"})
    badges = list(client_for(fake).iter_badges())
    assert [b["id"] for b in badges] == [f"badge-{i}" for i in range(120)]
    assert len([p for m, p in fake.requests if p.endswith("/badges")]) == 3


def test_issuing_twice_is_already_awarded_and_missing_fields_are_named(fake):
    payload = {
        "recipient_email": "ada.lovelace@example.com", "badge_template_id": "t-1",
        "issued_to_first_name": "Ada", "issued_to_last_name": "Lovelace", "issued_at": "2026-11-20 14:03:10 +0000",
    }
    client = client_for(fake)
    assert client.issue_badge(payload)["data"]["badge_template_id"] == "t-1"
    with pytest.raises(CredlyAlreadyAwarded):
        client.issue_badge({**payload, "recipient_email": "Ada.Lovelace@example.com"})
    with pytest.raises(InputError, match="issued_at"):
        client.issue_badge({k: v for k, v in payload.items() if k != "issued_at"})
