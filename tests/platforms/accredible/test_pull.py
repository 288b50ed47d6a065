"""The Accredible pull without an LRS: its resume cursor and watermarks, the documented request
shapes (against the fake), the analytics rows as views, and the pacing of requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.events import CredentialEvent, Kind, Skipped
from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.platforms.accredible import pull as accredible_pull
from chalicelib.platforms.accredible.adapter import DELETED_RULE, AccredibleAdapter, analytics_rule
from chalicelib.platforms.accredible.api import AccredibleClient, Pacer, shared_pacer
from chalicelib.platforms.accredible.pull import KNOWN_LIMIT, SETTLE, AccrediblePuller, State, Stream
from fakes.accredible_api import FakeAccredible
from tests.support.helpers import AS_OF, make_translator

KEY = "key-1"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A monotonic clock that only moves when slept on (or told to)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    with FakeAccredible(KEY) as fake:
        fake.max_page_size = 3
        yield fake


def client(fake: FakeAccredible, **kwargs) -> AccredibleClient:
    options = {"retry": RetryPolicy(attempts=3, base=0.01, cap=5.0, jitter=lambda wait: wait), "pacer": None}
    return AccredibleClient(fake.base_url, KEY, **{**options, **kwargs})


def puller(fake: FakeAccredible, now: datetime = NOW, **kwargs) -> AccrediblePuller:
    return AccrediblePuller(client(fake, **kwargs), clock=lambda: now)


def add(fake: FakeAccredible, count: int, start: datetime = NOW - timedelta(days=30)) -> list[dict]:
    return [
        fake.add_credential(f"learner{i}@example.com", f"Learner {i}", updated_at=_iso(start + timedelta(hours=i)))
        for i in range(count)
    ]


def run(source: AccrediblePuller, mode: str = "sync", resume: str | None = None, since=None) -> list:
    return list(source.pages(mode, resume, since))


def bodies(fake: FakeAccredible) -> list[dict]:
    return [r.body for r in fake.received if r.path == "/v2/credentials/search"]


def analytics_queries(fake: FakeAccredible) -> list[str]:
    return [target.split("?", 1)[1] for method, target in fake.targets if target.startswith("/v1/analytics")]


# -- the resume cursor ------------------------------------------------------------------------------


def test_the_cursor_round_trips_and_holds_no_learner_details(fake):
    add(fake, 5)
    pages = run(puller(fake))
    for page in pages[:-1]:
        assert State.decode(page.resume).encode() == page.resume
        assert "@" not in page.resume and "Learner" not in page.resume
    middle = State.decode(pages[0].resume)
    assert (middle.phase, middle.started, middle.end) == ("credentials", NOW, "2026-12-02")
    assert middle.credentials.page == bodies(fake)[1]["page"]["cursor"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"v": 99}',
        '{"v": 1, "phase": "elsewhere"}',
        '{"v": 1, "phase": "credentials", "credentials": {"page": true}, "analytics": {}}',
    ],
)
def test_an_unreadable_cursor_starts_over_and_says_so(fake, monkeypatch, text):
    logged = []
    monkeypatch.setattr(accredible_pull, "log", lambda event, **fields: logged.append(event))
    add(fake, 2)
    pages = run(puller(fake), "backfill", text)
    assert sum(p.records for p in pages) == 2 and pages[-1].last
    assert logged == ["pull_cursor_unreadable"]
    assert "cursor" not in bodies(fake)[0]["page"]


def test_a_finished_sync_starts_the_next_one_from_its_start_less_the_settling_time():
    started = NOW
    state = State(
        started=started,
        credentials=Stream(recent=[f"{_iso(NOW - timedelta(minutes=2))}|7"]),
        analytics=Stream(
            after=NOW - timedelta(days=3), known=(f"{_iso(NOW - timedelta(days=3))}|7|recipient_view_certificate",)
        ),
    )
    following = state.next_sync()
    assert following.started is None and following.phase == "credentials"
    assert following.credentials.after == following.analytics.after == started - SETTLE
    assert following.credentials.known == (f"{_iso(NOW - timedelta(minutes=2))}|7",)  # delivered after the cut
    assert following.analytics.known == ()  # older than the cut: `after` covers it
    assert following.credentials.page is None and following.credentials.recent == []


def test_a_watermark_never_moves_back():
    later = NOW + timedelta(hours=1)
    state = State(started=NOW, credentials=Stream(after=later, known=(f"{_iso(later)}|1",)))
    assert state.next_sync().credentials.after == later
    assert state.next_sync().credentials.known == (f"{_iso(later)}|1",)


def test_known_records_are_bounded():
    recent = [f"{_iso(NOW - timedelta(seconds=i))}|{i}" for i in range(KNOWN_LIMIT + 50)]
    state = State(started=NOW, credentials=Stream(recent=recent))
    assert len(state.next_sync().credentials.known) == KNOWN_LIMIT


# -- credentials ------------------------------------------------------------------------------------


def test_a_backfill_pages_by_cursor_in_the_documented_shape(fake):
    credentials = add(fake, 7)
    pages = run(puller(fake), "backfill")
    assert [p.records for p in pages] == [3, 3, 1, 0] and [p.last for p in pages] == [False] * 3 + [True]
    assert pages[-1].resume is None and {p.total for p in pages} == {7}
    sent = bodies(fake)
    assert sent[0] == {"query": {"approve": True}, "sort": {"id": "asc"}, "page": {"size": 50}}
    assert [set(b["page"]) for b in sent] == [{"size"}, {"size", "cursor"}, {"size", "cursor"}]
    read = [c for p in pages for c in p.document.get("credentials", [])]
    assert [c["id"] for c in read] == [c["id"] for c in credentials]
    events = [e for p in pages for e in AccredibleAdapter().parse(p.document)]
    assert [e.learner.email for e in events] == [f"learner{i}@example.com" for i in range(7)]


def test_a_resumed_pull_reads_no_earlier_page(fake):
    add(fake, 7)
    first = next(iter(puller(fake).pages("backfill", None)))
    before = len(bodies(fake))
    rest = run(puller(fake), "backfill", first.resume)
    assert bodies(fake)[before]["page"]["cursor"] == State.decode(first.resume).credentials.page
    assert sum(p.records for p in rest) == 4


def test_a_backfill_since_a_date_asks_for_credentials_issued_since(fake):
    fake.add_credential("a@example.com", "A", issued_on="2025-01-10")
    fake.add_credential("b@example.com", "B", issued_on="2026-03-01")
    since = datetime(2026, 2, 1, 15, tzinfo=UTC)
    pages = run(puller(fake), "backfill", None, since)
    assert bodies(fake)[0]["query"] == {"approve": True, "issued_on[gte]": "2026-02-01"}
    assert [c["recipient_email"] for p in pages for c in p.document.get("credentials", [])] == ["b@example.com"]
    assert "start_date=2026-01-31" in analytics_queries(fake)[0]


def test_a_sync_sends_what_changed_and_nothing_twice(fake):
    credentials = add(fake, 5)
    first = run(puller(fake))
    later = NOW + timedelta(hours=1)
    fake.update_credential(credentials[1]["id"], updated_at=_iso(later - timedelta(minutes=5)), description="new")
    before = len(bodies(fake))
    second = run(puller(fake, later), "sync", first[-1].resume)
    day_before = (NOW - SETTLE - timedelta(days=1)).date().isoformat()
    assert bodies(fake)[before]["query"] == {"approve": True, "updated_at[gte]": day_before}
    assert [c["id"] for p in second for c in p.document.get("credentials", [])] == [credentials[1]["id"]]
    third = run(puller(fake, later + timedelta(minutes=1)), "sync", second[-1].resume)  # within SETTLE: `known`
    assert sum(p.records for p in third) == 0


def test_a_record_changed_just_before_a_pass_is_not_lost_to_the_clock_skew(fake):
    # Accredible's clock 3 minutes ahead of ours: a change at our 11:58 is stamped 12:01.
    [credential] = add(fake, 1)
    first = run(puller(fake))
    fake.update_credential(credential["id"], updated_at=_iso(NOW - timedelta(minutes=7)))  # stamped before NOW
    second = run(puller(fake, NOW + timedelta(minutes=20)), "sync", first[-1].resume)
    assert sum(p.records for p in second) == 1


def test_a_search_that_repeats_its_cursor_is_not_followed_forever(fake, monkeypatch):
    from chalicelib.errors import ConnectorError

    add(fake, 5)
    source = puller(fake)
    answer = {"credentials": [{"id": 1}], "meta": {"cursor": "same"}}
    monkeypatch.setattr(source.client, "search_credentials", lambda *args: answer)
    with pytest.raises(ConnectorError, match="cursor"):
        list(source.pages("backfill", State(credentials=Stream(page="same")).encode()))


# -- analytics --------------------------------------------------------------------------------------


def test_views_get_their_credential_embedded_once_per_run(fake):
    [ada] = add(fake, 1)
    fake.add_event(ada["id"], "recipient_view_certificate", "2026-11-19T08:01:02.000Z")
    fake.add_event(ada["id"], "credential_user_verified", "2026-11-20T13:44:10.000Z")
    pages = run(puller(fake), "backfill")
    assert [r.path for r in fake.received].count(f"/v1/credentials/{ada['id']}") == 1
    rows = pages[-1].document["analytics"]
    assert {row["credential"]["url"] for row in rows} == {ada["url"]}
    assert set(rows[0]["credential"]) <= {
        "id",
        "name",
        "description",
        "issued_on",
        "expired_on",
        "url",
        "group_id",
        "group_name",
        "group",
        "recipient",
    }
    assert analytics_queries(fake) == ["page=1&page_size=50&end_date=2026-12-02"]
    views = AccredibleAdapter().parse(pages[-1].document)
    assert [(v.kind, v.interaction.channel, v.interaction.by_guest) for v in views] == [
        (Kind.VIEWED, "web", False),
        (Kind.VIEWED, "verification", True),
    ]
    assert views[0].interaction.id == f"{ada['id']}|recipient_view_certificate|2026-11-19T08:01:02.000Z"
    assert views[0].learner.email == "learner0@example.com"


def test_a_view_of_a_credential_accredible_no_longer_has_is_skipped(fake):
    fake.add_event(999, "recipient_view_certificate", "2026-11-19T08:01:02.000Z")
    pages = run(puller(fake), "backfill")
    [row] = pages[-1].document["analytics"]
    assert row["credential"] == {"id": "999", "found": False}
    assert AccredibleAdapter().parse(pages[-1].document) == [Skipped(platform="accredible", rule=DELETED_RULE)]


def test_unknown_events_are_counted_logged_and_skipped_without_a_lookup(fake, monkeypatch):
    logged = []
    monkeypatch.setattr(accredible_pull, "log", lambda event, **fields: logged.append((event, fields)))
    [grace] = add(fake, 1)
    fake.add_event(grace["id"], "credential_shared_to_myspace", "2026-11-19T08:01:02.000Z")
    fake.add_event(grace["id"], "privacy_updated", "2026-11-19T09:01:02.000Z")
    pages = run(puller(fake), "backfill")
    assert not any(r.path.startswith("/v1/credentials/") for r in fake.received)
    assert AccredibleAdapter().parse(pages[-1].document) == [
        Skipped(platform="accredible", rule="accredible analytics event credential_shared_to_myspace"),
        Skipped(platform="accredible", rule=analytics_rule("privacy_updated")),
    ]
    assert logged == [
        (
            "accredible_analytics_skipped",
            {
                "page": 1,
                "skipped": 2,
                "unknown": {"credential_shared_to_myspace": 1},
                "ignored": {"privacy_updated": 1},
            },
        )
    ]


def test_the_analytics_window_starts_a_day_before_the_watermark(fake):
    # The fake reads start_date as exclusive ("after the given date"): a row on the watermark's
    # own day must still be read.
    [ada] = add(fake, 1)
    first = run(puller(fake))
    cut = State.decode(first[-1].resume).analytics.after
    on_the_day = cut + timedelta(minutes=1)
    fake.add_event(ada["id"], "recipient_view_certificate", _iso(on_the_day))
    second = run(puller(fake, NOW + timedelta(hours=1)), "sync", first[-1].resume)
    assert sum(len(p.document.get("analytics", [])) for p in second) == 1
    assert f"start_date={(cut - timedelta(days=1)).date().isoformat()}" in analytics_queries(fake)[-1]


def test_analytics_pages_follow_next_page_and_resume_at_the_failing_one(fake):
    [ada] = add(fake, 1)
    for minute in range(7):
        fake.add_event(ada["id"], "recipient_view_certificate", _iso(NOW - timedelta(days=2, minutes=minute)))
    source = puller(fake)
    source.analytics_page_size = 3
    pages = []
    with pytest.raises(TransientFailure):
        for page in source.pages("backfill", None):
            pages.append(page)
            if len(pages) == 2:  # the credentials page, then analytics page 1
                fake.fail_next(503, times=3, path="/v1/analytics")  # every attempt of page 2
    state = State.decode(pages[-1].resume)
    assert (state.phase, state.analytics.page) == ("analytics", 2)
    rest = run(source, "backfill", pages[-1].resume)
    assert [p.records for p in rest] == [3, 1] and rest[-1].last


def test_a_view_read_twice_is_the_same_statement():
    credential = {
        "id": "84720011",
        "name": "PM",
        "url": "https://www.credential.net/84720011",
        "group_id": 771001,
        "recipient": {"name": "Ada", "email": "ada.lovelace@example.com"},
    }
    document = {
        "analytics": [
            {"credential": credential, "event": "credential_user_verified", "created_at": "2026-11-20T14:44:10+01:00"}
        ]
    }
    translator = make_translator(directory=True)
    first = translator.translate("accredible", document, AS_OF).statements
    again = translator.translate("accredible", json.loads(json.dumps(document)), AS_OF).statements
    assert [s["id"] for s in first] == [s["id"] for s in again]
    [statement] = first
    assert statement["actor"]["account"]["homePage"] == "https://www.credential.net"  # a guest: the verifier
    assert statement["timestamp"] == "2026-11-20T13:44:10.000Z"


def test_a_row_without_its_credential_names_what_is_missing():
    from chalicelib.errors import InputError

    with pytest.raises(InputError, match=r"analytics\[0\]\.credential"):
        AccredibleAdapter().parse(
            {
                "analytics": [
                    {
                        "credential_id": 1,
                        "event": "recipient_view_certificate",
                        "created_at": "2026-11-19T08:01:02.000Z",
                    }
                ]
            }
        )


def test_a_v2_search_credential_reads_like_a_v1_one(fake):
    [ada] = add(fake, 1)
    ada["recipient"]["meta_data"] = {"employee_id": "E-1001"}
    [v2] = puller(fake).client.search_credentials({"approve": True}, {"id": "asc"}, 5)["credentials"]
    v1 = puller(fake).client.credential(str(ada["id"]))
    events = [AccredibleAdapter().parse(document)[0] for document in ({"credentials": [v2]}, {"credential": v1})]
    assert all(isinstance(e, CredentialEvent) for e in events)
    # The v2 search gives the recipient's id as `recipient_id`, which Accredible may leave null.
    assert events[1].learner.platform_user_id == str(ada["recipient"]["id"])
    same_id = {"platform_user_id": events[0].learner.platform_user_id}
    assert events[0].learner == events[1].learner.model_copy(update=same_id)
    assert events[0].credential.id == events[1].credential.id == str(ada["id"])
    assert events[0].learner.earner_id == "E-1001"


# -- the fake speaks only the documented search ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sort": {"id": "asc"}}, "query is required"),
        ({"query": {}, "sort": {"updated_at": "asc"}}, "Sort key updated_at is not supported"),
        ({"query": {"updated_at[gte]": "2026-11-30T10:00:00Z"}}, "YYYY-MM-DD"),
        ({"query": {}, "page": {"from": 0, "cursor": "x", "size": 5}}, "cannot be used together"),
        ({"query": {}, "page": {"from": 9990, "size": 50}}, "10,000"),
    ],
)
def test_the_fake_refuses_what_the_documentation_does_not_allow(fake, body, message):
    import requests

    answer = requests.post(
        f"{fake.base_url}/v2/credentials/search", json=body, headers={"Authorization": f"Token token={KEY}"}, timeout=5
    )
    assert answer.status_code == 400 and answer.json()["status"] == "invalid_search_query"
    assert message in answer.json()["message"]


# -- pacing ----------------------------------------------------------------------------------------


def test_the_pacer_lets_a_burst_through_then_spaces_requests():
    clock = Clock()
    pacer = Pacer(2.0, burst=3, clock=clock, sleep=clock.sleep)
    assert [pacer.wait() for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 0.5]
    clock.now += 60  # idle: the bucket refills, up to the burst only
    assert [pacer.wait() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_concurrent_callers_queue_up_behind_each_other():
    clock = Clock()
    pacer = Pacer(4.0, burst=1, clock=clock, sleep=lambda seconds: clock.slept.append(seconds))
    assert [pacer.wait() for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]  # reserved: nobody wakes at once


def test_the_default_pace_stays_under_the_documented_limit():
    # 2,000 requests per 5 minutes per IP address, counted in 30-second periods (200 each).
    clock = Clock()
    pacer = Pacer(AccredibleClient.requests_per_second, AccredibleClient.burst, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(3000):
        pacer.wait()
        times.append(clock.now)
    assert max(sum(1 for t in times if start <= t < start + 30) for start in range(0, int(times[-1]), 5)) <= 200
    assert max(sum(1 for t in times if start <= t < start + 300) for start in range(0, int(times[-1]), 30)) <= 2000
    assert AccredibleClient.requests_per_second <= 6.6


def test_every_attempt_waits_for_the_pacer(fake):
    waits = []

    class Counting(Pacer):
        def wait(self) -> float:
            waits.append(1)
            return 0.0

    fake.fail_next(503, path="/v1/analytics")
    client(fake, pacer=Counting(1.0), sleep=lambda s: None).analytics(page=1, page_size=5)
    assert len(waits) == 2  # the 503 and its retry


def test_clients_of_one_host_share_one_bucket():
    assert shared_pacer("https://api.accredible.com", 6.0, 10) is shared_pacer("https://api.accredible.com", 6.0, 10)
    assert shared_pacer("https://eu.api.accredible.com", 6.0, 10) is not shared_pacer(
        "https://api.accredible.com", 6.0, 10
    )
    one = AccredibleClient("https://api.accredible.com/", "k")
    two = AccredibleClient("https://api.accredible.com", "k")
    assert one.pacer is two.pacer is not None
    assert AccredibleClient("https://api.accredible.com", "k", pacer=None).pacer is None


def test_429_waits_for_retry_after(fake):
    sleeps = []
    fake.fail_next(429, headers={"Retry-After": "3"}, path="/v2/credentials/search")
    client(fake, sleep=sleeps.append).search_credentials({}, {"id": "asc"}, 5)
    assert sleeps == [3.0]


def test_pacing_rejects_a_rate_that_is_not_positive():
    with pytest.raises(ValueError):
        Pacer(0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
