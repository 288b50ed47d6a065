"""The Credly API client against the local fake, which fails the way Credly does."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from chalicelib.errors import ConnectorError, InputError, PlatformRefused, SettingsError
from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.platforms import api_client
from chalicelib.platforms.credly.adapter import CredlyAdapter
from chalicelib.platforms.credly.api import CredlyAlreadyAwarded, CredlyAuthError, CredlyClient, CredlyNotFound
from chalicelib.settings import load_settings
from fakes.credly_api import FakeCredly
from tests.support.paths import FIXTURE_DIR

FIXTURES = FIXTURE_DIR / "credly"
ORG = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"
CREATED = "0b6f3c1e-2d4a-4f7e-9a51-7c2b8e4d1a90"
TOKEN = "tok-secret-123"
PAYLOAD = {
    "recipient_email": "ada.lovelace@example.com",
    "badge_template_id": "t-1",
    "issuer_earner_id": "E-1001",
    "issued_to_first_name": "Ada",
    "issued_to_last_name": "Lovelace",
    "issued_at": "2026-11-20 14:03:10 +0000",
}


@pytest.fixture
def fake():
    with FakeCredly(ORG, TOKEN) as server:
        server.load_events_dir(FIXTURES)
        yield server


def client_for(fake: FakeCredly, token: str = TOKEN, sleeps: list | None = None, **kwargs) -> CredlyClient:
    policy = RetryPolicy(attempts=3, base=0.01, cap=2.0, jitter=lambda wait: wait)
    sink = sleeps if sleeps is not None else []
    return CredlyClient(fake.base_url, ORG, token, retry=policy, sleep=sink.append, **kwargs)


def fixture_badge() -> dict:
    return json.loads((FIXTURES / "badges_page_1.json").read_text())["data"][0]


def badge_requests(fake: FakeCredly) -> list[str]:
    return [path for method, path in fake.requests if method == "GET" and path.endswith("/badges")]


class _Canned(requests.Session):
    """A session answering every request with one JSON page: servers the fake will not imitate."""

    def __init__(self, body: dict) -> None:
        super().__init__()
        self.body = body

    def request(self, method, url, **kwargs):  # type: ignore[override]
        response = requests.Response()
        response.status_code, response._content, response.url = 200, json.dumps(self.body).encode(), url
        return response


# -- fetch_event -----------------------------------------------------------------------------


def test_fetched_event_translates_to_an_issued_event(fake):
    document = client_for(fake).fetch_event(CREATED)
    assert document["data"]["id"] == CREATED
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


@pytest.mark.parametrize("event_id", ["", ".", "..", " "])
def test_dot_segment_ids_are_refused_before_any_request(fake, event_id):
    # A quoted ".." is still resolved by the HTTP client: it would GET the organisation itself.
    with pytest.raises(InputError, match="event_id"):
        client_for(fake).fetch_event(event_id)
    assert fake.requests == []


def test_wrong_token_is_an_auth_error_after_one_request(fake):
    with pytest.raises(CredlyAuthError, match="CREDLY_TOKEN") as caught:
        client_for(fake, token="expired-token").fetch_event(CREATED)
    assert "expired-token" not in str(caught.value)
    assert len(fake.requests) == 1


def test_event_of_another_organisation_is_refused(fake):
    detail = {
        **json.loads((FIXTURES / "event_badge_created.json").read_text())["data"],
        "id": "foreign",
        "organization_id": "other",
    }
    fake.add_event(detail)
    with pytest.raises(ConnectorError, match="another organisation"):
        client_for(fake).fetch_event("foreign")


def test_answer_without_data_object_is_an_input_error(fake):
    with pytest.raises(InputError, match="without a data object"):
        client_for(fake, session=_Canned({"data": []})).fetch_event(CREATED)


# -- retries ---------------------------------------------------------------------------------


def test_429_then_500_then_success_honours_retry_after(fake):
    fake.fail_next(429, headers={"Retry-After": "1"})
    fake.fail_next(500)
    sleeps: list[float] = []
    document = client_for(fake, sleeps=sleeps).fetch_event(CREATED)
    assert document["data"]["id"] == CREATED
    assert sleeps == [1.0, 0.02]  # Retry-After, then base * 2**1 (jitter disabled)
    assert len(fake.requests) == 3


def test_retries_are_bounded(fake):
    fake.fail_next(503, times=3)
    with pytest.raises(TransientFailure, match="3 attempts"):
        client_for(fake).fetch_event(CREATED)
    assert len(fake.requests) == 3


def test_slow_answer_is_retried(fake):
    fake.delay_next(0.5)
    document = client_for(fake, timeout=(1.0, 0.2)).fetch_event(CREATED)
    assert document["data"]["id"] == CREATED
    assert len(fake.requests) == 2


def test_other_refusals_are_not_retried(fake):
    fake.fail_next(400)
    with pytest.raises(PlatformRefused, match="400"):
        client_for(fake).fetch_event(CREATED)
    assert len(fake.requests) == 1


# -- iter_badges -----------------------------------------------------------------------------


def test_badge_list_follows_every_page(fake):
    for index in range(120):
        fake.add_badge({**fixture_badge(), "id": f"badge-{index}"})
    badges = list(client_for(fake).iter_badges())
    assert [b["id"] for b in badges] == [f"badge-{i}" for i in range(120)]
    assert len(badge_requests(fake)) == 3
    assert CredlyAdapter().parse({"data": badges[:1]})[0].credential.id == "badge-0"


def test_badge_list_filter_is_kept_on_every_page(fake):
    for index in range(130):
        fake.add_badge({**fixture_badge(), "id": f"badge-{index}", "state": "accepted" if index % 2 else "pending"})
    badges = list(client_for(fake).iter_badges(filter="state::accepted"))
    assert len(badges) == 65
    assert {b["state"] for b in badges} == {"accepted"}
    assert len(badge_requests(fake)) == 2


def test_empty_badge_list_is_one_request(fake):
    assert list(client_for(fake).iter_badges()) == []
    assert len(badge_requests(fake)) == 1


def test_next_page_on_another_host_is_not_followed(fake):
    page = {"data": [fixture_badge()], "metadata": {"next_page_url": "https://evil.example/v1/badges?page=2"}}
    client = client_for(fake, session=_Canned(page))
    with pytest.raises(ConnectorError, match="not followed"):
        list(client.iter_badges())


def test_repeating_next_page_does_not_loop(fake):
    page = {"data": [fixture_badge()], "metadata": {"next_page_url": fake.base_url + f"organizations/{ORG}/badges"}}
    with pytest.raises(ConnectorError, match="repeats"):
        list(client_for(fake, session=_Canned(page)).iter_badges())


# -- issue_badge -----------------------------------------------------------------------------


def test_issued_badge_is_created_and_recorded(fake):
    answer = client_for(fake).issue_badge(PAYLOAD)
    badge = answer["data"]
    assert badge["state"] == "pending" and badge["badge_template"]["id"] == "t-1"
    assert fake.issued == [PAYLOAD]
    assert fake.requests[-1] == ("POST", f"/v1/organizations/{ORG}/badges")


def test_issuing_twice_for_the_same_learner_and_template_is_already_awarded(fake):
    client = client_for(fake)
    client.issue_badge(PAYLOAD)
    with pytest.raises(CredlyAlreadyAwarded):
        client.issue_badge({**PAYLOAD, "recipient_email": "Ada.Lovelace@Example.com"})
    with pytest.raises(CredlyAlreadyAwarded):  # same earner id, new address
        client.issue_badge({**PAYLOAD, "recipient_email": "ada@new.example.com"})
    client.issue_badge({**PAYLOAD, "badge_template_id": "t-2"})
    assert len(fake.issued) == 2


def test_missing_fields_are_named(fake):
    with pytest.raises(InputError, match="issued_at") as caught:
        client_for(fake).issue_badge({k: v for k, v in PAYLOAD.items() if k != "issued_at"})
    assert not isinstance(caught.value, CredlyAlreadyAwarded)
    assert fake.issued == []


def test_emails_in_credly_messages_are_redacted(fake):
    with pytest.raises(InputError) as caught:
        client_for(fake).issue_badge({**PAYLOAD, "issued_at": "ada.lovelace@example.com"})
    assert "@" not in str(caught.value) and "<email>" in str(caught.value)


def test_issue_with_wrong_token_is_an_auth_error(fake):
    with pytest.raises(CredlyAuthError):
        client_for(fake, token="old").issue_badge(PAYLOAD)
    assert fake.issued == []


def test_issue_retries_a_503_and_awards_once(fake):
    fake.fail_next(503)
    client_for(fake).issue_badge(PAYLOAD)
    assert len(fake.issued) == 1


# -- from_settings ---------------------------------------------------------------------------


def test_from_settings_names_the_missing_setting():
    with pytest.raises(SettingsError, match="CREDLY_ORG_ID"):
        api_client("credly", load_settings({"CREDLY_TOKEN": "x"}))
    with pytest.raises(SettingsError, match="CREDLY_TOKEN"):
        api_client("credly", load_settings({"CREDLY_ORG_ID": ORG}))


def test_from_settings_talks_to_the_configured_api(fake):
    settings = load_settings({"CREDLY_API_BASE": fake.base_url, "CREDLY_ORG_ID": ORG, "CREDLY_TOKEN": TOKEN})
    assert api_client("credly", settings).fetch_event(CREATED)["data"]["id"] == CREATED


def test_token_may_be_a_provider_read_per_request(fake):
    current = ["old"]
    client = CredlyClient(fake.base_url, ORG, lambda: current[0], retry=RetryPolicy(attempts=1))
    with pytest.raises(CredlyAuthError):
        client.fetch_event(CREATED)
    current[0] = TOKEN  # renewed: the same client works without being rebuilt
    assert client.fetch_event(CREATED)["data"]["id"] == CREATED


# -- the fake itself -------------------------------------------------------------------------


def _get(fake: FakeCredly, path: str, auth: str | None) -> requests.Response:
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth is not None else {}
    return requests.get(fake.base_url + path, headers=headers, timeout=5)


def test_fake_accepts_token_with_or_without_separator_and_nothing_else(fake):
    path = f"organizations/{ORG}/events/{CREATED}"
    assert _get(fake, path, f"{TOKEN}:").status_code == 200
    assert _get(fake, path, TOKEN).status_code == 200
    assert _get(fake, path, f"{TOKEN}:password").status_code == 401
    refused = _get(fake, path, None)
    assert refused.status_code == 401 and refused.json()["data"]["message"]


def test_fake_hides_other_organisations(fake):
    assert _get(fake, f"organizations/other/events/{CREATED}", f"{TOKEN}:").status_code == 404


def test_fake_page_links_are_absolute_and_null_at_the_end(fake):
    for index in range(3):
        fake.add_badge({**fixture_badge(), "id": f"b{index}"})
    first = _get(fake, f"organizations/{ORG}/badges?per=2&filter=state::pending", f"{TOKEN}:").json()["metadata"]
    assert first["next_page_url"].startswith(fake.base_url) and "per=2" in first["next_page_url"]
    assert (first["count"], first["total_count"], first["total_pages"], first["previous_page_url"]) == (2, 3, 2, None)
    second = requests.get(first["next_page_url"], auth=(TOKEN, ""), timeout=5).json()
    assert second["metadata"]["next_page_url"] is None and len(second["data"]) == 1
    assert _get(fake, f"organizations/{ORG}/badges?page=x", f"{TOKEN}:").status_code == 400
