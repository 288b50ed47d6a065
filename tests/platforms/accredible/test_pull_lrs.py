"""Pulling Accredible into the real LRS: credentials by cursor paging, views from the analytics,
expiries, syncs that send only what changed, failing and truncated pages, a crash between
queueing a page and storing its cursor, and 429 with Retry-After."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.test_processing_crash_windows import Crash, crash_at

pytestmark = pytest.mark.integration

CREDENTIALS = 50  # pages of 20, 20 and 10 (the fake's page size is cut to 20), then the analytics
VIEWED = "http://id.tincanapi.com/verb/viewed"
SEARCH, ANALYTICS = "/v2/credentials/search", "/v1/analytics"


@pytest.fixture
def accredible(connector, monkeypatch):
    from chalicelib.platforms.accredible.api import AccredibleClient
    from fakes.accredible_api import FakeAccredible

    key = "acc-" + uuid.uuid4().hex
    # Ids of their own: statements of other tests in the session's LRS name other credentials.
    with FakeAccredible(key, first_id=random.randrange(10**8, 10**9)) as fake:
        fake.max_page_size = 20
        monkeypatch.setenv("ACCREDIBLE_API_BASE", fake.base_url)
        monkeypatch.setenv("ACCREDIBLE_API_KEY", key)
        monkeypatch.setenv("HTTP_MAX_ATTEMPTS", "2")
        monkeypatch.setattr(AccredibleClient, "requests_per_second", 1000.0)  # pacing: its own test below
        connector.restart()
        yield fake


@pytest.fixture
def history(accredible):
    start = datetime.now(UTC) - timedelta(days=60)
    return [
        accredible.add_credential(
            f"learner{i}@example.com",
            f"Learner {i}",
            group_id=771001 + i % 3,
            updated_at=_iso(start + timedelta(hours=i)),
        )
        for i in range(CREDENTIALS)
    ]


def pull(connector, mode: str = "backfill", on_page=None, since=None):
    return connector.pull("accredible", mode, on_page, since)


def statement_id(connector, key: str) -> str:
    return connector.statement_id(key)


def issued_ids(connector, credentials: list[dict]) -> list[str]:
    return [statement_id(connector, f"accredible|{c['id']}|issued") for c in credentials]


def view_id(connector, credential: dict, event: str, created_at: str) -> str:
    return statement_id(connector, f"accredible|{credential['id']}|{event}|{created_at}")


def missing_in_lrs(lrs_session, lrs, ids: list[str]) -> list[str]:
    return [i for i in ids if lrs_session.get(lrs.statements_url, params={"statementId": i}).status_code != 200]


def searches(fake) -> list[dict]:
    return [r.body for r in fake.received if r.path == SEARCH]


def queued(connector, monkeypatch) -> list[dict]:
    """Every document the pull queues from now on."""
    documents: list[dict] = []
    send = connector.services.queue.send

    def recording(message):
        documents.append(message.body)
        return send(message)

    monkeypatch.setattr(connector.services.queue, "send", recording)
    return documents


def stored_state(connector, mode: str):
    from chalicelib.platforms.accredible.pull import State

    return State.decode(connector.services.store.cursor(f"pull:accredible:{mode}"))


def test_a_backfill_reads_every_page_and_delivers_every_credential(connector, accredible, history, lrs, lrs_session):
    report = pull(connector)
    assert (report.pages, report.records, report.total, report.finished) == (4, CREDENTIALS, CREDENTIALS, True)
    bodies = searches(accredible)
    assert bodies[0] == {"query": {"approve": True}, "sort": {"id": "asc"}, "page": {"size": 50}}
    assert ["cursor" in body["page"] for body in bodies] == [False, True, True]
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
    assert connector.services.store.count_dead_letters() == 0
    assert connector.services.store.cursor("pull:accredible:backfill") is None  # done: a new run starts over


def test_a_credential_expired_or_withdrawn_by_its_expiry_gives_its_expired_statement(
    connector, accredible, lrs, lrs_session
):
    lapsed = accredible.add_credential(
        "ada.lovelace@example.com",
        "Ada Lovelace",
        issued_on="2024-06-01",
        expired_on="2026-06-01",
        updated_at="2026-06-01T00:00:00.000Z",
    )
    current = accredible.add_credential(
        "grace.hopper@example.com", "Grace Hopper", expired_on="2030-01-01", updated_at="2026-10-01T09:00:00.000Z"
    )
    pull(connector, "sync")
    connector.drain()
    expired = lambda c: statement_id(connector, f"accredible|{c['id']}|expired")  # noqa: E731
    assert missing_in_lrs(lrs_session, lrs, [*issued_ids(connector, [lapsed, current]), expired(lapsed)]) == []
    assert missing_in_lrs(lrs_session, lrs, [expired(current)]) == [expired(current)]

    # Accredible has no revoked state: "revoking" sets expired_on in the past, read as an expiry.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    accredible.update_credential(current["id"], expired_on=yesterday)
    assert pull(connector, "sync").records == 1
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, [expired(current)]) == []
    assert connector.services.store.count_dead_letters() == 0


def test_a_second_sync_sends_only_what_changed(connector, accredible, history, lrs, lrs_session, monkeypatch):
    first = pull(connector, "sync")
    assert (first.records, first.finished) == (CREDENTIALS, True)
    connector.drain()
    changed = accredible.update_credential(history[7]["id"], description="Renewed for 2027.")
    added = accredible.add_credential("dorothy.vaughan@example.com", "Dorothy Vaughan", employee_id="E-4004")
    watermark = stored_state(connector, "sync").credentials.after
    documents = queued(connector, monkeypatch)
    before = len(searches(accredible))

    second = pull(connector, "sync")
    assert (second.records, second.finished) == (2, True)
    sent = [c["id"] for d in documents for c in d.get("credentials", [])]
    assert sorted(sent) == sorted([changed["id"], added["id"]])
    [body] = searches(accredible)[before:]  # one page: the fake filtered on updated_at, by the day
    day_before = (watermark - timedelta(days=1)).date().isoformat()
    assert body["query"] == {"approve": True, "updated_at[gte]": day_before}
    assert body["page"] == {"size": 50}
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, [added])) == []

    third = pull(connector, "sync")  # nothing changed since
    assert (third.records, third.finished) == (0, True)
    assert sum(len(d.get("credentials", [])) + len(d.get("analytics", [])) for d in documents[2:]) == 0
    assert connector.services.store.count_dead_letters() == 0


def test_views_become_viewed_statements_once_even_when_the_window_is_read_again(
    connector, accredible, history, lrs, lrs_session, monkeypatch
):
    ada = accredible.add_credential("ada.lovelace@example.com", "Ada Lovelace", employee_id="E-1001")
    seen = "2026-11-19T08:01:02.000Z"
    verified = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    accredible.add_event(ada["id"], "recipient_view_certificate", seen)
    accredible.add_event(ada["id"], "credential_user_verified", verified)
    ids = [
        view_id(connector, ada, "recipient_view_certificate", seen),
        view_id(connector, ada, "credential_user_verified", verified),
    ]

    first = pull(connector, "sync")
    assert first.records == CREDENTIALS + 1 + 2
    assert [r.path for r in accredible.received].count(f"/v1/credentials/{ada['id']}") == 1  # once per run
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, ids) == []
    [by_guest] = [lrs_session.get(lrs.statements_url, params={"statementId": ids[1]}).json()]
    assert by_guest["actor"]["account"]["homePage"] == "https://www.credential.net"
    assert by_guest["verb"]["id"] == VIEWED and by_guest["object"]["id"] == ada["url"]

    assert pull(connector, "sync").records == 0  # the next sync does not send them again
    documents = queued(connector, monkeypatch)
    pull(connector, "backfill")  # reads the whole window again, and sends the views again
    assert sum(len(d.get("analytics", [])) for d in documents) == 2
    connector.drain()
    answer = lrs_session.get(lrs.statements_url, params={"verb": VIEWED, "activity": ada["url"]}).json()
    assert sorted(s["id"] for s in answer["statements"]) == sorted(ids)  # one statement per view
    assert connector.services.store.count_dead_letters() == 0


def test_an_unknown_analytics_event_is_counted_and_skipped_not_guessed(
    connector, accredible, lrs, lrs_session, monkeypatch
):
    from chalicelib.platforms.accredible import pull as accredible_pull

    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr(accredible_pull, "log", lambda event, **fields: logged.append((event, fields)))
    grace = accredible.add_credential("grace.hopper@example.com", "Grace Hopper")
    accredible.add_event(grace["id"], "credential_shared_to_myspace", "2026-11-20T10:00:00.000Z")
    accredible.add_event(grace["id"], "credential_shared_to_myspace", "2026-11-21T10:00:00.000Z")
    accredible.add_event(grace["id"], "privacy_updated", "2026-11-21T11:00:00.000Z")

    pull(connector, "sync")
    connector.drain()
    assert f"/v1/credentials/{grace['id']}" not in [r.path for r in accredible.received]  # not even looked up
    [(event, fields)] = [entry for entry in logged if entry[0] == "accredible_analytics_skipped"]
    assert fields == {
        "page": 1,
        "skipped": 3,
        "unknown": {"credential_shared_to_myspace": 2},
        "ignored": {"privacy_updated": 1},
    }
    assert "@" not in json.dumps(fields)
    assert connector.services.store.counters().get("skipped", 0) == 3
    answer = lrs_session.get(lrs.statements_url, params={"activity": grace["url"]}).json()
    assert answer["statements"] == []  # no share, no view: nothing is made up
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, [grace])) == []
    assert connector.services.store.count_dead_letters() == 0


@pytest.mark.parametrize("failure", ["server-error", "truncated", "analytics"])
def test_a_failing_page_stops_the_pull_and_the_next_run_resumes_there(
    connector, accredible, history, lrs, lrs_session, failure
):
    from chalicelib.errors import ConnectorError

    viewed = "2026-11-25T12:00:00.000Z"
    accredible.add_event(history[0]["id"], "recipient_view_certificate", viewed)

    def fail(report):
        if failure == "truncated" and report.pages == 2:
            accredible.truncate_next(path=SEARCH)
        elif failure == "server-error" and report.pages == 2:
            accredible.fail_next(503, times=2, path=SEARCH)  # every attempt of the third page
        elif failure == "analytics" and report.pages == 3:
            accredible.fail_next(503, times=2, path=ANALYTICS)

    with pytest.raises(ConnectorError):
        pull(connector, on_page=fail)
    state = stored_state(connector, "backfill")
    before = len(searches(accredible))

    report = pull(connector)
    assert report.finished
    if failure == "analytics":
        assert state.phase == "analytics"
        assert (report.pages, len(searches(accredible))) == (1, before)  # no credential read again
    else:
        assert state.phase == "credentials" and state.credentials.page
        [again] = searches(accredible)[before:]  # only the third page, read again
        assert again["page"] == {"size": 50, "cursor": state.credentials.page}
        assert (report.pages, report.records) == (2, 10 + 1)
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
    assert (
        missing_in_lrs(lrs_session, lrs, [view_id(connector, history[0], "recipient_view_certificate", viewed)]) == []
    )
    assert connector.services.store.count_dead_letters() == 0


def test_a_crash_between_queueing_a_page_and_storing_its_cursor_loses_nothing(
    connector, accredible, history, lrs, lrs_session, monkeypatch
):
    crash_at(monkeypatch, connector.services.store, "set_cursor", nth=2, after=False)  # page 2 queued only
    with pytest.raises(Crash):
        pull(connector, "sync")
    connector.restart()
    report = pull(connector, "sync")
    assert (report.pages, report.finished) == (3, True)  # page 2 again (queued twice: same ids), 3, analytics
    connector.drain()
    assert missing_in_lrs(lrs_session, lrs, issued_ids(connector, history)) == []
    assert connector.services.store.count_dead_letters() == 0
    assert pull(connector, "sync").records == 0  # and the watermark was stored at the end


def test_429_with_retry_after_is_honoured(connector, accredible, history, monkeypatch):
    monkeypatch.setenv("HTTP_BACKOFF_CAP", "5")  # the tests' 0.05 s cap would cut Retry-After short
    connector.restart()
    accredible.fail_next(429, headers={"Retry-After": "1"}, path=SEARCH)
    report = pull(connector)
    assert (report.records, report.finished) == (CREDENTIALS, True)
    first, retry = [
        stamp for (_, path), stamp in zip(accredible.requests, accredible.stamps, strict=True) if path == SEARCH
    ][:2]
    assert 0.95 <= retry - first < 4


def test_requests_are_paced(connector, accredible, history, monkeypatch):
    from chalicelib.platforms.accredible.api import AccredibleClient

    monkeypatch.setattr(AccredibleClient, "requests_per_second", 10.0)
    monkeypatch.setattr(AccredibleClient, "burst", 1)
    pull(connector)  # 3 search pages and one analytics page
    stamps = accredible.stamps
    assert len(stamps) == 4 and stamps[-1] - stamps[0] >= 0.28  # 3 gaps of 0.1 s, timer slack allowed


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
