"""Tracked share links end to end: POST /share-links and GET /s/{token} through the Chalice test
client, the outbox worker and the real LRS."""

from __future__ import annotations

import base64
import json
import os
import signal
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.share.clicks import Window, client_hash, view_id
from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration

SHARED = "http://adlnet.gov/expapi/verbs/shared"
VIEWED = "http://id.tincanapi.com/verb/viewed"
MEDIUM = "http://id.tincanapi.com/extension/share-medium"
CREDENTIAL_URL = "https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211"  # the fixture's badge
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NOW = 1_800_000_000 - 1_800_000_000 % 1800 + 60  # a minute into a window: a burst cannot straddle two


@pytest.fixture
def share(connector, monkeypatch):
    """The connector with share links configured and a fixed clock, and the fixture badge earned in the LRS."""

    for name, value in {
        "SHARE_LINKS_TOKEN": "share-" + uuid.uuid4().hex,
        "SHARE_LINK_SECRET": uuid.uuid4().hex,
        # Per test: guests' homePage, so a test counts only its own views in the shared LRS.
        "PUBLIC_BASE_URL": f"https://go-{uuid.uuid4().hex[:8]}.example.edu/api",
        "LINKEDIN_ORGANIZATION_ID": "4242",
    }.items():
        monkeypatch.setenv(name, value)
        connector.env[name] = value
    connector.restart()
    connector.services.share_links.clock = lambda: NOW
    assert connector.credly_webhook(fixture_json("credly/webhook_badge_created.json")).status_code == 200
    connector.drain()
    return connector


def create(connector, body: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token or connector.env['SHARE_LINKS_TOKEN']}"}
    return connector.post("/share-links", body, headers)


def click(connector, path: str, agent: str = BROWSER):
    return connector.client.http.get(path, headers={"User-Agent": agent})


def path_and_link_id(url: str) -> tuple[str, str]:
    token = url.rsplit("/", 1)[1]
    raw_id = base64.urlsafe_b64decode(token)[:12]
    return f"/s/{token}", base64.urlsafe_b64encode(raw_id).decode()


def statement_id(connector, key: str) -> str:
    return connector.statement_id(key)


def stored(lrs, lrs_session, **params) -> list[dict]:
    answer = lrs_session.get(lrs.statements_url, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["statements"] if "statements" in answer.json() else [answer.json()]


def views(connector, lrs, lrs_session) -> list[dict]:
    """This test's views of the fixture badge (other tests' views stay in the session's LRS)."""
    found = stored(lrs, lrs_session, verb=VIEWED, activity=CREDENTIAL_URL, limit="1000")
    return [s for s in found if s["actor"]["account"]["homePage"] == connector.env["PUBLIC_BASE_URL"]]


def test_a_link_records_one_shared_statement_and_a_click_one_viewed_statement(share, lrs, lrs_session):
    answer = create(
        share,
        {"credential_url": CREDENTIAL_URL, "channel": "linkedin", "learner": {"email": "Ada.Lovelace@example.com"}},
    )
    assert answer.status_code == 201, answer.body
    created = json.loads(answer.body)
    assert created["url"].startswith(share.env["PUBLIC_BASE_URL"] + "/s/") and created["channel"] == "linkedin"
    assert f"certUrl={created['url'].replace(':', '%3A').replace('/', '%2F')}" in created["linkedin_url"]
    assert "organizationId=4242" in created["linkedin_url"] and "certId=9f1e2d3c-" in created["linkedin_url"]
    path, link_id = path_and_link_id(created["url"])

    answers = [click(share, path) for _ in range(3)]
    assert [(a.status_code, a.headers["Location"]) for a in answers] == [(302, CREDENTIAL_URL)] * 3
    assert share.services.queue.depth() == 2  # the share, and one view for three clicks
    share.drain()

    [shared] = stored(lrs, lrs_session, statementId=statement_id(share, f"credly|{link_id}"))
    assert shared["verb"]["id"] == SHARED and shared["object"]["id"] == CREDENTIAL_URL
    assert shared["context"]["extensions"][MEDIUM] == "linkedin"
    assert shared["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    assert shared["object"]["definition"]["name"]["en"]  # the name read from the earned statement
    client = client_hash(share.env["SHARE_LINK_SECRET"], "127.0.0.1", BROWSER)
    view = view_id(link_id, client, Window.at(NOW, 1800))
    [viewed] = stored(lrs, lrs_session, statementId=statement_id(share, f"credly|{view}"))
    assert viewed["verb"]["id"] == VIEWED and viewed["actor"]["account"]["name"] == "guest"
    assert (
        viewed["context"]["contextActivities"]["grouping"][0]["id"]
        == shared["context"]["contextActivities"]["grouping"][0]["id"]
    )
    assert len(views(share, lrs, lrs_session)) == 1
    assert share.services.store.counters()["share_clicks_repeated"] == 2


def test_a_crawler_gets_the_redirect_and_no_statement(share, lrs, lrs_session):
    answer = create(
        share,
        {"credential_url": CREDENTIAL_URL, "channel": "facebook", "learner": {"email": "ada.lovelace@example.com"}},
    )
    path, _ = path_and_link_id(json.loads(answer.body)["url"])
    depth = share.services.queue.depth()
    for agent in (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "LinkedInBot/1.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    ):
        answer = click(share, path, agent)
        assert (answer.status_code, answer.headers["Location"]) == (302, CREDENTIAL_URL)
    assert share.services.queue.depth() == depth
    assert share.services.store.counters()["share_clicks_crawlers"] == 3
    share.drain()
    assert views(share, lrs, lrs_session) == []


def test_a_tampered_or_unknown_token_is_404_and_nothing_is_stored_or_queued(share):
    answer = create(
        share, {"credential_url": CREDENTIAL_URL, "channel": "email", "learner": {"email": "ada.lovelace@example.com"}}
    )
    path, _ = path_and_link_id(json.loads(answer.body)["url"])
    share.drain()
    counters = share.services.store.counters()
    token = path[3:]
    forged = "/s/" + base64.urlsafe_b64encode(uuid.uuid4().bytes[:12] + bytes(12)).decode()
    for bad in (
        path[:-1] + ("B" if path[-1] != "B" else "C"),
        "/s/" + token[::-1],
        "/s/nothing",
        forged,
        "/s/" + "A" * 32,
    ):
        answer = click(share, bad)
        assert answer.status_code == 404 and json.loads(answer.body) == {"error": "no such share link"}
    assert share.services.queue.depth() == 0
    assert share.services.store.counters() == counters


def test_an_unknown_credential_or_a_wrong_token_makes_no_link(share):
    answer = create(
        share,
        {
            "credential_url": "https://www.credly.com/badges/never-issued",
            "channel": "x",
            "learner": {"email": "ada.lovelace@example.com"},
        },
    )
    assert answer.status_code == 404 and "give platform, name, badge_class" in json.loads(answer.body)["error"]
    wrong = create(share, {"credential_url": CREDENTIAL_URL, "channel": "x"}, token="guess")
    assert wrong.status_code == 401
    assert share.services.queue.depth() == 0


def test_a_burst_of_clicks_with_the_lrs_paused_is_answered_at_once_and_counted_once_per_client(share, lrs, lrs_session):
    answer = create(
        share, {"credential_url": CREDENTIAL_URL, "channel": "copy", "learner": {"email": "ada.lovelace@example.com"}}
    )
    path, _ = path_and_link_id(json.loads(answer.body)["url"])
    token = path.rsplit("/", 1)[1]
    agents = [f"{BROWSER} client/{n}" for n in range(10)]
    clicks = [agents[i % 10] for i in range(1000)]
    assert click(share, path, f"{BROWSER} route").status_code == 302  # the route; the burst calls what it calls

    def timed(agent: str) -> tuple[int, float]:
        # The service the route calls, from ten threads: Chalice's test client is not thread-safe (it
        # swaps os.environ for each request, and keeps the current request on the app object).
        started = time.perf_counter()
        answer = share.services.share_links.click(token, "203.0.113.7", agent)
        return answer.status, time.perf_counter() - started

    os.kill(lrs.pid, signal.SIGSTOP)  # any click that waited for the LRS would hang for its timeouts
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(timed, clicks))
        elapsed = time.perf_counter() - started
    finally:
        os.kill(lrs.pid, signal.SIGCONT)
    latencies = sorted(seconds for _, seconds in results)
    print(
        f"\n1000 clicks in {elapsed:.2f} s: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[989] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    assert [status for status, _ in results] == [302] * 1000
    assert latencies[-1] < 3.0  # under the LRS connect timeout: no click waited for the paused LRS

    counted = share.services.store.counters()
    # Every click seen: repeats counted, first clicks queued (with the one shared statement).
    assert counted.get("share_clicks_repeated", 0) + share.services.queue.depth() - 1 == 1001
    share.drain()
    assert share.services.store.count_dead_letters() == 0
    assert len(views(share, lrs, lrs_session)) == 11  # one per client and window: the burst's ten, the route's


def test_a_credential_imported_through_a_csv_mapping_is_shared_by_its_url_alone(
    share, lrs, lrs_session, tmp_path, capsys
):
    from chalicelib.cli import main

    number = uuid.uuid4().hex[:10]
    url = f"https://lms.example.com/certificates/{number}"
    (tmp_path / "mapping.json").write_text(
        json.dumps(
            {
                "platform": "lms",
                "fields": [
                    {"field": "credential_id", "column": "Certificate No"},
                    {"field": "name", "column": "Course"},
                    {"field": "template_iri", "template": "https://lms.example.com/courses/{Course Code}"},
                    {"field": "learner_email", "column": "E-mail"},
                    {"field": "url", "column": "Page"},
                ],
            }
        )
    )
    (tmp_path / "certificates.csv").write_text(
        f"Certificate No,Course,Course Code,E-mail,Page\n{number},Safe Lifting,SL-1,ada.lovelace@example.com,{url}\n"
    )
    assert main(["import-csv", "--mapping", str(tmp_path / "mapping.json"), str(tmp_path / "certificates.csv")]) == 0
    capsys.readouterr()

    answer = create(share, {"credential_url": url, "channel": "copy"})
    assert answer.status_code == 201, answer.body
    path, link_id = path_and_link_id(json.loads(answer.body)["url"])
    assert (click(share, path).status_code, click(share, path).headers["Location"]) == (302, url)
    share.drain()

    [earned] = stored(lrs, lrs_session, statementId=statement_id(share, f"lms|{number}|issued"))
    [shared] = stored(lrs, lrs_session, statementId=statement_id(share, f"lms|{link_id}"))
    view = view_id(link_id, client_hash(share.env["SHARE_LINK_SECRET"], "127.0.0.1", BROWSER), Window.at(NOW, 1800))
    [viewed] = stored(lrs, lrs_session, statementId=statement_id(share, f"lms|{view}"))
    assert earned["context"]["platform"] == shared["context"]["platform"] == viewed["context"]["platform"] == "lms"
    assert shared["object"]["id"] == viewed["object"]["id"] == url
    assert shared["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    assert shared["object"]["definition"]["name"] == earned["object"]["definition"]["name"]
