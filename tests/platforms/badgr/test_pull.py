"""The Canvas Credentials / Badgr puller: its cursors, the links it follows (and refuses), the
pages it yields, and the fake's list endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from chalicelib.errors import ConnectorError
from chalicelib.events import Kind
from chalicelib.httpretry import RetryPolicy
from chalicelib.platforms.badgr.adapter import BadgrAdapter
from chalicelib.platforms.badgr.api import BadgrClient, BadgrNotFound
from chalicelib.platforms.badgr.pull import BadgrPuller, decode_cursor, encode_cursor, iso
from chalicelib.platforms.pulling import PullStopped
from fakes.badgr_api import FakeBadgr

BASE = "https://api.eu.badgr.io"
WATERMARK = "2026-11-30T10:00:00+00:00"
USER, PASSWORD = "issuer@example.com", "s3cret"


# -- cursors -------------------------------------------------------------------------------------


def test_a_cursor_is_compact_json_without_empty_fields_and_reads_back():
    sync = encode_cursor(next=f"{BASE}/v2/assertions/changed?cursor=abc", since=WATERMARK)
    assert sync == json.dumps(
        {"next": f"{BASE}/v2/assertions/changed?cursor=abc", "since": WATERMARK}, separators=(",", ":"), sort_keys=True
    )
    assert decode_cursor(sync, "sync") == {"next": f"{BASE}/v2/assertions/changed?cursor=abc", "since": WATERMARK}
    assert encode_cursor(since=WATERMARK, next=None) == '{"since":"2026-11-30T10:00:00+00:00"}'
    backfill = encode_cursor(issuer="IsA", index=0, next=None, since=None)
    assert decode_cursor(backfill, "backfill") == {"issuer": "IsA", "index": 0}
    assert decode_cursor(None, "sync") == {} == decode_cursor(None, "backfill")


@pytest.mark.parametrize(
    ("mode", "stored"),
    [
        ("sync", "https://api.badgr.io/v2/assertions/changed?cursor=x"),  # a bare link: not ours
        ("sync", "[]"),
        ("sync", '{"next": "https://api.badgr.io/v2/assertions/changed"}'),  # no watermark
        ("sync", '{"since": "2026-11-30T10:00:00"}'),  # a watermark without its offset
        ("sync", '{"since": 1764496800}'),
        ("sync", '{"issuer": "IsA", "index": 0}'),  # a backfill cursor
        ("backfill", '{"since": "2026-11-30T10:00:00+00:00"}'),  # a sync cursor
        ("backfill", '{"issuer": "IsA", "index": true}'),
        ("backfill", '{"issuer": "IsA", "index": 0, "page": 3}'),
    ],
)
def test_a_cursor_this_puller_did_not_write_stops_the_pull(mode, stored):
    with pytest.raises(ConnectorError, match=f"{mode} cursor|offset"):
        decode_cursor(stored, mode)


def test_times_are_sent_in_utc_with_their_offset():
    assert iso(datetime(2026, 11, 30, 11, 0, tzinfo=timezone(timedelta(hours=1)))) == WATERMARK
    assert iso(datetime(2026, 11, 30, 10, 0)) == WATERMARK  # naive: UTC, never local time


# -- links -----------------------------------------------------------------------------------------


class Scripted(requests.Session):
    """A requests session answering the token endpoint, then the scripted answers in order."""

    def __init__(self, *answers: tuple[int, object, dict]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.urls: list[str] = []

    def request(self, method: str, url: str, params=None, **kwargs) -> requests.Response:
        if url.endswith("/o/token"):
            return _response(200, {"access_token": "tok", "expires_in": 3600, "refresh_token": "r"})
        self.urls.append(requests.Request(method, url, params=params).prepare().url)
        status, body, headers = self.answers.pop(0)
        return _response(status, body, headers)


def _response(status: int, body: object, headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers.update({"Content-Type": "application/json", **(headers or {})})
    return response


def client(session: Scripted) -> BadgrClient:
    return BadgrClient(
        BASE,
        USER,
        PASSWORD,
        session=session,
        retry=RetryPolicy(attempts=2, base=0.0, cap=0.0, jitter=lambda wait: 0.0),
        sleep=lambda s: None,
    )


def envelope(result: list, **extra: object) -> dict:
    return {"status": {"success": True, "description": "ok"}, "result": result, **extra}


def changed(result: list, has_next: bool, next_results: str | None, timestamp: str = WATERMARK) -> dict:
    return envelope(
        result, timestamp=timestamp, pagination={"hasNext": has_next, "nextResults": next_results, "hasPrevious": False}
    )


def test_a_link_is_followed_only_on_the_apis_own_scheme_and_host():
    badgr = client(Scripted())
    assert badgr.checked_link(f"{BASE}/v2/assertions/changed?cursor=x") == f"{BASE}/v2/assertions/changed?cursor=x"
    for elsewhere in (
        "https://evil.example/v2/assertions/changed",
        "http://api.eu.badgr.io/v2/x",
        "https://api.eu.badgr.io:8443/v2/x",
        "https://api.badgr.io/v2/x",
    ):
        with pytest.raises(ConnectorError, match="leaves api.eu.badgr.io"):
            badgr.checked_link(elsewhere)


def test_a_relative_next_link_is_resolved_against_the_page_it_came_from():
    session = Scripted(
        (200, envelope([]), {"Link": '</v2/issuers/IsA/assertions?cursor=2>; rel="next"'}), (200, envelope([]), {})
    )
    pages = list(client(session).assertion_pages("IsA"))
    assert [next_url for _, next_url in pages] == [f"{BASE}/v2/issuers/IsA/assertions?cursor=2", None]
    assert session.urls == [
        f"{BASE}/v2/issuers/IsA/assertions?include_expired=true&include_revoked=true&num=500",
        f"{BASE}/v2/issuers/IsA/assertions?cursor=2",
    ]


def test_a_next_link_to_another_host_is_never_requested():
    session = Scripted((200, envelope([]), {"Link": '<https://collector.example/steal?cursor=2>; rel="next"'}))
    with pytest.raises(ConnectorError, match="leaves api.eu.badgr.io"):
        list(client(session).assertion_pages("IsA"))
    assert len(session.urls) == 1


def test_a_stored_link_to_another_host_is_refused_before_any_request():
    session = Scripted()
    with pytest.raises(ConnectorError, match="leaves"):
        list(client(session).changed_pages(WATERMARK, "https://api.badgr.io/v2/assertions/changed?cursor=x"))
    assert session.urls == []  # BADGR_API_BASE moved to another region since: say so, send no token


def test_a_next_link_repeating_an_earlier_page_stops_the_walk():
    first = f"{BASE}/v2/assertions/changed?since=x&cursor=1"
    session = Scripted((200, changed([], True, first), {}), (200, changed([], True, first), {}))
    with pytest.raises(PullStopped, match="repeats an earlier page"):  # the runner's stop: exit 3
        list(client(session).changed_pages(WATERMARK))
    assert len(session.urls) == 2


def test_the_changed_feed_ends_at_has_next_false_even_with_a_next_link():
    # Older Badgr servers fill nextResults on the last page too.
    session = Scripted((200, changed([], False, f"{BASE}/v2/assertions/changed?cursor=9"), {}))
    assert [n for _, n in client(session).changed_pages(WATERMARK)] == [None]
    assert session.urls == [f"{BASE}/v2/assertions/changed?since=2026-11-30T10%3A00%3A00%2B00%3A00"]


def test_has_next_without_a_link_is_an_error_not_the_end():
    session = Scripted((200, changed([], True, None), {}))
    with pytest.raises(ConnectorError, match="hasNext without nextResults"):
        list(client(session).changed_pages(WATERMARK))


def test_a_truncated_page_and_a_missing_badge_class_are_errors_the_puller_can_tell_apart():
    session = Scripted((200, b'{"status": {"success": true}, "result": [{"entityId": "A', {}), (404, envelope([]), {}))
    with pytest.raises(ConnectorError, match="not a JSON object"):
        list(client(session).changed_pages(WATERMARK))
    with pytest.raises(BadgrNotFound):
        client(session).badgeclass("BcGone")


# -- the puller, on a scripted client ----------------------------------------------------------------


def assertion(entity_id: str, badgeclass: str = "Bc1", created: str = "2026-11-01T00:00:00Z", **extra) -> dict:
    return {
        "entityId": entity_id,
        "badgeclass": badgeclass,
        "createdAt": created,
        "issuedOn": created,
        "badgeclassOpenBadgeId": f"{BASE}/public/badges/{badgeclass}",
        "revoked": False,
        "recipient": {"hashed": True, "identity": "sha256$00", "plaintextIdentity": f"{entity_id}@example.com"},
        **extra,
    }


class StubClient:
    """What the puller asks of BadgrClient, answered from lists of pages."""

    def __init__(
        self,
        issuers: dict[str, list[list[dict]]] | None = None,
        changed: list[tuple[list[dict], str | None]] | None = None,
    ) -> None:
        self.issuers = issuers or {}
        self.changed = changed or []
        self.calls: list[tuple] = []
        self.badgeclasses = {
            "Bc1": {
                "entityId": "Bc1",
                "openBadgeId": f"{BASE}/public/badges/Bc1",
                "name": "Badge One",
                "description": "One.",
                "image": f"{BASE}/media/1.png",
                "criteriaNarrative": "x" * 500,
                "alignments": [{"targetName": "a"}],
            }
        }

    def issuer_ids(self) -> list[str]:
        return list(self.issuers)

    def assertion_pages(self, issuer: str, resume: str | None = None) -> Iterator[tuple[dict, str | None]]:
        self.calls.append(("list", issuer, resume))
        pages = self.issuers[issuer]
        start = int(resume.rsplit("=", 1)[1]) if resume else 0
        for n in range(start, len(pages)):
            yield (
                {"result": pages[n]},
                (f"{BASE}/v2/issuers/{issuer}/assertions?page={n + 1}" if n + 1 < len(pages) else None),
            )

    def changed_pages(self, since: str, resume: str | None = None) -> Iterator[tuple[dict, str | None]]:
        self.calls.append(("changed", since, resume))
        start = int(resume.rsplit("=", 1)[1]) if resume else 0
        for n in range(start, len(self.changed)):
            result, timestamp = self.changed[n]
            page = {"result": result, **({"timestamp": timestamp} if timestamp else {})}
            yield page, f"{BASE}/v2/assertions/changed?cursor={n + 1}" if n + 1 < len(self.changed) else None

    def badgeclass(self, entity_id: str) -> dict:
        self.calls.append(("badgeclass", entity_id))
        if entity_id not in self.badgeclasses:
            raise BadgrNotFound(f"no badge class {entity_id}")
        return self.badgeclasses[entity_id]


def cursors(pages) -> list[dict | None]:
    return [None if p.resume is None else json.loads(p.resume) for p in pages]


def test_a_first_sync_reads_from_the_epoch_and_leaves_the_first_pages_timestamp():
    stub = StubClient(changed=[([assertion("A1")], WATERMARK), ([assertion("A2")], "2026-11-30T10:00:05+00:00")])
    pages = list(BadgrPuller(stub).pages("sync", None))
    assert stub.calls[0] == ("changed", "1970-01-01T00:00:00+00:00", None)
    assert cursors(pages) == [
        {"next": f"{BASE}/v2/assertions/changed?cursor=1", "since": WATERMARK},
        {"since": WATERMARK},
    ]
    assert [p.last for p in pages] == [False, True]


def test_a_sync_resumed_inside_a_run_keeps_that_runs_watermark():
    stub = StubClient(
        changed=[([assertion("A1")], "2026-11-29T00:00:00+00:00"), ([assertion("A2")], "2026-12-24T00:00:00Z")]
    )
    resume = encode_cursor(next=f"{BASE}/v2/assertions/changed?cursor=1", since=WATERMARK)
    pages = list(BadgrPuller(stub).pages("sync", resume, since=datetime(2020, 1, 1, tzinfo=UTC)))
    assert stub.calls[0] == ("changed", WATERMARK, f"{BASE}/v2/assertions/changed?cursor=1")
    assert cursors(pages) == [{"since": WATERMARK}] and pages[0].last


def test_a_sync_watermark_is_normalised_to_utc_and_kept_when_the_answer_has_none():
    stub = StubClient(changed=[([], "2026-11-30T11:00:00.250000+01:00")])
    assert cursors(BadgrPuller(stub).pages("sync", encode_cursor(since="2026-11-01T00:00:00+00:00"))) == [
        {"since": "2026-11-30T10:00:00.250000+00:00"}
    ]
    stub = StubClient(changed=[([assertion("A1")], None)])
    assert cursors(BadgrPuller(stub).pages("sync", encode_cursor(since=WATERMARK))) == [{"since": WATERMARK}]


def test_a_backfill_cursor_names_the_issuer_and_its_next_link_then_the_next_issuer():
    stub = StubClient(issuers={"IsB": [[assertion("B1")]], "IsA": [[assertion("A1")], [assertion("A2")]]})
    pages = list(BadgrPuller(stub).pages("backfill", None))
    assert [p.document["result"][0]["entityId"] for p in pages] == ["A1", "A2", "B1"]  # issuers sorted by id
    assert cursors(pages) == [
        {"issuer": "IsA", "index": 0, "next": f"{BASE}/v2/issuers/IsA/assertions?page=1"},
        {"issuer": "IsB", "index": 1},
        None,
    ]
    assert [p.last for p in pages] == [False, False, True]


def test_a_backfill_resumes_at_its_link_and_skips_an_issuer_gone_meanwhile():
    stub = StubClient(issuers={"IsA": [[assertion("A1")], [assertion("A2")]], "IsC": [[assertion("C1")]]})
    resume = encode_cursor(issuer="IsA", index=0, next=f"{BASE}/v2/issuers/IsA/assertions?page=1")
    pages = list(BadgrPuller(stub).pages("backfill", resume))
    assert [p.document["result"][0]["entityId"] for p in pages] == ["A2", "C1"]
    assert stub.calls[0] == ("list", "IsA", f"{BASE}/v2/issuers/IsA/assertions?page=1")

    stub.calls.clear()  # IsB was stored, and is gone: the issuer after it comes next
    pages = list(BadgrPuller(stub).pages("backfill", encode_cursor(issuer="IsB", index=1)))
    assert [p.document["result"][0]["entityId"] for p in pages] == ["C1"]
    assert [c for c in stub.calls if c[0] == "list"] == [("list", "IsC", None)]


def test_a_backfill_with_nothing_to_read_still_ends_with_a_last_page():
    gone = encode_cursor(issuer="IsZ", index=3)  # the last issuer, gone meanwhile
    for stub, resume in ((StubClient(), None), (StubClient(issuers={"IsA": [[]]}), gone)):
        pages = list(BadgrPuller(stub).pages("backfill", resume))
        assert [(p.records, p.resume, p.last) for p in pages] == [(0, None, True)]


def test_a_backfill_since_keeps_what_was_issued_since_and_the_filter_survives_a_resume():
    newest_first = [
        assertion("A3", created="2026-11-20T00:00:00Z"),
        assertion("A2", created="2026-11-10T00:00:00Z"),
        assertion("A1", created="2026-10-01T00:00:00Z"),
    ]
    older = [assertion("A0", created="2026-09-01T00:00:00Z")]
    stub = StubClient(
        issuers={
            "IsA": [newest_first[:1], newest_first[1:], older],
            "IsB": [[assertion("B1", created="2026-11-25T00:00:00Z")]],
        }
    )
    since = datetime(2026, 11, 5, tzinfo=UTC)
    pages = list(BadgrPuller(stub).pages("backfill", None, since=since))
    assert [[a["entityId"] for a in p.document["result"]] for p in pages] == [["A3"], ["A2"], ["B1"]]
    assert ("list", "IsA", f"{BASE}/v2/issuers/IsA/assertions?page=2") not in stub.calls  # stopped at A1
    assert json.loads(pages[0].resume)["since"] == "2026-11-05T00:00:00+00:00"

    stub.calls.clear()
    resumed = list(BadgrPuller(stub).pages("backfill", pages[0].resume))  # no `since` given this time
    assert [[a["entityId"] for a in p.document["result"]] for p in resumed] == [["A2"], ["B1"]]


@pytest.mark.parametrize("order", ["oldest first", "by last update", "oldest first, one per page"])
def test_a_backfill_since_reads_a_list_to_its_end_unless_it_is_seen_newest_first(order):
    made = {"A0": "2026-09-01", "A1": "2026-10-01", "A2": "2026-11-10", "A3": "2026-11-20"}
    ids = ["A1", "A3", "A0", "A2"] if order == "by last update" else ["A0", "A1", "A2", "A3"]
    per_page = 1 if order.endswith("one per page") else 2
    listed = [assertion(i, created=f"{made[i]}T00:00:00Z") for i in ids]
    stub = StubClient(issuers={"IsA": [listed[n : n + per_page] for n in range(0, 4, per_page)]})
    pages = list(BadgrPuller(stub).pages("backfill", None, since=datetime(2026, 11, 5, tzinfo=UTC)))
    assert sorted(a["entityId"] for p in pages for a in p.document["result"]) == ["A2", "A3"]
    assert pages[-1].last and pages[-1].resume is None


def test_empty_pages_announcing_more_are_yielded_for_the_runner_to_count():
    a1, a2, c1 = assertion("A1"), assertion("A2"), assertion("C1")
    stub = StubClient(changed=[([a1], WATERMARK), ([], WATERMARK), ([], WATERMARK), ([a2], WATERMARK)])
    pages = list(BadgrPuller(stub).pages("sync", None))
    assert [(p.records, p.last, p.no_progress()) for p in pages] == [
        (1, False, False),
        (0, False, True),
        (0, False, True),
        (1, True, False),
    ]
    assert pages[1].document == {"result": []}

    stub = StubClient(issuers={"IsA": [[a1], [], [a2]], "IsB": [[]], "IsC": [[c1]]})
    pages = list(BadgrPuller(stub).pages("backfill", None))
    # IsB's list ends empty: no page for it, the walk goes on with IsC
    assert [(p.records, p.no_progress()) for p in pages] == [(1, False), (0, True), (1, False), (1, False)]
    assert cursors(pages)[1] == {"issuer": "IsA", "index": 0, "next": f"{BASE}/v2/issuers/IsA/assertions?page=2"}


def test_a_page_whose_assertions_were_all_issued_before_since_still_moves_the_pull_on():
    older = [assertion("A0", created="2026-09-01T00:00:00Z"), assertion("A1", created="2026-10-01T00:00:00Z")]
    stub = StubClient(issuers={"IsA": [older, [assertion("A2", created="2026-11-10T00:00:00Z")]]})  # oldest first
    pages = list(BadgrPuller(stub).pages("backfill", None, since=datetime(2026, 11, 5, tzinfo=UTC)))
    assert [(p.records, p.answered, p.no_progress()) for p in pages] == [(0, 2, False), (1, 1, False)]


def test_badge_classes_are_fetched_once_per_run_and_embedded_trimmed():
    stub = StubClient(changed=[([assertion("A1"), assertion("A2")], WATERMARK), ([assertion("A3")], WATERMARK)])
    pages = list(BadgrPuller(stub).pages("sync", None))
    assert [c for c in stub.calls if c[0] == "badgeclass"] == [("badgeclass", "Bc1")]
    embedded = pages[0].document["result"][0]["badgeclass"]
    assert embedded == {
        "entityId": "Bc1",
        "openBadgeId": f"{BASE}/public/badges/Bc1",
        "name": "Badge One",
        "description": "One.",
        "image": f"{BASE}/media/1.png",
    }


def test_an_assertion_whose_badge_class_is_gone_is_left_for_the_adapter_to_refuse():
    stub = StubClient(changed=[([assertion("A1", badgeclass="BcGone"), assertion("A2")], WATERMARK)])
    [page] = list(BadgrPuller(stub).pages("sync", None))
    assert [a["badgeclass"] if isinstance(a["badgeclass"], str) else "expanded" for a in page.document["result"]] == [
        "BcGone",
        "expanded",
    ]


def test_a_page_too_large_for_one_queue_message_is_split_and_its_parts_resume_at_its_start():
    big = [assertion(f"A{n}", narrative="n" * 300) for n in range(6)]
    stub = StubClient(changed=[(big[:1], WATERMARK), (big[1:], WATERMARK), ([], WATERMARK)])
    pages = list(BadgrPuller(stub, max_document_bytes=2500).pages("sync", None))
    assert len(pages) > 3 and sum(p.records for p in pages) == 6
    assert all(len(json.dumps(p.document)) <= 2500 for p in pages)
    second_page_start = {"next": f"{BASE}/v2/assertions/changed?cursor=1", "since": WATERMARK}
    second_page_end = {"next": f"{BASE}/v2/assertions/changed?cursor=2", "since": WATERMARK}
    parts = cursors(pages)[1:-1]
    assert parts[:-1] == [second_page_start] * (len(parts) - 1) and parts[-1] == second_page_end
    assert [p.last for p in pages] == [False] * (len(pages) - 1) + [True]


def test_a_page_document_is_what_the_adapter_reads_revoked_and_expired_included():
    expired = assertion("A2", expires="2026-11-02T00:00:00Z")
    revoked = assertion("A3", revoked=True, revocationReason="Wrong cohort")
    stub = StubClient(changed=[([assertion("A1"), expired, revoked], WATERMARK)])
    [page] = list(BadgrPuller(stub).pages("sync", None))
    events = BadgrAdapter().parse(page.document)
    assert [(e.credential.id, e.kind) for e in events] == [
        ("A1", Kind.ISSUED),
        ("A2", Kind.ISSUED),
        ("A3", Kind.ISSUED),
        ("A3", Kind.REVOKED),
    ]
    assert events[1].credential.expires_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert {e.credential.name for e in events} == {"Badge One"} and events[3].reason == "Wrong cohort"


# -- the fake's list endpoints ---------------------------------------------------------------------


@pytest.fixture
def fake():
    with FakeBadgr(USER, PASSWORD) as badgr:
        yield badgr


def test_the_fake_leaves_expired_and_revoked_assertions_out_without_their_flags(fake):
    now = datetime.now(UTC)
    fake.add_issuer("IsA")
    fake.add_assertion("Bc1", "ada@example.com", now - timedelta(days=3), issuer="IsA")
    fake.add_assertion(
        "Bc1", "grace@example.com", now - timedelta(days=2), issuer="IsA", expires=now - timedelta(days=1)
    )
    fake.add_assertion("Bc1", "kath@example.com", now - timedelta(days=1), issuer="IsA", revoked=True)
    badgr = BadgrClient(fake.base_url, USER, PASSWORD)

    def listed(**flags: str) -> int:
        return len(badgr._get_json(f"{fake.base_url}/v2/issuers/IsA/assertions", "list", flags)["result"])

    assert (listed(), listed(include_expired="true"), listed(include_revoked="1")) == (1, 2, 2)
    assert [len(p["result"]) for p, _ in badgr.assertion_pages("IsA")] == [3]


def test_the_fake_reads_a_since_without_offset_as_utc_and_refuses_an_unencoded_plus(fake):
    fake.add_issuer("IsA")
    fake.add_assertion("bc", "ada@example.com", datetime(2026, 11, 30, 10, 30, tzinfo=UTC), issuer="IsA")
    badgr = BadgrClient(fake.base_url, USER, PASSWORD, retry=RetryPolicy(attempts=1))
    assert [len(p["result"]) for p, _ in badgr.changed_pages("2026-11-30T10:00:00")] == [1]  # as the server: UTC
    assert [len(p["result"]) for p, _ in badgr.changed_pages("2026-11-30T11:00:00")] == [0]
    token = badgr._bearer()
    raw = requests.get(
        f"{fake.base_url}/v2/assertions/changed?since=2026-11-30T10:00:00+00:00",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert raw.status_code == 400 and "time zone" in raw.text
    assert [len(p["result"]) for p, _ in badgr.changed_pages(WATERMARK)] == [1]


def test_the_badge_class_tags_and_alignments_are_the_credentials_skills_and_leave_the_ids_alone():
    from tests.support.helpers import EXT, VERB_EARNED, fixture, only, statement_id, translate

    page = fixture("badgr/assertions_changed.json")
    badgeclass = fixture("badgr/badgeclass.json")["result"][0]
    bare = {**badgeclass, "tags": [], "alignments": []}
    first = page["result"][0]
    events = BadgrAdapter().parse({**first, "badgeclass": badgeclass})
    assert events[0].credential.skills == ("accessibility", "wcag", "Web accessibility")
    earned = only(translate("badgr", {**first, "badgeclass": badgeclass}).statements, VERB_EARNED)
    without = only(translate("badgr", {**first, "badgeclass": bare}).statements, VERB_EARNED)
    assert earned["context"]["extensions"][f"{EXT}/extensions/skills"] == ["accessibility", "wcag", "Web accessibility"]
    assert earned["id"] == without["id"] == statement_id(f"badgr|{first['entityId']}|issued")
    # Optional metadata: tags or alignments in a shape Badgr does not give are left out, not refused.
    odd = BadgrAdapter().parse({**first, "badgeclass": {**badgeclass, "tags": [3, " "], "alignments": "x"}})
    assert odd[0].credential.skills == ()
