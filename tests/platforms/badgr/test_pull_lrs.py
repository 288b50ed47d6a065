"""Pulling Canvas Credentials / Badgr history into the real LRS: a backfill across issuers and
pages with expired and revoked assertions, syncs from a watermark, a failing page resumed
without reading earlier pages again, and a crash between queueing a page and storing its cursor."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_processing_crash_windows import Crash, crash_at

pytestmark = pytest.mark.integration

USER, PASSWORD = "issuer@example.com", "badgr-pw"
PER_PAGE = 4  # the fake's page size: 500 asked, 4 answered, so a few assertions make pages
# The fake's clock at the first sync (a day ago: the LRS and the expiry check use the real clock).
NOW = (datetime.now(UTC) - timedelta(days=1)).replace(second=0, microsecond=0)
ISSUER_A, ISSUER_B = "IsAaAaAaAaAaAaAaAaAaAa", "IsBbBbBbBbBbBbBbBbBbBb"
LEARNERS = [
    "ada.lovelace@example.com",
    "grace.hopper@example.com",
    "katherine.johnson@example.com",
    "dorothy.vaughan@example.com",
]
EXPIRED = {(ISSUER_A, 2), (ISSUER_B, 1)}  # (issuer, n-th assertion of it): expired a day ago
REVOKED = {(ISSUER_A, 5), (ISSUER_B, 3)}


@pytest.fixture
def badgr(connector, monkeypatch):
    from fakes.badgr_api import FakeBadgr

    with FakeBadgr(USER, PASSWORD) as fake:
        fake.max_per_page = fake.changed_page_size = PER_PAGE
        clock = {"now": NOW}
        fake.clock = lambda: clock["now"]
        fake.set_now = lambda moment: clock.__setitem__("now", moment)
        for name, value in {
            "BADGR_API_BASE": fake.base_url,
            "BADGR_USERNAME": USER,
            "BADGR_PASSWORD": PASSWORD,
            "HTTP_MAX_ATTEMPTS": "2",
        }.items():
            monkeypatch.setenv(name, value)
        connector.restart()
        connector.badgr = fake
        yield fake


@pytest.fixture
def history(badgr) -> list[dict]:
    """Issuer A: 10 assertions (pages of 4, 4, 2), issuer B: 5 (4, 1); two expired, two revoked."""
    badgr.add_issuer(ISSUER_A, "School of Engineering")
    badgr.add_issuer(ISSUER_B, "School of Data")
    classes = {
        ISSUER_A: [
            badgr.add_badgeclass("BcA1", "Accessibility Champion", ISSUER_A),
            badgr.add_badgeclass("BcA2", "Code Reviewer", ISSUER_A),
        ],
        ISSUER_B: [badgr.add_badgeclass("BcB1", "Data Steward", ISSUER_B)],
    }
    assertions = []
    for issuer, count in ((ISSUER_A, 10), (ISSUER_B, 5)):
        for n in range(count):
            issued = NOW - timedelta(days=300 - 20 * n, hours=len(assertions))
            badgeclass = classes[issuer][n % len(classes[issuer])]["entityId"]
            assertions.append(
                badgr.add_assertion(
                    badgeclass,
                    LEARNERS[n % len(LEARNERS)],
                    issued,
                    expires=NOW - timedelta(days=1) if (issuer, n) in EXPIRED else issued + timedelta(days=3650),
                    revoked=(issuer, n) in REVOKED,
                    revocation_reason="Awarded to the wrong cohort",
                )
            )
    return assertions


def pull(connector, mode: str, on_page=None, since=None):
    return connector.pull("badgr", mode, on_page, since)


def statement_id(connector, assertion: dict, kind: str) -> str:
    namespace = uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"])
    return str(uuid.uuid5(namespace, f"badgr|{assertion['entityId']}|{kind}"))


def expired(assertion: dict, as_of: datetime) -> bool:
    expires = assertion.get("expires")
    return bool(expires) and datetime.fromisoformat(expires.replace("Z", "+00:00")) <= as_of


def expected_statements(assertions: list[dict], as_of: datetime) -> int:
    """issued; + expired when it has; revoked (REVOCATION_POLICY=both): issued, revoked, voiding."""
    return sum(3 if a["revoked"] else 2 if expired(a, as_of) else 1 for a in assertions)


def missing_in_lrs(connector, lrs_session, lrs, assertions: list[dict]) -> list[str]:
    """What the LRS lacks: the issued statement (voided, for a revoked assertion: then the revoked
    statement too), the expired one for an assertion past its expiry."""
    now = datetime.now(UTC)
    missing = []
    for a in assertions:
        wanted = (
            [("statementId", "revoked"), ("voidedStatementId", "issued")]
            if a["revoked"]
            else [("statementId", "issued")]
        )
        if not a["revoked"] and expired(a, now):
            wanted.append(("statementId", "expired"))
        for parameter, kind in wanted:
            answer = lrs_session.get(lrs.statements_url, params={parameter: statement_id(connector, a, kind)})
            if answer.status_code != 200:
                missing.append(f"{a['entityId']}|{kind}")
    return missing


def list_targets(fake, path_end: str = "/assertions") -> list[str]:
    return [target for method, target in fake.targets if method == "GET" and urlsplit(target).path.endswith(path_end)]


def changed_targets(fake) -> list[str]:
    return list_targets(fake, "/v2/assertions/changed")


def query(target: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target).query)


def cursor(connector, mode: str) -> dict | None:
    stored = connector.services.store.cursor(f"pull:badgr:{mode}")
    return None if stored is None else json.loads(stored)


def delivered_once(connector, expected: int) -> None:
    counters = connector.services.store.counters()
    assert (counters.get("delivered", 0), counters.get("already_stored", 0)) == (expected, 0)
    assert connector.services.store.count_dead_letters() == 0


# -- backfill --------------------------------------------------------------------------------------


def test_a_backfill_reads_every_issuer_and_page_expired_and_revoked_included(
    connector, badgr, history, lrs, lrs_session
):
    report = pull(connector, "backfill")
    assert (report.pages, report.records, report.finished) == (5, 15, True)
    assert cursor(connector, "backfill") is None  # done: the next backfill starts over

    targets = list_targets(badgr)
    assert len(targets) == 5
    for target in targets:  # without both flags Badgr leaves expired and revoked assertions out
        assert {k: query(target)[k] for k in ("include_expired", "include_revoked", "num")} == {
            "include_expired": ["true"],
            "include_revoked": ["true"],
            "num": ["500"],
        }
    assert [urlsplit(t).path.split("/")[3] for t in targets] == [ISSUER_A] * 3 + [ISSUER_B] * 2
    # Each badge class fetched once in the run, not once per assertion.
    assert sorted(urlsplit(t).path for m, t in badgr.targets if "/v2/badgeclasses/" in t) == [
        "/v2/badgeclasses/BcA1",
        "/v2/badgeclasses/BcA2",
        "/v2/badgeclasses/BcB1",
    ]

    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, history) == []
    delivered_once(connector, expected_statements(history, datetime.now(UTC)))
    stored = lrs_session.get(lrs.statements_url, params={"statementId": statement_id(connector, history[1], "issued")})
    assert stored.json()["object"]["definition"]["name"]["en"] == "Code Reviewer"  # the embedded badge class
    revoked = next(a for a in history if a["revoked"])
    answer = lrs_session.get(lrs.statements_url, params={"statementId": statement_id(connector, revoked, "revoked")})
    assert answer.json()["result"]["response"] == "Awarded to the wrong cohort"


def test_a_backfill_since_a_date_queues_only_what_was_issued_since_and_stops_each_issuer_early(
    connector, badgr, history
):
    since = NOW - timedelta(days=230)
    report = pull(connector, "backfill", since=since)
    recent = [a for a in history if datetime.fromisoformat(a["issuedOn"].replace("Z", "+00:00")) >= since]
    assert (report.records, len(recent), report.finished) == (7, 7, True)
    # A's second page and B's first reach before `since`: the pages after them are never asked for.
    assert [urlsplit(t).path.split("/")[3] for t in list_targets(badgr)] == [ISSUER_A, ISSUER_A, ISSUER_B]
    assert cursor(connector, "backfill") is None


@pytest.mark.parametrize("failure", ["server-error", "rate-limited", "truncated"])
def test_a_failing_page_stops_the_backfill_and_the_next_run_resumes_there(
    connector, badgr, history, lrs, lrs_session, failure
):
    from chalicelib.errors import ConnectorError

    def fail_the_third_page(report):
        if report.pages == 2:
            if failure == "truncated":
                badgr.truncate_next(path="/assertions")
            elif failure == "rate-limited":
                badgr.fail_next(429, times=2, headers={"Retry-After": "0"}, path="/assertions")
            else:
                badgr.fail_next(503, times=2, path="/assertions")  # every attempt of the third page

    with pytest.raises(ConnectorError):
        pull(connector, "backfill", on_page=fail_the_third_page)
    stopped = cursor(connector, "backfill")
    assert (stopped["issuer"], stopped["index"]) == (ISSUER_A, 0) and "cursor=" in stopped["next"]
    first_run = list_targets(badgr)

    report = pull(connector, "backfill")
    assert (report.pages, report.records, report.finished) == (3, 7, True)  # A's third page, then B's two
    second_run = list_targets(badgr)[len(first_run) :]
    assert urlsplit(stopped["next"]).query == urlsplit(second_run[0]).query  # the link, verbatim
    assert not set(second_run) & set(first_run[:2])  # the pages queued before are not read again
    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, history) == []
    delivered_once(connector, expected_statements(history, datetime.now(UTC)))  # each statement once


@pytest.mark.parametrize("mode", ["backfill", "sync"])
def test_a_crash_between_queueing_a_page_and_storing_its_cursor_loses_nothing(
    connector, badgr, history, lrs, lrs_session, monkeypatch, mode
):
    crash_at(monkeypatch, connector.services.store, "set_cursor", nth=2, after=False)  # page 2 queued only
    with pytest.raises(Crash):
        pull(connector, mode)
    connector.restart()
    report = pull(connector, mode)
    assert report.finished and report.pages == (4 if mode == "backfill" else 3)  # page 2 again, then the rest
    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, history) == []


# -- sync ------------------------------------------------------------------------------------------


def test_a_second_sync_reads_only_what_changed_after_the_first_ones_watermark(
    connector, badgr, history, lrs, lrs_session
):
    report = pull(connector, "sync")
    assert (report.pages, report.records, report.finished) == (4, 15, True)
    first = changed_targets(badgr)
    assert query(first[0])["since"] == ["1970-01-01T00:00:00+00:00"]  # no cursor, no `since`: everything
    assert cursor(connector, "sync") == {"since": NOW.isoformat()}  # the first page's timestamp
    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, history) == []

    badgr.set_now(NOW + timedelta(minutes=5))
    revoked = badgr.revoke(history[0]["entityId"], "Issued in error")
    new = badgr.add_assertion("BcB1", LEARNERS[0], NOW + timedelta(minutes=4), updated_at=NOW + timedelta(minutes=4))
    report = pull(connector, "sync")
    assert (report.pages, report.records, report.finished) == (1, 2, True)
    second = changed_targets(badgr)[len(first) :]
    assert [query(t)["since"] for t in second] == [[NOW.isoformat()]]  # the watermark, sent as it was stored
    assert cursor(connector, "sync") == {"since": (NOW + timedelta(minutes=5)).isoformat()}
    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, [revoked, new]) == []
    answer = lrs_session.get(lrs.statements_url, params={"statementId": statement_id(connector, revoked, "revoked")})
    assert answer.json()["result"]["response"] == "Issued in error"

    badgr.set_now(NOW + timedelta(minutes=10))
    report = pull(connector, "sync")  # nothing changed: one empty page, the watermark moves on
    assert (report.pages, report.records, report.finished) == (1, 0, True)
    assert cursor(connector, "sync") == {"since": (NOW + timedelta(minutes=10)).isoformat()}


def test_a_first_sync_starts_at_the_since_given(connector, badgr, history):
    since = NOW - timedelta(days=3)
    pull(connector, "sync", since=since)
    assert query(changed_targets(badgr)[0])["since"] == [(NOW - timedelta(days=3)).isoformat()]
    assert (NOW - timedelta(days=3)).isoformat().endswith("+00:00")


def test_a_sync_stopped_by_a_failing_page_resumes_there_and_keeps_the_first_runs_watermark(
    connector, badgr, history, lrs, lrs_session
):
    from chalicelib.errors import ConnectorError

    def fail_the_third_page(report):
        if report.pages == 2:
            badgr.fail_next(503, times=2, path="/changed")

    with pytest.raises(ConnectorError):
        pull(connector, "sync", on_page=fail_the_third_page)
    stopped = cursor(connector, "sync")
    assert stopped["since"] == NOW.isoformat() and "cursor=" in stopped["next"]
    first_run = changed_targets(badgr)

    badgr.set_now(NOW + timedelta(hours=1))  # the resumed run's pages carry a later timestamp
    report = pull(connector, "sync")
    assert (report.pages, report.records, report.finished) == (2, 7, True)
    second_run = changed_targets(badgr)[len(first_run) :]
    assert urlsplit(second_run[0]).query == urlsplit(stopped["next"]).query
    assert not set(second_run) & set(first_run[:2])
    # Changes made while the interrupted run went on are after its first page: read next time.
    assert cursor(connector, "sync") == {"since": NOW.isoformat()}
    connector.drain()
    assert missing_in_lrs(connector, lrs_session, lrs, history) == []
    delivered_once(connector, expected_statements(history, datetime.now(UTC)))
