"""LrsClient against the scriptable fake LRS: batching, headers, retries, bisecting, errors."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from chalicelib.httpretry import RetryPolicy, TransientFailure
from chalicelib.settings import load_settings
from chalicelib.xapi import lrs as lrs_module
from chalicelib.xapi.lrs import (
    DeliveryReport,
    LrsAuthError,
    LrsClient,
    LrsConfigurationError,
    LrsUnavailable,
    normalise_endpoint,
)
from fakes.fake_lrs import PASS, Answer, FakeLrs
from lrs_process import free_port

VERB = "https://example.com/verbs/tested"
NO_JITTER = RetryPolicy(attempts=3, base=0.5, cap=30.0, jitter=lambda wait: wait)


def statement(verb: str = VERB, mbox: str = "mailto:learner@example.com") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": mbox},
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": "https://example.com/activities/1"},
    }


def ids(statements: list[dict]) -> list[str]:
    return [s["id"] for s in statements]


class CountingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def request(self, *args, **kwargs):  # type: ignore[override]
        self.calls += 1
        return super().request(*args, **kwargs)


@pytest.fixture
def fake() -> Iterator[FakeLrs]:
    with FakeLrs() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeLrs, sleeps: list[float]) -> LrsClient:
    return LrsClient(fake.endpoint, retry=NO_JITTER, sleep=sleeps.append, timeout=(1.0, 5.0))


@pytest.fixture
def events() -> Iterator[list[dict]]:
    """The structured log events emitted during the test, parsed."""
    records: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = json.loads(record.getMessage())  # what every line carries is not what these tests check
            records.append({k: v for k, v in line.items() if k not in ("level", "timestamp")})

    from chalicelib.observability import logger

    root = logger()  # configures the "connector" logger once
    handler = Collect()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://lrs.example.com/xAPI/",
        "https://lrs.example.com/xAPI",
        "https://lrs.example.com/xAPI/statements",
        "https://lrs.example.com/xAPI/statements/",
        "  https://lrs.example.com/xAPI/  ",
    ],
)
def test_endpoint_is_accepted_as_base_or_statements_url(endpoint: str) -> None:
    client = LrsClient(endpoint)
    assert client.statements_url == "https://lrs.example.com/xAPI/statements"
    assert normalise_endpoint(endpoint) == "https://lrs.example.com/xAPI/"


def test_endpoint_must_be_absolute() -> None:
    with pytest.raises(Exception, match="LRS_ENDPOINT"):
        LrsClient("lrs.example.com/xAPI/")


def test_from_settings_maps_every_lrs_setting_and_accepts_overrides() -> None:
    settings = load_settings(
        {
            "LRS_ENDPOINT": "https://lrs.example.com/data/xAPI/statements",
            "LRS_USERNAME": "key",
            "LRS_PASSWORD": "s3cret",
            "LRS_XAPI_VERSION": "2.0.0",
            "LRS_BATCH_SIZE": "7",
            "LRS_CONNECT_TIMEOUT": "1.5",
            "LRS_READ_TIMEOUT": "9",
            "HTTP_MAX_ATTEMPTS": "2",
            "HTTP_BACKOFF_BASE": "0.1",
            "HTTP_BACKOFF_CAP": "4",
        }
    )
    client = LrsClient.from_settings(settings, timeout=(1.0, 2.0))
    assert client.statements_url == "https://lrs.example.com/data/xAPI/statements"
    assert client._auth == ("key", "s3cret")
    assert (client.version, client.batch_size, client.timeout) == ("2.0.0", 7, (1.0, 2.0))
    assert (client.retry.attempts, client.retry.base, client.retry.cap) == (2, 0.1, 4.0)
    assert LrsClient.from_settings(settings).timeout == (1.5, 9.0)


# -- the happy path ---------------------------------------------------------------------------


def test_headers_basic_auth_and_json_body(fake: FakeLrs) -> None:
    client = LrsClient(fake.endpoint, username="key", password="s3cret", version="1.0.3")
    batch = [statement(), statement()]
    report = client.send(batch)
    assert report == DeliveryReport(delivered=ids(batch))
    (post,) = fake.posts
    assert post.headers["Authorization"] == "Basic " + base64.b64encode(b"key:s3cret").decode()
    assert post.headers["X-Experience-API-Version"] == "1.0.3"
    assert post.headers["Content-Type"] == "application/json"
    assert post.body == batch


def test_no_authorization_header_without_username(fake: FakeLrs, client: LrsClient) -> None:
    client.send([statement()])
    assert "Authorization" not in fake.posts[0].headers


def test_chunks_of_batch_size(fake: FakeLrs, sleeps: list[float]) -> None:
    batch = [statement() for _ in range(120)]
    report = LrsClient(fake.endpoint, batch_size=50, sleep=sleeps.append).send(batch)
    assert [len(p.body) for p in fake.posts] == [50, 50, 20]
    assert report.delivered == ids(batch)
    assert sleeps == []


def test_empty_send_makes_no_request(fake: FakeLrs, client: LrsClient) -> None:
    assert client.send([]) == DeliveryReport()
    assert fake.requests == []


def test_statement_without_id_gets_one_so_a_retry_cannot_duplicate_it(fake: FakeLrs, client: LrsClient) -> None:
    anonymous = statement()
    del anonymous["id"]
    fake.script((503, {}))
    report = client.send([anonymous])
    assert "id" not in anonymous  # the caller's dict is not modified
    sent = [p.body[0]["id"] for p in fake.posts]
    assert len(sent) == 2 and sent[0] == sent[1] == report.delivered[0]


def test_exact_repeats_are_sent_once(fake: FakeLrs, client: LrsClient) -> None:
    one = statement()
    report = client.send([one, dict(one), statement()])
    assert len(fake.posts[0].body) == 2  # Learning Locker would answer 400 "duplicated in the batch"
    assert report.delivered[0] == one["id"]


# -- retries ----------------------------------------------------------------------------------


def test_retry_after_is_honoured_then_exponential_backoff(fake: FakeLrs, sleeps: list[float]) -> None:
    fake.script((429, {"Retry-After": "1"}), (503, {}))
    policy = RetryPolicy(attempts=3, base=0.25, cap=30.0, jitter=lambda wait: wait)
    batch = [statement()]
    report = LrsClient(fake.endpoint, retry=policy, sleep=sleeps.append).send(batch)
    assert report == DeliveryReport(delivered=ids(batch))
    assert len(fake.posts) == 3 and len(fake.batches) == 1  # stored once
    assert sleeps == [1.0, 0.5]  # Retry-After, then base 0.25 * 2**1 for the second retry


def test_backoff_grows_exponentially(fake: FakeLrs, sleeps: list[float]) -> None:
    fake.script((503, {}), (502, {}), (500, {}))
    policy = RetryPolicy(attempts=4, base=0.5, cap=30.0, jitter=lambda wait: wait)
    LrsClient(fake.endpoint, retry=policy, sleep=sleeps.append).send([statement()])
    assert sleeps == [0.5, 1.0, 2.0]


def test_exhausted_retries_raise_unavailable_with_the_partial_report(fake: FakeLrs, sleeps: list[float]) -> None:
    batch = [statement() for _ in range(5)]
    fake.script(PASS, (503, {}), (503, {}), (503, {}))
    client = LrsClient(fake.endpoint, batch_size=2, retry=NO_JITTER, sleep=sleeps.append)
    with pytest.raises(LrsUnavailable, match="HTTP 503 after 3 attempts") as caught:
        client.send(batch)
    assert isinstance(caught.value, TransientFailure)
    assert caught.value.report == DeliveryReport(delivered=ids(batch[:2]))
    assert len(fake.posts) == 4  # chunk 1 once, chunk 2 three times, chunk 3 never


def test_connection_refused_is_retried_a_bounded_number_of_times(sleeps: list[float]) -> None:
    session = CountingSession()
    client = LrsClient(f"http://127.0.0.1:{free_port()}/xAPI/", retry=NO_JITTER, sleep=sleeps.append, session=session)
    with pytest.raises(LrsUnavailable, match="ConnectionError after 3 attempts") as caught:
        client.send([statement()])
    assert session.calls == 3 and sleeps == [0.5, 1.0]
    assert caught.value.report == DeliveryReport()


def test_read_timeout_is_retried(fake: FakeLrs, sleeps: list[float]) -> None:
    fake.script(Answer(200, body=[], delay=0.5))
    client = LrsClient(fake.endpoint, timeout=(1.0, 0.1), retry=NO_JITTER, sleep=sleeps.append)
    batch = [statement()]
    started = time.monotonic()
    assert client.send(batch).delivered == ids(batch)
    assert len(fake.posts) == 2 and sleeps == [0.5]
    assert time.monotonic() - started < 2


# -- configuration errors stop at once --------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refusal_stops_after_one_request(fake: FakeLrs, sleeps: list[float], status: int) -> None:
    fake.script((status, {}, {"message": "Unauthorised"}))
    client = LrsClient(fake.endpoint, username="apikey-7", password="s3cret", retry=NO_JITTER, sleep=sleeps.append)
    with pytest.raises(LrsAuthError) as caught:
        client.send([statement() for _ in range(120)])
    message = str(caught.value)
    assert str(status) in message and "LRS_USERNAME/LRS_PASSWORD" in message
    assert "s3cret" not in message and "apikey-7" not in message
    assert len(fake.requests) == 1 and sleeps == []


def test_auth_refusal_on_a_later_chunk_keeps_the_earlier_deliveries(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement() for _ in range(3)]
    client.batch_size = 2
    fake.script(PASS, (401, {}))
    with pytest.raises(LrsAuthError) as caught:
        client.send(batch)
    assert caught.value.report.delivered == ids(batch[:2])


@pytest.mark.parametrize(
    "answer",
    [
        (404, {}, {"message": "Cannot POST /xAPI/statements"}),
        (301, {"Location": "https://lrs.example.com/xAPI/statements"}),
        (400, {}, {"warnings": ["Problem in 'header.X-Experience-API-Version'. Received '\"2.0.0\"'"]}),
    ],
    ids=["not-found", "redirect", "version-header"],
)
def test_endpoint_or_header_problems_stop_without_bisecting(fake: FakeLrs, client: LrsClient, answer: tuple) -> None:
    fake.script(answer)
    with pytest.raises(LrsConfigurationError, match="check LRS_"):
        client.send([statement() for _ in range(8)])
    assert len(fake.requests) == 1  # a redirect is not followed, nothing is bisected


# -- per-statement outcomes -------------------------------------------------------------------


def test_invalid_statement_is_isolated_by_bisecting(sleeps: list[float], events: list[dict]) -> None:
    batch = [statement() for _ in range(10)]
    batch[6]["verb"]["id"] = "x.y/z"
    with FakeLrs(validate="verb-scheme") as fake:
        report = LrsClient(fake.endpoint, sleep=sleeps.append).send(batch)
        assert sorted(report.delivered) == sorted(ids(batch[:6] + batch[7:]))
        assert set(fake.stored) == set(report.delivered)
    assert report.already_stored == []
    ((rejected, reason),) = report.rejected
    assert rejected["id"] == batch[6]["id"]
    assert reason == "HTTP 400: Problem in 'verb.id'"  # no echoed value
    assert {"event": "lrs_rejected", "statement_id": batch[6]["id"], "status": 400, "reason": reason} in events
    assert sleeps == []


def test_conflicting_statement_is_already_stored(fake: FakeLrs, client: LrsClient, events: list[dict]) -> None:
    known = statement()
    client.send([known])
    changed = {**known, "verb": {"id": VERB + "/changed"}}
    fresh = [statement() for _ in range(5)]
    report = client.send(fresh[:2] + [changed] + fresh[2:])
    assert sorted(report.delivered) == sorted(ids(fresh))
    assert report.already_stored == [known["id"]] and report.rejected == []
    assert fake.stored[known["id"]] == known  # the first copy wins
    assert {"event": "lrs_conflict", "statement_id": known["id"]} in events


def test_identical_resend_is_delivered_again_not_a_conflict(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement() for _ in range(3)]
    client.send(batch)
    assert client.send(batch).delivered == ids(batch)
    assert len(fake.stored) == 3


def test_payload_too_large_is_split(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement() for _ in range(4)]
    fake.script((413, {}))
    report = client.send(batch)
    assert report.delivered == ids(batch)
    assert [len(p.body) for p in fake.posts] == [4, 2, 2]


def test_other_client_errors_reject_single_statements(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement(), statement()]
    fake.script(
        (422, {}, {"message": "Unprocessable statement"}), PASS, (422, {}, {"message": "Unprocessable statement"})
    )
    report = client.send(batch)
    assert report.delivered == [batch[0]["id"]]
    assert report.rejected == [(batch[1], "HTTP 422: Unprocessable statement")]


def test_rejection_message_keeps_no_email_and_no_received_value(fake: FakeLrs, client: LrsClient) -> None:
    warning = "Problem in 'statements.0.actor.mbox'. Received '\"mailto:ada@example.com\"'"
    fake.script((400, {}, {"errorId": "x", "warnings": [warning]}))
    fake.script((400, {}, {"message": "ada@example.com is not allowed"}))
    first = client.send([statement()]).rejected[0][1]
    second = client.send([statement()]).rejected[0][1]
    assert first == "HTTP 400: Problem in 'actor.mbox'"
    assert second == "HTTP 400: <redacted> is not allowed"


def test_summary_is_logged_without_bodies_or_secrets(fake: FakeLrs, events: list[dict]) -> None:
    client = LrsClient(fake.endpoint, username="key", password="s3cret")
    known = statement(mbox="mailto:ada@example.com")
    client.send([known])
    client.send([{**known, "verb": {"id": VERB + "/changed"}}, statement(mbox="mailto:bob@example.com")])
    summary = [e for e in events if e["event"] == "lrs_send"][-1]
    assert summary == {**summary, "statements": 2, "delivered": 1, "already_stored": 1, "rejected": 0}
    text = json.dumps(events)
    assert "@" not in text and "s3cret" not in text


def test_retry_exhaustion_is_logged_with_counts(fake: FakeLrs, client: LrsClient, events: list[dict]) -> None:
    fake.script((503, {}), (503, {}), (503, {}))
    with pytest.raises(LrsUnavailable):
        client.send([statement()])
    (failed,) = [e for e in events if e["event"] == "lrs_send_failed"]
    assert failed["delivered"] == 0 and "503" in failed["reason"]


def test_delivery_report_merge() -> None:
    one = DeliveryReport(["a"], ["b"], [({"id": "c"}, "bad")])
    one.merge(DeliveryReport(["d"], [], [({"id": "e"}, "worse")]))
    assert one == DeliveryReport(["a", "d"], ["b"], [({"id": "c"}, "bad"), ({"id": "e"}, "worse")])
    assert one.counts() == {"delivered": 2, "already_stored": 1, "rejected": 2}


# -- about and query --------------------------------------------------------------------------


def test_about(fake: FakeLrs, client: LrsClient) -> None:
    assert client.about() == {"version": ["1.0.3"]}
    assert fake.requests[0].path == "/xAPI/about"
    assert fake.requests[0].headers["X-Experience-API-Version"] == "1.0.3"


def test_about_errors(fake: FakeLrs, client: LrsClient) -> None:
    fake.script((401, {}))
    with pytest.raises(LrsAuthError):
        client.about()
    fake.script((503, {}), (503, {}), (503, {}))
    with pytest.raises(LrsUnavailable):
        client.about()


def test_query_follows_more_links_and_encodes_filters(sleeps: list[float]) -> None:
    with FakeLrs(page_size=50) as fake:
        client = LrsClient(fake.endpoint, sleep=sleeps.append)
        batch = [statement() for _ in range(120)]
        client.send(batch + [statement(verb=VERB + "/other")])
        agent = {"mbox": "mailto:learner@example.com"}
        since = datetime(2024, 1, 1, tzinfo=UTC)
        found = list(client.query(verb=VERB, agent=agent, since=since, related_agents=False))
        gets = [r for r in fake.requests if r.method == "GET"]
    assert ids(found) == ids(batch)
    assert len(gets) == 3
    first = gets[0].query
    assert json.loads(first["agent"][0]) == agent
    assert first["since"] == ["2024-01-01T00:00:00Z"] and first["related_agents"] == ["false"]
    assert gets[2].query["cursor"] == ["100"]


def test_query_by_missing_statement_id_yields_nothing(fake: FakeLrs, client: LrsClient) -> None:
    fake.script((404, {}, {"message": "No Statement found"}))
    assert list(client.query(statementId=str(uuid.uuid4()))) == []


def test_query_single_statement(fake: FakeLrs, client: LrsClient) -> None:
    one = statement()
    fake.script((200, {}, one))
    assert list(client.query(statementId=one["id"])) == [one]


def test_outage_while_bisecting_keeps_what_the_halves_delivered(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement() for _ in range(4)]
    fake.script((400, {}, {"warnings": ["Problem in 'statements.3.verb.id'"]}), PASS, (503, {}), (503, {}), (503, {}))
    with pytest.raises(LrsUnavailable) as caught:
        client.send(batch)
    assert caught.value.report.delivered == ids(batch[:2])


# -- prepared sends, the written-request signal, the session ------------------------------------


def test_prepare_encodes_each_chunk_once_and_send_posts_those_bytes(
    fake: FakeLrs, client: LrsClient, monkeypatch
) -> None:
    batch = [statement() for _ in range(120)]
    outgoing = client.prepare(batch + [dict(batch[0])])  # an exact repeat is dropped
    assert [len(chunk) for chunk, _ in outgoing.chunks] == [50, 50, 20]
    assert all(json.loads(body) == chunk for chunk, body in outgoing.chunks)
    encoded = []
    monkeypatch.setattr(lrs_module, "_encode", lambda chunk: encoded.append(chunk))
    report = client.send(outgoing)
    assert report.delivered == ids(batch)
    assert [r.body for r in fake.requests] == [chunk for chunk, _ in outgoing.chunks]
    assert not encoded  # nothing encoded again while sending


def test_bisecting_a_prepared_chunk_encodes_the_halves(fake: FakeLrs, client: LrsClient) -> None:
    batch = [statement() for _ in range(4)]
    refused = (400, {}, {"warnings": ["Problem in 'statements.1.verb.id'"]})
    fake.script(refused, PASS, refused, PASS, refused)  # [0-3], [0,1], [2,3], [2], [3]
    report = client.send(client.prepare(batch))
    assert report.delivered == ids(batch[:3]) and [s for s, _ in report.rejected] == [batch[3]]


def test_on_wire_is_called_once_after_the_first_request_is_written_before_its_answer(
    fake: FakeLrs, client: LrsClient
) -> None:
    calls: list[float] = []
    fake.script(Answer(200, body=[], delay=0.3), PASS)  # the first chunk answered late
    started = time.monotonic()
    client.send([statement() for _ in range(60)], on_wire=lambda: calls.append(time.monotonic() - started))
    assert time.monotonic() - started >= 0.3
    assert len(calls) == 1 and calls[0] < 0.2  # not after the answer, and not again for the second chunk
    assert len(fake.requests) == 2


def test_on_wire_is_called_at_once_by_a_client_on_a_callers_session(fake: FakeLrs) -> None:
    with requests.Session() as session:
        client = LrsClient(fake.endpoint, session=session)
        calls: list[int] = []
        client.send([statement()], on_wire=lambda: calls.append(len(fake.requests)))
    assert calls == [0]
    assert client.session is session and session.trust_env  # a caller's session is left as it is


def test_on_wire_is_not_left_armed_after_a_send(fake: FakeLrs, client: LrsClient) -> None:
    calls: list[int] = []
    fake.script((401, {}))
    with pytest.raises(LrsAuthError):
        client.send([statement()], on_wire=lambda: calls.append(1))
    client.about()
    client.send([statement()])
    assert calls == [1]


def test_the_clients_session_reads_the_environment_once(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.com")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine lrs.example.com login netrc-key password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    proxied = LrsClient("https://lrs.example.com/xAPI/").session
    assert not proxied.trust_env  # nothing read again on each POST
    assert proxied.proxies.get("https") == "http://proxy.example.com:3128"
    assert proxied.verify == str(tmp_path / "ca.pem")
    assert proxied.auth == ("netrc-key", "netrc-secret")
    assert LrsClient("https://internal.example.com/xAPI/").session.proxies.get("https") is None


def test_lrs_username_wins_over_netrc(fake: FakeLrs, monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-key password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    LrsClient(fake.endpoint).send([statement()])
    LrsClient(fake.endpoint, username="key", password="s3cret").send([statement()])
    first, second = (r.headers["Authorization"] for r in fake.requests)
    assert base64.b64decode(first.split()[1]) == b"netrc-key:netrc-secret"
    assert base64.b64decode(second.split()[1]) == b"key:s3cret"


# -- refusals: the LRS's text, and which ones are configuration ---------------------------------


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"detail": [{"loc": ["body", 0, "verb"], "msg": "field required"}]}, "HTTP 400: body.0.verb: field required"),
        ({"error": "object.id must be an IRI"}, "HTTP 400: object.id must be an IRI"),
        (["bad actor", "bad verb"], "HTTP 400: bad actor; bad verb"),
        ({"errorId": "e1"}, 'HTTP 400: {"errorId": "e1"}'),
    ],
    ids=["fastapi-detail", "error", "list", "unknown-shape"],
)
def test_a_refusal_keeps_the_text_of_any_json_shape(fake: FakeLrs, client: LrsClient, body, reason: str) -> None:
    fake.script((400, {}, body))
    assert client.send([statement()]).rejected[0][1] == reason


@pytest.mark.parametrize(
    "warning",
    [
        "Problem in 'statements.0.authority'. Received '{}'",
        "Problem in 'statements.0.context.extensions.https://example.com/credentials/version'",
        "Invalid IRI https://example.com/verbs/unauthorized in verb.id",
        "statements.0.version must be 1.0.x",
    ],
    ids=["authority-path", "iri-with-words", "iri-in-text", "dotted-version-path"],
)
def test_a_refusal_quoting_statement_content_is_still_per_statement(
    fake: FakeLrs, client: LrsClient, warning: str
) -> None:
    batch = [statement(), statement()]
    fake.script((400, {}, {"warnings": [warning]}), PASS, (400, {}, {"warnings": [warning]}))
    report = client.send(batch)  # bisected, not stopped
    assert report.delivered == [batch[0]["id"]] and [s for s, _ in report.rejected] == [batch[1]]


@pytest.mark.parametrize("status", [400, 422])
def test_a_refusal_of_the_credentials_in_a_4xx_stops_the_batch(fake: FakeLrs, client: LrsClient, status: int) -> None:
    fake.script((status, {}, {"message": "Invalid API key"}))
    with pytest.raises(
        LrsConfigurationError, match=r"127\.0\.0\.1:\d+ refuses the request .*LRS_USERNAME/LRS_PASSWORD"
    ):
        client.send([statement() for _ in range(4)])
    assert len(fake.requests) == 1


def test_check_uses_about_or_one_statement_without_it(fake: FakeLrs, client: LrsClient) -> None:
    assert client.check() == "GET /about"
    fake.script((404, {}, {"detail": "Not Found"}))
    assert client.check() == "GET statements?limit=1 (the LRS has no /about)"
    assert fake.requests[-1].query == {"limit": ["1"]}
    fake.script((405, {}), (404, {}, {"message": "Cannot GET /xAPI/statements"}))
    with pytest.raises(LrsConfigurationError, match="check LRS_ENDPOINT"):
        client.check()
    fake.script((401, {}))
    with pytest.raises(LrsAuthError, match="LRS_USERNAME"):
        client.check()


# -- reads re-apply their filters ---------------------------------------------------------------


def test_query_keeps_only_what_its_filters_promise(fake: FakeLrs, client: LrsClient) -> None:
    ada = {"mbox": "mailto:ada@example.com"}
    mine = {
        **statement(),
        "actor": {"objectType": "Agent", **ada},
        "stored": "2024-06-01T00:00:00.000Z",
        "context": {
            "registration": "6a3c1f0e-0000-4000-8000-000000000001",
            "contextActivities": {"parent": [{"id": "https://example.com/courses/1"}]},
        },
    }
    group = {
        **statement(),
        "actor": {"objectType": "Group", "member": [{"objectType": "Agent", **ada}]},
        "stored": "2024-06-01T00:00:00.000Z",
    }
    other = {**statement(verb=VERB + "/other"), "stored": "2024-06-01T00:00:00.000Z"}
    old = {**mine, "id": str(uuid.uuid4()), "stored": "2023-01-01T00:00:00.000Z"}
    page = {"statements": [mine, group, other, old], "more": ""}

    def asked(**params) -> list[str]:
        fake.script((200, {}, page))  # an LRS that ignores every filter
        return ids(client.query(**params))

    assert asked(verb=VERB) == ids([mine, group, old])
    assert asked(agent=ada) == ids([mine, group, old])
    assert asked(agent=json.dumps(ada), since=datetime(2024, 1, 1, tzinfo=UTC)) == ids([mine, group])
    assert asked(until="2023-06-01T00:00:00Z") == ids([old])
    assert asked(activity="https://example.com/courses/1") == []
    assert asked(activity="https://example.com/courses/1", related_activities=True) == ids([mine, old])
    assert asked(registration="6A3C1F0E-0000-4000-8000-000000000001") == ids([mine, old])


def test_a_look_up_answered_with_another_statement_finds_nothing(fake: FakeLrs, client: LrsClient) -> None:
    fake.script((200, {}, statement()))
    assert list(client.query(statementId=str(uuid.uuid4()))) == []
