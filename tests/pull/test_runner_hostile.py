"""A pull can never run forever: platforms that drip their answers a byte a second (body or
headers, token endpoints included), announce empty pages without end, lead back to a page already
read, or answer pages too large for one queue message or for memory; and no platform client
sends back a cookie a server set.

The commands run as a user runs them (python -m chalicelib, a subprocess) against the platform
fakes and the real test LRS, with small deadlines set in the environment. Each stop is exit 3 with
one line naming the cause, within a bound; the cursor stays at the last page queued; what was
queued before the stop is delivered or still in the outbox, and a run once the platform is fixed
delivers everything."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from chalicelib.errors import shown_id
from chalicelib.httpretry import RetryingClient, RetryPolicy
from chalicelib.platforms.badgr.api import BadgrClient
from fakes.accredible_api import FakeAccredible
from fakes.badgr_api import FakeBadgr
from fakes.certifier_api import FakeCertifier
from fakes.credly_api import FakeCredly
from fakes.server import JsonServer
from lrs_process import XAPI_VERSION
from tests.commands.test_local_delivery_failures import command, error_lines
from tests.support.paths import REPO

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

ROOT = REPO
sys.path.insert(0, str(ROOT / "bench"))
from credly_badges import make_badges  # noqa: E402

ORG_ID = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"
TOKEN = "token-" + uuid.uuid4().hex
DEADLINE = 1.0  # HTTP_REQUEST_DEADLINE of these runs
LONG = "Accessible design, reviewed by peers: é " * 400  # ~16 KB of UTF-8 (é weighs two bytes)


# -- running a command -----------------------------------------------------------------------------


def environment(tmp_path: Path, lrs, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LRS_", "CREDLY_", "CERTIFIER_", "ACCREDIBLE_", "BADGR_", "HTTP_", "PULL_"))
    }
    env.update(
        {
            "LRS_ENDPOINT": lrs.endpoint,
            "STATE_PATH": str(tmp_path / "state.sqlite"),
            "QUEUE_BACKEND": "local",
            "STATEMENT_ID_NAMESPACE": str(uuid.uuid4()),
            "HTTP_MAX_ATTEMPTS": "2",
            "HTTP_BACKOFF_BASE": "0.05",
            "HTTP_BACKOFF_CAP": "0.1",
            "HTTP_REQUEST_DEADLINE": str(DEADLINE),
            "PULL_MAX_EMPTY_PAGES": "3",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def credly_env(tmp_path: Path, lrs, fake: FakeCredly, **extra: str) -> dict[str, str]:
    return environment(tmp_path, lrs, CREDLY_API_BASE=fake.base_url, CREDLY_ORG_ID=ORG_ID, CREDLY_TOKEN=TOKEN, **extra)


def cursor(env: dict[str, str], platform: str, mode: str) -> str | None:
    with sqlite3.connect(env["STATE_PATH"]) as db:
        row = db.execute("SELECT value FROM cursors WHERE name = ?", (f"pull:{platform}:{mode}",)).fetchone()
    return row[0] if row else None


def outbox(env: dict[str, str]) -> list[str]:
    with sqlite3.connect(env["STATE_PATH"]) as db:
        return [row[0] for row in db.execute("SELECT body FROM outbox")]


def statement_id(env: dict[str, str], platform: str, record_id: object) -> str:
    return str(uuid.uuid5(uuid.UUID(env["STATEMENT_ID_NAMESPACE"]), f"{platform}|{record_id}|issued"))


def stored(lrs, ids: list[str]) -> set[str]:
    headers = {"X-Experience-API-Version": XAPI_VERSION}
    return {
        i
        for i in ids
        if requests.get(lrs.statements_url, params={"statementId": i}, headers=headers, timeout=10).status_code == 200
    }


def lost(env: dict[str, str], lrs, platform: str, record_ids: list) -> list:
    """The records neither in the LRS nor in a message still in the outbox."""
    held = stored(lrs, [statement_id(env, platform, r) for r in record_ids])
    waiting = "\n".join(outbox(env))
    return [r for r in record_ids if statement_id(env, platform, r) not in held and str(r) not in waiting]


def badges(count: int, **fields: object) -> list[dict]:
    made = make_badges(
        count,
        seed=5,
        start=datetime(2026, 2, 2, tzinfo=UTC),
        spread_days=100,
        expiry_days=(3650,),
        state="pending",
    )
    for badge in made:
        badge["badge_template"] = {**badge["badge_template"], **fields}
    return sorted(made, key=lambda badge: badge["issued_at"])  # the order a backfill reads them in


@pytest.fixture
def credly():
    with FakeCredly(org_id=ORG_ID, token=TOKEN) as fake:
        yield fake


def badge_list_requests(fake: FakeCredly) -> int:
    return sum(1 for method, path in fake.requests if method == "GET" and path.endswith("/badges"))


# -- answers that never finish ---------------------------------------------------------------------


@pytest.mark.parametrize("head", [False, True], ids=["body", "headers"])
def test_a_platform_dripping_a_byte_a_second_stops_the_backfill_at_the_deadline(credly, lrs, tmp_path, head):
    history = badges(250)  # pages of 100: the first arrives, the second drips on every attempt
    for badge in history:
        credly.add_badge(badge)
    credly.drip_next(interval=1.0, times=2, head=head, skip=1)
    env = credly_env(tmp_path, lrs, credly)

    done, seconds = command(env, "backfill", "credly")

    assert done.returncode == 3, done.stderr
    assert error_lines(done.stderr) == [
        f"error: Credly badge list: no complete answer within {DEADLINE:g} s "
        "(HTTP_REQUEST_DEADLINE) after 2 attempts to 127.0.0.1"
    ]
    assert seconds < 20  # two tries of a second each, and the command's start
    assert "page=2" in cursor(env, "credly", "backfill")  # the first page was queued, the second was not
    assert lost(env, lrs, "credly", [b["id"] for b in history[:100]]) == []

    again, _ = command(env, "backfill", "credly")  # the platform answers normally again
    assert again.returncode == 0, again.stderr
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == [] and outbox(env) == []


class DrippingLrs(JsonServer):
    """An LRS that takes statements, and answers every request a byte every `interval` seconds
    (with `head`, its status line and headers too): faster than a read timeout fires."""

    def __init__(self, head: bool, interval: float = 1.0) -> None:
        super().__init__(self.answer)
        self.posts = 0
        self.drip_next(interval=interval, times=1000, head=head)

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes):
        if method == "POST" and target.endswith("/statements"):
            self.posts += 1
            return 200, {}, [statement["id"] for statement in json.loads(body)]
        return 404, {}, {"error": "not found"}


@pytest.mark.parametrize("head", [False, True], ids=["body", "headers"])
def test_an_lrs_dripping_its_post_answer_is_cut_at_the_deadline_and_the_page_stays_in_the_outbox(
    credly, lrs, tmp_path, head
):
    history = badges(5)
    for badge in history:
        credly.add_badge(badge)
    dripping = DrippingLrs(head)
    dripping.start()
    try:
        endpoint = f"http://127.0.0.1:{dripping.port}/xAPI/"
        # a try may take 1.5 s, and so may each read (LRS_READ_TIMEOUT is 20 s): a byte a second never times out
        env = credly_env(tmp_path, lrs, credly, LRS_ENDPOINT=endpoint, HTTP_REQUEST_DEADLINE="1.5")
        done, seconds = command(env, "backfill", "credly", "--deadline", "5", timeout=60)
        posts = dripping.posts
    finally:
        dripping.stop()

    assert done.returncode == 3, done.stderr
    assert error_lines(done.stderr) == [
        f"error: LRS 127.0.0.1:{dripping.port} made no progress for 5 s (--deadline): LRS POST /xAPI/statements: "
        "no complete answer within 1.5 s (HTTP_REQUEST_DEADLINE) after 2 attempts to 127.0.0.1; "
        "1 message(s) kept in the outbox: run the command again or `python -m chalicelib worker` once it is fixed"
    ]
    assert seconds < 15 and posts >= 2  # each try cut at its deadline, then tried again
    [message] = outbox(env)  # the page, whole: none of it was delivered
    assert sorted(badge["id"] for badge in json.loads(message)["body"]["data"]) == sorted(b["id"] for b in history)

    env["LRS_ENDPOINT"] = lrs.endpoint  # the LRS answers again
    again, _ = command(env, "backfill", "credly")
    assert again.returncode == 0, again.stderr
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == [] and outbox(env) == []


def test_the_lrs_clients_own_connections_end_a_dripping_answer_at_the_deadline():
    from chalicelib.xapi.lrs import LrsClient, LrsUnavailable

    for head in (False, True):
        dripping = DrippingLrs(head, interval=0.2)  # under the per-read timeout (at most the deadline)
        dripping.start()
        try:
            client = LrsClient(
                f"http://127.0.0.1:{dripping.port}/xAPI/",
                sleep=lambda _: None,
                retry=RetryPolicy(attempts=2, base=0.0, cap=0.0, deadline=0.5),
            )
            started = time.monotonic()
            with pytest.raises(LrsUnavailable, match=r"no complete answer within 0.5 s \(HTTP_REQUEST_DEADLINE\)"):
                client.send(
                    [
                        {
                            "id": str(uuid.uuid4()),
                            "actor": {"mbox": "mailto:ada@example.com"},
                            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
                            "object": {"id": "https://example.com/activity"},
                        }
                    ]
                )
            seconds = time.monotonic() - started
        finally:
            dripping.stop()
        assert seconds < 3 and dripping.posts == 2  # the answer takes 10 to 30 s at its pace


def test_a_token_endpoint_dripping_its_answer_stops_the_sync_at_the_deadline(lrs, tmp_path):
    with FakeBadgr("issuer@example.com", "badgr-pw") as badgr:
        badgr.drip_next(interval=1.0, times=2)  # the password grant, both attempts
        env = environment(
            tmp_path, lrs, BADGR_API_BASE=badgr.base_url, BADGR_USERNAME="issuer@example.com", BADGR_PASSWORD="badgr-pw"
        )
        done, seconds = command(env, "sync", "badgr")

    assert done.returncode == 3, done.stderr
    assert error_lines(done.stderr) == [
        f"error: Canvas Credentials password grant: no complete answer within "
        f"{DEADLINE:g} s (HTTP_REQUEST_DEADLINE) after 2 attempts to 127.0.0.1"
    ]
    assert seconds < 20
    assert cursor(env, "badgr", "sync") is None and outbox(env) == []


def test_an_answer_larger_than_the_body_bound_is_refused_unread_and_memory_stays_flat(credly, lrs, tmp_path):
    history = badges(100, description="x" * 430_000)  # one page of 43 MB
    for badge in history:
        credly.add_badge(badge)
    env = credly_env(tmp_path, lrs, credly, HTTP_MAX_BODY_BYTES=str(4 * 1024 * 1024))
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking process (pytest, large
    # in a whole-suite run) across exec, while VmHWM is this program's own peak.
    measured = (
        "import re, sys; from chalicelib.cli import main; code = main(sys.argv[1:]); "
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print('maxrss', peak, file=sys.stderr); sys.exit(code)"
    )

    done = subprocess.run(
        [sys.executable, "-c", measured, "backfill", "credly"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 3, done.stderr
    assert error_lines(done.stderr) == [
        "error: Credly badge list: the answer from 127.0.0.1 is larger than "
        "4,194,304 bytes (HTTP_MAX_BODY_BYTES): not read"
    ]
    kilobytes = int(done.stderr.rsplit("maxrss ", 1)[1].split()[0])
    assert kilobytes < 150_000  # the page read whole and parsed took the process to about 300 MB
    assert badge_list_requests(credly) == 1  # not retried: the same page would answer the same
    assert cursor(env, "credly", "backfill") is None and outbox(env) == []


# -- pages without end -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["backfill", "sync"])
def test_endless_empty_pages_stop_a_credly_pull_with_its_cursor_at_the_last_page_queued(credly, lrs, tmp_path, mode):
    history = badges(150)  # two pages with badges, then empty pages that each name a next one
    for badge in history:
        credly.add_badge(badge)
    credly.endless = True
    env = credly_env(tmp_path, lrs, credly)

    done, seconds = command(env, mode, "credly")

    assert done.returncode == 3, done.stderr
    kept = cursor(env, "credly", mode)
    assert "page=3" in kept
    assert error_lines(done.stderr) == [
        f"error: credly {mode} stopped: more than 3 pages in a row came back empty while announcing more "
        f"(PULL_MAX_EMPTY_PAGES); the cursor stays at the last page queued ({kept}): run it again once the "
        "platform answers normally"
    ]
    assert seconds < 30
    assert badge_list_requests(credly) == 2 + 4  # the two pages, then four empty ones
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == []
    assert all(json.loads(message)["body"]["data"] for message in outbox(env))  # none for an empty page

    credly.endless = False
    again, _ = command(env, mode, "credly")
    assert again.returncode == 0, again.stderr
    assert badge_list_requests(credly) == 2 + 4 + 1  # on from the page kept: the platform says it was the last
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == [] and outbox(env) == []


def test_endless_empty_interaction_pages_stop_a_certifier_pull(lrs, tmp_path):
    with FakeCertifier(TOKEN) as certifier:
        records = [_certifier_credential(n) for n in range(3)]
        for record in records:
            certifier.add_credential(record)
        certifier.endless = True
        env = environment(tmp_path, lrs, CERTIFIER_API_BASE=certifier.base_url, CERTIFIER_TOKEN=TOKEN)

        done, seconds = command(env, "backfill", "certifier")
        interaction_requests = sum(1 for _, path in certifier.requests if path.endswith("/credential-interactions"))

    assert done.returncode == 3, done.stderr
    [line] = error_lines(done.stderr)
    assert line.startswith(
        "error: certifier backfill stopped: more than 3 pages in a row came back empty while "
        "announcing more (PULL_MAX_EMPTY_PAGES); the cursor stays at the last page queued ("
    )
    assert seconds < 30 and interaction_requests == 4
    assert json.loads(cursor(env, "certifier", "backfill"))["phase"] == "interactions"
    assert lost(env, lrs, "certifier", [r["id"] for r in records]) == []


BADGR_USER, BADGR_PASSWORD, BADGR_ISSUER = "issuer@example.com", "badgr-pw", "IsEndless0000000000001"
BADGR_LISTS = {"backfill": f"/v2/issuers/{BADGR_ISSUER}/assertions", "sync": "/v2/assertions/changed"}


@pytest.mark.parametrize("mode", ["backfill", "sync"])
def test_endless_empty_pages_stop_a_badgr_pull_with_its_cursor_at_the_last_page_queued(lrs, tmp_path, mode):
    with FakeBadgr(BADGR_USER, BADGR_PASSWORD) as badgr:
        badgr.max_per_page = badgr.changed_page_size = 20  # two pages with assertions, then empty ones
        badgr.add_issuer(BADGR_ISSUER)
        issued = datetime(2026, 3, 2, tzinfo=UTC)
        made = [
            badgr.add_assertion("BcEndless", f"learner{n}@example.com", issued, issuer=BADGR_ISSUER) for n in range(30)
        ]
        badgr.endless = True
        env = environment(
            tmp_path, lrs, BADGR_API_BASE=badgr.base_url, BADGR_USERNAME=BADGR_USER, BADGR_PASSWORD=BADGR_PASSWORD
        )
        lists = lambda: sum(1 for method, path in badgr.requests if path == BADGR_LISTS[mode])  # noqa: E731

        done, seconds = command(env, mode, "badgr", timeout=60)

        assert done.returncode == 3, done.stderr
        kept = cursor(env, "badgr", mode)
        assert "page=1&cursor=" in json.loads(kept)["next"]  # the first empty page: after the two queued
        assert error_lines(done.stderr) == [
            f"error: badgr {mode} stopped: more than 3 pages in a row came back empty while announcing more "
            f"(PULL_MAX_EMPTY_PAGES); the cursor stays at the last page queued ({shown_id(kept, 120)}): run it "
            "again once the platform answers normally"
        ]
        assert seconds < 30 and lists() == 2 + 4  # the two pages, then four empty ones
        ids = [a["entityId"] for a in made]
        assert lost(env, lrs, "badgr", ids) == []
        assert all(json.loads(message)["body"]["result"] for message in outbox(env))  # none for an empty page

        badgr.endless = False
        again, _ = command(env, mode, "badgr", timeout=60)
        assert again.returncode == 0, again.stderr
        assert lists() == 2 + 4 + 1  # on from the page kept: the platform says it was the last
        assert lost(env, lrs, "badgr", ids) == [] and outbox(env) == []


def test_a_next_link_back_to_an_earlier_page_stops_the_pull_with_exit_3(credly, lrs, tmp_path):
    history = badges(150)
    for badge in history:
        credly.add_badge(badge)
    credly.loops = True  # the last page names the first one as its next
    env = credly_env(tmp_path, lrs, credly)

    done, _ = command(env, "backfill", "credly")

    assert done.returncode == 3, done.stderr
    kept = cursor(env, "credly", "backfill")
    assert error_lines(done.stderr) == [
        "error: credly backfill stopped: Credly's next_page_url repeats an earlier page; the cursor stays at the "
        f"last page queued ({kept}): run it again once the platform answers normally"
    ]
    # pages 1 and 2 queued, page 2 naming page 1 as next; page 1 read again names page 2: the stop
    assert kept.endswith("page=1") and badge_list_requests(credly) == 3
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == []


def test_a_page_budget_stops_a_run_and_the_next_run_goes_on_from_there(credly, lrs, tmp_path):
    history = badges(250)
    for badge in history:
        credly.add_badge(badge)
    env = credly_env(tmp_path, lrs, credly, PULL_MAX_PAGES="2")

    done, _ = command(env, "backfill", "credly")

    assert done.returncode == 3, done.stderr
    kept = cursor(env, "credly", "backfill")
    assert "page=3" in kept and badge_list_requests(credly) == 2
    assert error_lines(done.stderr) == [
        "error: credly backfill stopped: read 2 pages without reaching the end (PULL_MAX_PAGES); the cursor "
        f"stays at the last page queued ({kept}): run it again once the platform answers normally"
    ]
    assert lost(env, lrs, "credly", [b["id"] for b in history[:200]]) == []

    again, _ = command(env, "backfill", "credly")
    assert again.returncode == 0, again.stderr
    assert badge_list_requests(credly) == 3
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == [] and outbox(env) == []


def test_a_scheduled_sync_into_endless_pages_logs_the_stop_and_returns(credly, lrs, tmp_path, monkeypatch):
    from chalicelib.runtime import services

    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr("chalicelib.observability.log", lambda event, **fields: logged.append((event, fields)))
    for badge in badges(50):
        credly.add_badge(badge)
    credly.endless = True
    for name, value in credly_env(tmp_path, lrs, credly).items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    try:
        started = time.monotonic()
        result = services().scheduled_sync("credly", seconds_left=130)  # pages may start for 127.9 s
        seconds = time.monotonic() - started
        kept = services().store.cursor("pull:credly:sync")
    finally:
        services.cache_clear()

    assert result["finished"] is False and "PULL_MAX_EMPTY_PAGES" in result["stopped"]
    assert seconds < 5 and badge_list_requests(credly) == 1 + 4
    assert "page=2" in kept
    assert [fields["platform"] for event, fields in logged if event == "scheduled_sync_stopped"] == ["credly"]


def test_a_scheduled_runs_tries_are_cut_to_fit_a_pages_allowance():
    from chalicelib.pull.runner import PAGE_ALLOWANCE_SECONDS, request_seconds, scheduled_settings
    from chalicelib.settings import Settings

    shipped = Settings()  # 5 tries of 60 s, waits of up to 30 s: 420 s, more than the function's 300
    assert request_seconds(shipped) == 420
    cut = scheduled_settings(shipped)
    assert (cut.http_max_attempts, cut.http_request_deadline, request_seconds(cut)) == (2, 60, 150)
    assert request_seconds(cut) <= PAGE_ALLOWANCE_SECONDS and 2 * PAGE_ALLOWANCE_SECONDS <= 300

    quick = Settings(http_max_attempts=4, http_request_deadline=10, http_backoff_cap=5)  # 55 s: kept as set
    assert scheduled_settings(quick) is quick and request_seconds(quick) == 55
    slow = Settings(http_max_attempts=3, http_request_deadline=400)  # not even one try fits: one of 150 s
    assert (scheduled_settings(slow).http_max_attempts, request_seconds(scheduled_settings(slow))) == (1, 150)


def test_a_scheduled_sync_into_a_page_timing_out_on_every_try_ends_before_its_function(
    credly, lrs, tmp_path, monkeypatch
):
    from chalicelib.runtime import services

    logged: list[tuple[str, dict]] = []
    monkeypatch.setattr("chalicelib.observability.log", lambda event, **fields: logged.append((event, fields)))
    monkeypatch.setattr("chalicelib.pull.runner.PAGE_ALLOWANCE_SECONDS", 3.0)  # a function of 6 s, scaled down
    for badge in badges(150):
        credly.add_badge(badge)
    credly.drip_next(interval=1.0, times=100, skip=1)  # the first page answers, every try of the second drips
    # eight tries of 1 s, waits of up to 0.5 s: 11.5 s a request; cut to two, 2.5 s
    for name, value in credly_env(tmp_path, lrs, credly, HTTP_MAX_ATTEMPTS="8", HTTP_BACKOFF_CAP="0.5").items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    try:
        started = time.monotonic()
        result = services().scheduled_sync("credly", seconds_left=6)
        seconds = time.monotonic() - started
        kept = services().store.cursor("pull:credly:sync")
    finally:
        services.cache_clear()

    assert seconds < 6 and badge_list_requests(credly) == 1 + 2
    assert result == {
        "platform": "credly",
        "mode": "sync",
        "finished": False,
        "stopped": f"Credly badge list: no complete answer within {DEADLINE:g} s (HTTP_REQUEST_DEADLINE) "
        "after 2 attempts to 127.0.0.1",
    }
    assert "page=2" in kept  # the next scheduled run goes on from the page that timed out
    assert [fields["reason"] for event, fields in logged if event == "scheduled_sync_stopped"] == [result["stopped"]]


# -- pages larger than a queue message -------------------------------------------------------------


def test_a_credly_page_larger_than_a_queue_message_is_split_and_every_badge_arrives(credly, lrs, tmp_path):
    history = badges(250, description=LONG)  # pages of 100 badges weigh about 1.7 MB
    for badge in history:
        credly.add_badge(badge)
    env = credly_env(tmp_path, lrs, credly)

    done, _ = command(env, "backfill", "credly", "--json")

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["records"], summary["finished"], summary["dead_letters"]) == (250, True, 0)
    assert summary["pages"] > 3  # the pages of 100 went as several messages each
    assert lost(env, lrs, "credly", [b["id"] for b in history]) == [] and outbox(env) == []
    assert badge_list_requests(credly) == 3


def test_a_certifier_page_larger_than_a_queue_message_is_split_and_every_credential_arrives(lrs, tmp_path):
    with FakeCertifier(TOKEN) as certifier:  # a page of 100 credentials weighs about 1.7 MB
        credentials = [_certifier_credential(n, customAttributes={"custom.notes": LONG}) for n in range(100)]
        for credential in credentials:
            certifier.add_credential(credential)
        env = environment(tmp_path, lrs, CERTIFIER_API_BASE=certifier.base_url, CERTIFIER_TOKEN=TOKEN)
        done, _ = command(env, "backfill", "certifier", "--json")

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["records"], summary["dead_letters"]) == (100, 0) and summary["pages"] > 1
    assert lost(env, lrs, "certifier", [c["id"] for c in credentials]) == [] and outbox(env) == []


def test_an_accredible_page_larger_than_a_queue_message_is_split_and_every_credential_arrives(lrs, tmp_path):
    with FakeAccredible(TOKEN) as accredible:  # a page of 50 credentials weighs about 1.7 MB
        credentials = [
            accredible.add_credential(f"learner{n}@example.com", f"Learner {n}", course=LONG + str(n))
            for n in range(50)
        ]
        env = environment(
            tmp_path,
            lrs,
            ACCREDIBLE_API_BASE=accredible.base_url,
            ACCREDIBLE_API_KEY=TOKEN,
            ACCREDIBLE_REQUESTS_PER_SECOND="0",
        )
        done, _ = command(env, "backfill", "accredible", "--json")

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["records"], summary["dead_letters"]) == (50, 0) and summary["pages"] > 2
    assert lost(env, lrs, "accredible", [c["id"] for c in credentials]) == [] and outbox(env) == []


def _certifier_credential(n: int, **extra: object) -> dict:
    return {
        "id": f"01CRED{n:020d}",
        "publicId": f"00000000-0000-4000-8000-{n:012d}",
        "groupId": "01GROUP",
        "status": "issued",
        "recipient": {"name": f"Learner {n}", "email": f"learner{n}@example.com"},
        "issueDate": "2026-03-01",
        "expiryDate": None,
        "customAttributes": {},
        "createdAt": "2026-03-01T08:00:00.000Z",
        "updatedAt": "2026-03-01T08:00:00.000Z",
        **extra,
    }


# -- no cookies ------------------------------------------------------------------------------------


def test_no_platform_pull_sends_back_a_cookie_the_server_set(credly, lrs, tmp_path):
    with FakeCertifier(TOKEN) as certifier, FakeAccredible(TOKEN) as accredible:
        for fake in (credly, certifier, accredible):
            fake.set_cookie("access_token=from-the-server; Path=/")
        for badge in badges(120):
            credly.add_badge(badge)
        for n in range(3):
            certifier.add_credential(_certifier_credential(n))
            accredible.add_credential(f"learner{n}@example.com", f"Learner {n}")
        env = credly_env(
            tmp_path,
            lrs,
            credly,
            CERTIFIER_API_BASE=certifier.base_url,
            CERTIFIER_TOKEN=TOKEN,
            ACCREDIBLE_API_BASE=accredible.base_url,
            ACCREDIBLE_API_KEY=TOKEN,
            ACCREDIBLE_REQUESTS_PER_SECOND="0",
        )
        for platform in ("credly", "certifier", "accredible"):
            done, _ = command(env, "backfill", platform)
            assert done.returncode == 0, done.stderr
        received = {
            name: fake.cookies_received
            for name, fake in (("credly", credly), ("certifier", certifier), ("accredible", accredible))
        }

    assert received == {"credly": [], "certifier": [], "accredible": []}


def test_a_cookie_set_on_a_redirect_or_a_token_answer_never_comes_back():
    received: list[str] = []

    def answer(method: str, target: str, headers: dict[str, str], body: bytes):
        received.extend(f"{target} {v}" for k, v in headers.items() if k.lower() == "cookie")
        if target == "/moved":
            return 302, {"Location": "/here", "Set-Cookie": "access_token=redirect; Path=/"}, None
        if target == "/o/token":
            return 200, {"Set-Cookie": "access_token=tok; Path=/"}, {"access_token": "tok", "expires_in": 1}
        return 200, {"Set-Cookie": "session=1; Path=/"}, {"result": []}

    server = JsonServer(answer)
    server.start()
    try:
        client = RetryingClient(retry=RetryPolicy(attempts=1))
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/moved", "/here", "/o/token", "/o/token"):
            client._send("GET" if path != "/o/token" else "POST", base + path, "request")
        ticks = iter(range(0, 10**6, 1000))  # a clock where every token is due again at once
        badgr = BadgrClient(
            base,
            "issuer@example.com",
            "pw",
            clock=lambda: float(next(ticks)),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )
        for _ in range(2):  # a password grant before each list: the second would carry the first's cookie
            badgr.issuer_ids()
    finally:
        server.stop()

    assert received == []


def test_an_award_whose_answer_drips_past_the_deadline_is_not_sent_twice():
    from chalicelib.httpretry import OutcomeUnknown
    from chalicelib.platforms.accredible.api import AccredibleClient

    with FakeAccredible(TOKEN) as accredible:
        accredible.drip_next(interval=0.05)  # the created credential's answer, ~1 KB: a minute at this pace
        client = AccredibleClient(
            accredible.base_url,
            TOKEN,
            pacer=None,
            sleep=lambda _: None,
            retry=RetryPolicy(attempts=3, base=0.0, cap=0.0, deadline=0.5),
        )
        started = time.monotonic()
        with pytest.raises(OutcomeUnknown, match="it may have been done: check the platform"):
            client.create_credential(
                {"recipient": {"name": "Ada Lovelace", "email": "ada@example.com"}, "group_id": 771001}
            )
        seconds = time.monotonic() - started
        posts = [path for method, path in accredible.requests if method == "POST"]

    assert seconds < 3 and posts == ["/v1/credentials"]  # created once: a second try could award twice
