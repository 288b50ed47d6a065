"""Pulling Certifier's history into the real LRS: every issued credential and its interactions
across pages, drafts skipped; an interaction that also came by webhook is one statement; a pull
stopped by a failing or truncated page, or by a crash between queueing a page and storing its
cursor, resumes without losing or re-reading what was queued."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.support.connector import fixture_json
from tests.test_processing_crash_windows import Crash, crash_at

pytestmark = pytest.mark.integration

TOKEN = "cert-pull-" + uuid.uuid4().hex
GROUP = "01JC0GROUPSECURITY0000001"  # the webhook fixtures' group
GRACE = "01JD8Q1A2B3C4D5E6F7G8H9J0K"  # the webhook fixtures' credential
SHARED_LINKEDIN = "ci_01JD9A0S1H2A3R4E5D6L7N8K9D"  # the LinkedIn share webhook's interaction
PAGE_SIZE = 3
CURSOR = "pull:certifier:backfill"
# The walk over HISTORY, a page at a time (credentials pages of three; interactions pages of three;
# a credential without interactions queues nothing; the end is an empty page):
WALK = [
    "credentials 0-2",
    "interactions 0 (3)",
    "interactions 0 (1)",
    "credentials 3-5",
    "interactions 3",
    "interactions 4",
    "credentials 6-7",
    "interactions 6 (3)",
    "end",
]


def listed(n: int, status: str = "issued", **extra: object) -> dict:
    """A credential as GET /credentials lists it (groupId, no group name)."""
    return {
        "id": f"01JPULL{n:019d}",
        "publicId": str(uuid.UUID(int=n + 1)),
        "groupId": GROUP,
        "status": status,
        "recipient": {"id": f"01JRCPT{n:019d}", "name": f"Learner {n}", "email": f"learner{n}@example.com"},
        "issueDate": f"2026-0{1 + n % 9}-15",
        "expiryDate": None,
        "attributes": {},
        "customAttributes": {},
        "createdAt": "2026-01-15T08:00:00.000Z",
        "updatedAt": "2026-01-15T08:00:00.000Z",
        **extra,
    }


def grace() -> dict:
    """The webhook fixtures' credential, as the list answers it: without its group."""
    credential = fixture_json("certifier/webhook_credential_issued.json")["data"]["credential"]
    return {k: v for k, v in credential.items() if k != "group"}


def fixture_interaction(name: str, credential_id: str) -> dict:
    return {**fixture_json(f"certifier/{name}.json")["data"]["credentialInteraction"], "credentialId": credential_id}


def made(n: int, credential_id: str, event: str, by: str = "recipient") -> dict:
    return {
        "id": f"ci_PULL{n:019d}",
        "credentialId": credential_id,
        "eventType": event,
        "triggeredBy": by,
        "triggeredAt": f"2026-10-{1 + n:02d}T09:00:00.000Z",
    }


class History:
    def __init__(self, fake) -> None:
        self.credentials = [
            grace(),
            listed(1),
            listed(2, "draft"),
            listed(3),
            listed(4, "expired", expiryDate="2025-06-30"),
            listed(5, "scheduled"),
            listed(6),
            listed(7),
        ]
        c = [x["id"] for x in self.credentials]
        self.interactions = [
            fixture_interaction("webhook_credential_shared_linkedin", c[0]),
            fixture_interaction("webhook_credential_viewed_guest", c[0]),
            made(1, c[0], "credential_downloaded"),
            made(2, c[0], "credential_verified", "guest"),
            made(3, c[3], "credential_link_copied"),
            made(4, c[4], "credential_added_to_linkedin_profile"),
            made(5, c[4], "credential_shared_to_facebook"),
            made(6, c[6], "credential_shared_to_twitter"),
            made(7, c[6], "credential_shared_to_whatsapp"),
            made(8, c[6], "credential_shared_to_telegram"),
        ]
        self.never = [made(9, c[2], "credential_viewed")]  # a draft's: never read
        for credential in self.credentials:
            fake.add_credential(credential)
        for item in self.interactions + self.never:
            fake.add_interaction(item)

    def expected(self, connector) -> list[str]:
        ids = [
            key_id(connector, f"certifier|{c['id']}|issued")
            for c in self.credentials
            if c["status"] in ("issued", "expired")
        ]
        ids += [key_id(connector, f"certifier|{c['id']}|expired") for c in self.credentials if c["status"] == "expired"]
        return ids + [key_id(connector, f"certifier|{i['id']}") for i in self.interactions]

    def unexpected(self, connector) -> list[str]:
        return [
            key_id(connector, f"certifier|{c['id']}|issued")
            for c in self.credentials
            if c["status"] in ("draft", "scheduled")
        ] + [key_id(connector, f"certifier|{i['id']}") for i in self.never]


@pytest.fixture
def certifier(connector, monkeypatch):
    from fakes.certifier_api import FakeCertifier

    monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
    with FakeCertifier(TOKEN, page_size=PAGE_SIZE) as fake:
        fake.add_group(
            {
                "id": GROUP,
                "name": "Secure Coding Practitioner",
                "createdAt": "2026-01-01T00:00:00.000Z",
                "updatedAt": "2026-01-01T00:00:00.000Z",
            }
        )
        monkeypatch.setenv("CERTIFIER_API_BASE", fake.base_url)
        monkeypatch.setenv("CERTIFIER_TOKEN", TOKEN)
        connector.restart()
        yield fake


@pytest.fixture
def history(certifier) -> History:
    return History(certifier)


def pull(connector, mode: str = "backfill", on_page=None, since=None):
    return connector.pull("certifier", mode, on_page, since)


def key_id(connector, key: str) -> str:
    return connector.statement_id(key)


def status_of(lrs_session, lrs, statement_id: str) -> int:
    return lrs_session.get(lrs.statements_url, params={"statementId": statement_id}).status_code


def missing_in_lrs(lrs_session, lrs, ids: list[str]) -> list[str]:
    return [i for i in ids if status_of(lrs_session, lrs, i) != 200]


def stored_since(lrs_session, lrs, since: str, **params: str) -> list[dict]:
    """Every statement the LRS stored since `since` (following its `more` links)."""
    answer = lrs_session.get(lrs.statements_url, params={"since": since, "limit": "500", **params}).json()
    statements = list(answer["statements"])
    while answer.get("more"):
        answer = lrs_session.get(requests_url(lrs.statements_url, answer["more"])).json()
        statements.extend(answer["statements"])
    return statements


def requests_url(base: str, more: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, more)


def list_reads(fake) -> list[str]:
    return [t for m, t in fake.targets if m == "GET" and t.startswith(("/v1/credentials?", "/v1/credential-inter"))]


def test_a_backfill_delivers_every_issued_credential_and_its_interactions_and_skips_drafts(
    connector, certifier, history, lrs, lrs_session
):
    report = pull(connector)

    assert (report.pages, report.records, report.finished) == (len(WALK), 18, True)
    assert connector.services.store.cursor(CURSOR) is None  # done: a new run starts over
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, history.expected(connector)) == []
    assert [status_of(lrs_session, lrs, i) for i in history.unexpected(connector)] == [404] * 3
    assert connector.services.store.count_dead_letters() == 0
    assert connector.services.store.counters().get("skipped", 0) == 2  # the draft and the scheduled one
    assert not any(history.never[0]["credentialId"] in t for t in list_reads(certifier))
    assert [t for m, t in certifier.targets if t.startswith("/v1/groups/")] == [f"/v1/groups/{GROUP}"]


def test_an_expired_credential_is_earned_and_expired_at_its_expiry_date(connector, history, lrs, lrs_session):
    pull(connector)
    connector.drain()
    expired = history.credentials[4]["id"]
    answer = lrs_session.get(
        lrs.statements_url, params={"statementId": key_id(connector, f"certifier|{expired}|expired")}
    )
    assert answer.status_code == 200 and answer.json()["timestamp"].startswith("2025-06-30T00:00:00")


@pytest.mark.parametrize("order", ["webhook-then-pull", "pull-then-webhook"])
def test_an_interaction_that_came_by_webhook_and_by_pull_is_one_statement(connector, history, lrs, lrs_session, order):
    started = datetime.now(UTC).isoformat()
    webhook = fixture_json("certifier/webhook_credential_shared_linkedin.json")
    steps = [lambda: connector.certifier_webhook(webhook).status_code, lambda: pull(connector).finished]
    for step in steps if order == "webhook-then-pull" else reversed(steps):
        assert step() in (202, True)
        connector.drain()

    shared = key_id(connector, f"certifier|{SHARED_LINKEDIN}")
    downloaded = key_id(connector, "certifier|ci_PULL0000000000000000001")
    # Both paths sent the share under one id, so the LRS holds it once: Grace's shares since the
    # test began are the LinkedIn one and the download, not a second LinkedIn share.
    stored = stored_since(
        lrs_session,
        lrs,
        started,
        verb="http://adlnet.gov/expapi/verbs/shared",
        agent='{"mbox": "mailto:grace.hopper@example.com"}',
    )
    assert sorted(s["id"] for s in stored) == sorted([shared, downloaded])
    assert connector.services.store.count_dead_letters() == 0


FAILURES = [(1, "server-error"), (3, "rate-limited"), (3, "truncated"), (6, "server-error"), (6, "truncated")]


@pytest.mark.parametrize(("after", "failure"), FAILURES, ids=[f"{f}-after-page-{a}" for a, f in FAILURES])
def test_a_failing_page_stops_the_pull_and_the_next_run_resumes_there(
    connector, certifier, history, lrs, lrs_session, after, failure
):
    from chalicelib.errors import ConnectorError
    from chalicelib.platforms.certifier.pull import Position

    def fail_next_read(report):
        if report.pages == after:
            if failure == "truncated":
                certifier.truncate_next()
            elif failure == "rate-limited":
                certifier.fail_next(429, times=2, headers={"Retry-After": "0"})  # every attempt
            else:
                certifier.fail_next(503, times=2)

    with pytest.raises(ConnectorError):
        pull(connector, on_page=fail_next_read)
    stored = connector.services.store.cursor(CURSOR)
    position = Position.decode(stored)
    attempts = 1 if failure == "truncated" else 2
    answered = list_reads(certifier)[:-attempts]  # read and queued before the failure
    failed = list_reads(certifier)[-1]
    before = len(certifier.targets)

    report = pull(connector)

    assert (report.pages, report.finished) == (len(WALK) - after, True)  # every page queued once in all
    again = [t for m, t in certifier.targets[before:] if m == "GET" and t in answered]
    current_page = (
        []
        if position.phase == "credentials"
        else [f"/v1/credentials?{'cursor=' + position.page + '&' if position.page else ''}limit=100"]
    )
    assert again == current_page  # only the credentials page being worked through, to list its credentials
    assert failed in [t for _, t in certifier.targets[before:]]
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, history.expected(connector)) == []
    assert connector.services.store.count_dead_letters() == 0
    assert connector.services.store.cursor(CURSOR) is None


@pytest.mark.parametrize(
    ("nth", "after"),
    [(1, False), (2, False), (4, False), (8, True)],
    ids=["first-page-queued-only", "interactions-page-queued-only", "credentials-page-queued-only", "cursor-stored"],
)
def test_a_crash_between_queueing_a_page_and_storing_its_cursor_loses_nothing(
    connector, history, lrs, lrs_session, monkeypatch, nth, after
):
    crash_at(monkeypatch, connector.services.store, "set_cursor", nth=nth, after=after)
    with pytest.raises(Crash):
        pull(connector)
    connector.restart()

    report = pull(connector)

    # from the page whose cursor was not stored (queued twice: same ids), or the one after it
    assert (report.pages, report.finished) == (len(WALK) - nth + (0 if after else 1), True)
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, history.expected(connector)) == []
    assert connector.services.store.count_dead_letters() == 0


def test_a_sync_reads_everything_again_and_the_lrs_keeps_one_statement_each(connector, history, lrs, lrs_session):
    started = datetime.now(UTC).isoformat()
    backfill = pull(connector)
    connector.drain()

    sync = pull(connector, mode="sync")
    connector.drain()

    assert (sync.pages, sync.records, sync.finished) == (backfill.pages, backfill.records, True)
    assert connector.services.store.cursor("pull:certifier:sync") is None
    stored = sorted(s["id"] for s in stored_since(lrs_session, lrs, started))
    assert stored == sorted(history.expected(connector))  # the same ids twice: each stored once
    assert connector.services.store.count_dead_letters() == 0
