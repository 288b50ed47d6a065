"""Canvas Credentials / Badgr as the real server behaves: a token endpoint that sets a cookie and
throttles with its own body, awards whose answer is lost after the save, 404 (never 403) for
another account's entities, lists in no documented order, assertions the learner rejected.

The client-level tests run against the fake alone; the command-line ones run the commands in
process (`python -m chalicelib ...`'s main) against the fake and the real test LRS, and assert the
exit code, the one-line message and what reached the LRS."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.events import Kind
from chalicelib.httpretry import RetryPolicy
from chalicelib.platforms.awarding import AwardRejected, Recipient
from chalicelib.platforms.badgr.adapter import BadgrAdapter
from chalicelib.platforms.badgr.api import BadgrAuthError, BadgrClient
from chalicelib.platforms.badgr.awards import BadgrAwards
from chalicelib.platforms.badgr.export import layout
from chalicelib.settings import load_settings
from fakes.badgr_api import FakeBadgr
from tests.awards.test_worker import BADGR_RULES, forward, passed_exam
from tests.support.connector import connector  # noqa: F401  (the connector on the real LRS)
from tests.support.paths import FIXTURE_DIR

pytestmark = pytest.mark.hostile

USER, PASSWORD = "issuer@example.com", "badgr-pw"
BADGECLASS, ISSUER = "Bc7Dd8Ee9Ff0Gg1Hh2Ii3J", "IsAaAaAaAaAaAaAaAaAaAa"
ADA = Recipient(
    email="ada.lovelace@example.com", name="Ada Lovelace", first_name="Ada", last_name="Lovelace", earner_id="E-1001"
)
WHEN = datetime(2026, 11, 27, 9, 30, 15, tzinfo=UTC)
CAP = 2.0  # the retry policy's longest wait in the client-level tests


@pytest.fixture
def fake():
    with FakeBadgr(USER, PASSWORD) as badgr:
        yield badgr


def client(fake: FakeBadgr, sleeps: list | None = None, clock=None, **extra) -> BadgrClient:
    options = {
        "retry": RetryPolicy(attempts=3, base=0.01, cap=CAP, jitter=lambda wait: wait),
        "sleep": (sleeps if sleeps is not None else []).append,
        **extra,
    }
    return BadgrClient(fake.base_url, USER, PASSWORD, **({"clock": clock} if clock else {}), **options)


def cookies_sent(fake: FakeBadgr) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.received if any(k.lower() == "cookie" for k in r.headers)]


def token(fake: FakeBadgr) -> str:
    form = {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": "rw:issuer"}
    return requests.post(f"{fake.base_url}/o/token", data=form, timeout=5).json()["access_token"]


NO_TOKEN = {
    "status": {"success": False, "description": "no valid auth token found"},
    "result": [],
    "fieldErrors": {},
    "validationErrors": [],
}


# -- the client against the fake -----------------------------------------------------------------


def test_a_stale_access_token_cookie_beats_a_valid_bearer_header_and_the_client_sends_no_cookie(fake):
    issuers = f"{fake.base_url}/v2/issuers"
    stale = requests.get(
        issuers, headers={"Authorization": f"Bearer {token(fake)}", "Cookie": "access_token=old"}, timeout=5
    )
    assert (stale.status_code, stale.json()) == (401, NO_TOKEN)  # the cookie was read, not the header
    assert "WWW-Authenticate" not in stale.headers and stale.headers["Content-Type"] == "application/ld+json"
    with_cookie = requests.post(
        f"{fake.base_url}/o/token",
        headers={"Cookie": "access_token=old"},
        timeout=5,
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
    )
    assert (with_cookie.status_code, with_cookie.json()) == (401, {"error": "invalid_client"})
    assert with_cookie.headers["WWW-Authenticate"] == 'Bearer, error="invalid_client"'  # the token endpoint's only
    shifted(fake)[0] = 2.0  # past the 2 s that failed grant throttles the username for
    asked = requests.get(issuers, headers={"Accept": "application/json"}, timeout=5)
    assert (asked.status_code, asked.headers["Content-Type"]) == (401, "application/json")
    fake.received.clear()  # the probes above sent the cookie; the client never does
    awards = BadgrAwards(client(fake))
    awards.award(BADGECLASS, ADA, WHEN)
    fake.expire_tokens()  # the 401 the client renews on
    awards.award(BADGECLASS, ADA, WHEN)
    assert len(fake.assertions) == 2 and cookies_sent(fake) == []


def set_cookies(answer: requests.Response) -> dict[str, str]:
    """Each cookie's attributes (its value left out), by name."""
    return {text.split("=", 1)[0]: text.split(";", 1)[1].strip() for text in answer.raw.headers.getlist("Set-Cookie")}


def test_the_token_endpoint_sets_the_tokens_and_csrftoken_as_cookies_which_the_client_never_sends(fake):
    form = {"grant_type": "password", "username": USER, "password": PASSWORD}
    granted = set_cookies(requests.post(f"{fake.base_url}/o/token", data=form, timeout=5))
    lifetime = "HttpOnly; Max-Age=86400; Path=/"
    assert [name for name in granted] == ["access_token", "refresh_token", "csrftoken"]
    assert granted["access_token"].endswith(lifetime) and granted["refresh_token"].endswith(lifetime)
    assert granted["csrftoken"].endswith("; Max-Age=31449600; Path=/; SameSite=Lax")
    other = {**form, "username": "someone@example.com"}  # refused: its own backoff, not the client's
    refused = set_cookies(requests.post(f"{fake.base_url}/o/token", data=other, timeout=5))
    assert list(refused) == ["csrftoken"]
    fake.received.clear()
    now = [0.0]
    awards = BadgrAwards(client(fake, clock=lambda: now[0]))
    awards.award(BADGECLASS, ADA, WHEN)
    now[0] += fake.expires_in  # renewed by a refresh grant, the one a refresh_token cookie could go with
    awards.award(BADGECLASS, ADA, WHEN)
    assert fake.grants[-2:] == ["password", "refresh_token"] and cookies_sent(fake) == []


@pytest.mark.parametrize("renewal", ["our clock", "the platform's 401"])
def test_a_token_renewal_never_sends_the_cookie_the_token_endpoint_set(fake, renewal):
    now = [0.0]
    awards = BadgrAwards(client(fake, clock=lambda: now[0]))
    awards.award(BADGECLASS, ADA, WHEN)
    if renewal == "our clock":
        now[0] += fake.expires_in  # a day later
    else:
        fake.expire_tokens()  # expired by the platform before our clock said so
    fake.refuse_refresh = True  # the password grant, the one a stale cookie turned into invalid_client
    second = awards.award(BADGECLASS, ADA, WHEN + timedelta(days=1))
    assert second.vendor_id == fake.assertions[1]["entityId"]
    assert fake.grants == ["password", "refresh_token", "password"]
    assert cookies_sent(fake) == []


@pytest.mark.parametrize(("expires", "waited"), [(1, 1.0), (3600, CAP)])
def test_a_throttled_token_endpoint_is_waited_out_as_its_body_says_up_to_the_cap(fake, expires, waited):
    fake.throttle_next(expires)  # 429 {"expires": seconds}, no Retry-After
    sleeps: list[float] = []
    BadgrAwards(client(fake, sleeps)).award(BADGECLASS, ADA, WHEN)
    assert sleeps == [waited] and fake.grants == ["password"] and len(fake.assertions) == 1


def shifted(fake: FakeBadgr) -> list[float]:
    """The fake's clock, seconds ahead of the real one by the list's one item (a test moves it)."""
    shift = [0.0]
    fake.clock = lambda: datetime.now(UTC) + timedelta(seconds=shift[0])
    return shift


def grant(fake: FakeBadgr, **form: str) -> requests.Response:
    return requests.post(f"{fake.base_url}/o/token", data={"username": USER, "password": PASSWORD, **form}, timeout=5)


THROTTLED = {
    "error_description": "Too many login attempts. Please wait and try again.",
    "error": "login attempts throttled",
}


def test_a_grant_without_client_id_gets_the_accounts_whole_scope_whatever_it_asks(fake):
    answer = grant(fake, scope="rw:nonsense")
    assert (answer.status_code, answer.json()["scope"]) == (200, "rw:profile rw:issuer rw:backpack")
    BadgrAwards(client(fake)).award(BADGECLASS, ADA, WHEN)  # asks rw:issuer, gets more: fine
    assert fake.received[-2].body["scope"] == "rw:issuer" and len(fake.assertions) == 1


def test_failed_grants_throttle_even_the_right_password_and_the_client_waits_as_the_body_says(fake):
    shift = shifted(fake)
    with pytest.raises(BadgrAuthError, match="invalid_grant"):
        BadgrAwards(BadgrClient(fake.base_url, USER, "wrong", sleep=[].append)).award(BADGECLASS, ADA, WHEN)
    throttled = grant(fake)  # the right password, within the 2 s the failure started
    assert (throttled.status_code, throttled.headers["Content-Type"]) == (429, "text/html; charset=utf-8")
    assert throttled.json() == {**THROTTLED, "expires": 2} and "Retry-After" not in throttled.headers
    shift[0] += 2
    assert grant(fake, password="wrong").status_code == 400  # the second failure in a row: 4 s
    assert grant(fake).json() == {**THROTTLED, "expires": 4}
    sleeps: list[float] = []
    wait = lambda seconds: (sleeps.append(seconds), shift.__setitem__(0, shift[0] + seconds))  # noqa: E731
    BadgrAwards(client(fake, sleep=wait)).award(BADGECLASS, ADA, WHEN)
    assert sleeps == [CAP, CAP] and len(fake.assertions) == 1  # 4 s, waited in the policy's longest waits


def test_a_refresh_grant_the_server_always_refuses_falls_back_to_the_password_grant_without_waiting(fake):
    fake.refresh_grant_fails = True
    shift = shifted(fake)
    refused = requests.post(
        f"{fake.base_url}/o/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, timeout=5
    )
    assert (refused.status_code, refused.headers["Content-Type"]) == (401, "text/html; charset=utf-8")
    assert refused.text == '{"error": "Token refresh failed!"}'
    sleeps: list[float] = []
    awards = BadgrAwards(client(fake, sleeps))
    awards.award(BADGECLASS, ADA, WHEN)  # the password grant: its username's backoff, not the refresh grants'
    shift[0] += 2
    fake.expire_tokens()
    awards.award(BADGECLASS, ADA, WHEN)  # refresh 401, then the password grant
    fake.expire_tokens()
    awards.award(BADGECLASS, ADA, WHEN)  # refresh throttled (every refresh grant shares one backoff): no wait
    asked = [r.body["grant_type"] for r in fake.received if r.path == "/o/token"][1:]
    assert asked == ["password", "refresh_token", "password", "refresh_token", "password"]
    assert sleeps == [] and len(fake.assertions) == 3


def api(fake: FakeBadgr, url: str) -> requests.Response:
    url = url if url.startswith("http") else f"{fake.base_url}{url}"
    return requests.get(
        url, headers={"Authorization": f"Bearer {token(fake)}", "Accept": "application/json"}, timeout=5
    )


def test_the_changed_feed_pages_by_any_num_reads_a_since_without_offset_as_utc_and_links_back(fake):
    fake.add_issuer(ISSUER)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(150):
        fake.add_assertion(BADGECLASS, f"learner{n}@example.com", start + timedelta(minutes=n), issuer=ISSUER)
    assert len(api(fake, "/v2/assertions/changed?num=3").json()["result"]) == 3
    everything = api(fake, "/v2/assertions/changed?num=1000").json()  # no maximum
    assert len(everything["result"]) == 150 and everything["pagination"]["hasNext"] is False
    naive = api(fake, "/v2/assertions/changed?since=2026-11-01T02:00:00").json()  # read as UTC: 120 minutes in
    assert len(naive["result"]) == 29
    first = api(fake, "/v2/assertions/changed").json()
    second = api(fake, first["pagination"]["nextResults"]).json()
    assert first["pagination"]["previousResults"] is None and second["pagination"]["hasPrevious"] is True
    assert api(fake, second["pagination"]["previousResults"]).json()["result"] == first["result"]
    pages = BadgrClient(fake.base_url, USER, PASSWORD).changed_pages("2026-10-31T00:00:00+00:00")
    assert [len(page["result"]) for page, _ in pages] == [100, 50]  # the client sends no num: the server's 100


def test_an_issuer_list_is_oldest_first_at_once_without_num_and_newest_first_in_linked_pages_with_it(fake):
    fake.add_issuer(ISSUER)
    made = [
        fake.add_assertion(BADGECLASS, ADA.email, WHEN + timedelta(hours=n), issuer=ISSUER)["entityId"]
        for n in range(5)
    ]
    url = f"/v2/issuers/{ISSUER}/assertions"
    everything = api(fake, url)
    assert [a["entityId"] for a in everything.json()["result"]] == made and "Link" not in everything.headers
    first = api(fake, f"{url}?num=2")
    second = api(fake, first.links["next"]["url"])
    assert [a["entityId"] for a in first.json()["result"]] == made[:2:-1] and "prev" not in first.links
    assert [a["entityId"] for a in second.json()["result"]] == made[2:0:-1]
    assert api(fake, second.links["prev"]["url"]).json()["result"] == first.json()["result"]
    pages = BadgrClient(fake.base_url, USER, PASSWORD).assertion_pages(ISSUER, num=2)
    assert [a["entityId"] for page, _ in pages for a in page["result"]] == made[::-1]  # each once, no prev followed


@pytest.mark.parametrize(("setting", "sent"), [(None, "not sent"), ("false", False)])
def test_awards_ask_for_the_notification_e_mail_only_as_badgr_notify_says(fake, setting, sent):
    env = {
        "BADGR_API_BASE": fake.base_url,
        "BADGR_USERNAME": USER,
        "BADGR_PASSWORD": PASSWORD,
        **({"BADGR_NOTIFY": setting} if setting else {}),
    }
    BadgrAwards(BadgrClient.from_settings(load_settings(env))).award(BADGECLASS, ADA, WHEN)
    [post] = [r for r in fake.received if r.method == "POST" and r.path.endswith("/assertions")]
    assert post.body.get("notify", "not sent") == sent


def test_an_award_whose_answer_was_lost_after_the_save_is_read_back_as_awarded(fake):
    fake.add_assertion(BADGECLASS, ADA.email, WHEN - timedelta(days=400))  # an older one, by hand: not ours
    fake.notification_fails = True  # saved, then 500: the server's e-mail failed
    result = BadgrAwards(client(fake, notify=True)).award(BADGECLASS, ADA, WHEN)
    ours = fake.assertions[1]
    assert result.vendor_id == ours["entityId"] and not result.already_awarded
    assert result.issued_document["badgeclass"]["entityId"] == BADGECLASS
    assert result.issued_document["recipient"]["plaintextIdentity"] == ADA.email
    assert [r.method for r in fake.received if r.path.endswith("/assertions")] == ["POST", "GET"]  # never twice


def sent_issued_on(fake: FakeBadgr) -> datetime:
    [post] = [r for r in fake.received if r.method == "POST" and r.path.endswith("/assertions")][-1:]
    return datetime.fromisoformat(post.body["issuedOn"])


def test_an_award_judged_by_a_clock_ahead_of_the_platforms_is_issued_in_the_platforms_past(fake):
    ahead = 600.0  # our clock ten minutes ahead; the fake's Date headers show its own (the real) clock
    judged = datetime.fromtimestamp(time.time() + ahead, UTC)
    result = BadgrAwards(client(fake, wall=lambda: time.time() + ahead)).award(BADGECLASS, ADA, judged)
    sent = sent_issued_on(fake)
    assert datetime.now(UTC) - timedelta(seconds=5) <= sent <= datetime.now(UTC)
    assert sent.microsecond == 0 and result.vendor_id == fake.assertions[0]["entityId"]


def post_assertion(fake: FakeBadgr, payload: dict) -> requests.Response:
    return requests.post(
        f"{fake.base_url}/v2/badgeclasses/{BADGECLASS}/assertions",
        json=payload,
        timeout=5,
        headers={"Authorization": f"Bearer {token(fake)}", "Accept": "application/json"},
    )


def test_the_platform_refuses_an_issuedon_in_its_future_and_stores_a_naive_one_as_utc(fake):
    identity = {"recipient": {"identity": ADA.email}}
    ahead = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    refused = post_assertion(fake, {**identity, "issuedOn": ahead})
    assert (refused.status_code, refused.json()["status"]["description"]) == (400, "bad request")
    assert refused.json()["fieldErrors"] == {"issuedOn": ["Only issuedOn dates in the past are acceptable."]}
    naive = post_assertion(fake, {**identity, "issuedOn": "2026-11-27T09:30:15.5"})
    assert naive.json()["result"][0]["issuedOn"] == "2026-11-27T09:30:15.500000Z"
    nobody = post_assertion(fake, {"issuedOn": "2026-11-27T09:30:15+01:00"})
    assert nobody.json()["fieldErrors"] == {"recipient": ["This field is required"]}
    assert len(fake.assertions) == 1


def test_a_platform_clock_behind_ours_by_less_than_its_date_shows_gets_the_award_two_seconds_earlier(fake):
    shifted(fake)[0] = -1.5  # its Date headers (the real clock) cannot show 1.5 s
    judged = datetime.now(UTC)
    result = BadgrAwards(client(fake)).award(BADGECLASS, ADA, judged)
    posts = [r.body["issuedOn"] for r in fake.received if r.method == "POST" and r.path.endswith("/assertions")]
    first = judged.replace(microsecond=0)
    assert posts == [first.isoformat(), (first - timedelta(seconds=2)).isoformat()]  # refused, then accepted
    [made] = fake.assertions
    assert result.vendor_id == made["entityId"] and made["issuedOn"] == posts[1].replace("+00:00", "Z")


def test_an_award_judged_ahead_of_the_platform_whose_answer_was_lost_is_read_back_by_the_issuedon_sent(fake):
    fake.notification_fails = True  # saved, then 500
    ahead = 600.0
    judged = datetime.fromtimestamp(time.time() + ahead, UTC)
    result = BadgrAwards(client(fake, wall=lambda: time.time() + ahead, notify=True)).award(BADGECLASS, ADA, judged)
    [made] = fake.assertions
    assert result.vendor_id == made["entityId"] and sent_issued_on(fake) <= datetime.now(UTC)


def test_the_first_award_to_a_recipient_is_e_mailed_without_notify_and_its_lost_answer_read_back(fake):
    fake.notification_fails = True  # the server e-mails a recipient's first award whatever notify says
    lost = post_assertion(fake, {"recipient": {"identity": "first@example.com"}, "notify": False})
    assert (lost.status_code, lost.headers["Content-Type"]) == (500, "text/html; charset=utf-8")
    assert post_assertion(fake, {"recipient": {"identity": "first@example.com"}}).status_code == 201  # no e-mail
    result = BadgrAwards(client(fake)).award(BADGECLASS, ADA, WHEN)  # BADGR_NOTIFY unset: notify not sent
    ours = fake.assertions[2]
    assert result.vendor_id == ours["entityId"] and len(fake.assertions) == 3
    assert [r.method for r in fake.received if r.path.endswith(f"{BADGECLASS}/assertions")][-2:] == ["POST", "GET"]


def test_an_award_to_another_accounts_badge_class_names_it_and_the_account(fake):
    fake.foreign.add(BADGECLASS)  # the API answers 404, not 403
    with pytest.raises(AwardRejected) as refused:
        BadgrAwards(client(fake)).award(BADGECLASS, ADA, WHEN)
    message = str(refused.value)
    assert f"no badge class {BADGECLASS} to BADGR_USERNAME" in message and "BADGR_API_BASE" in message
    assert "\n" not in message and fake.assertions == []


def test_assertions_with_course_url_of_badge_classes_with_expiration_days_give_their_events(fake):
    fake.add_issuer(ISSUER)
    fake.add_badgeclass(BADGECLASS, "Data Steward", issuer=ISSUER)["expiration"] = 365  # days, not a time
    fake.add_assertion(BADGECLASS, ADA.email, WHEN, issuer=ISSUER)
    badgr = client(fake)
    badgeclass = badgr.badgeclass(BADGECLASS)
    [(page, _)] = list(badgr.assertion_pages(ISSUER))
    [assertion] = page["result"]
    assert "expires" not in badgeclass and {"expiration", "course_url"} <= set(badgeclass) and "course_url" in assertion
    [issued] = BadgrAdapter().parse({**assertion, "badgeclass": badgeclass})  # as a pull expands it
    assert (issued.kind, issued.credential.name, issued.credential.expires_at) == (Kind.ISSUED, "Data Steward", None)


def test_an_assertion_the_learner_rejected_gives_the_rejected_event():
    assertion = {
        "entityId": "AsRejected1",
        "badgeclassOpenBadgeId": "https://api.badgr.io/public/badges/Bc1",
        "badgeclass": {"entityId": "Bc1", "name": "Data Steward"},
        "issuedOn": "2026-11-01T00:00:00Z",
        "recipient": {"plaintextIdentity": ADA.email, "hashed": True},
        "acceptance": "Rejected",
    }
    assert [e.kind for e in BadgrAdapter().parse(assertion)] == [Kind.ISSUED, Kind.REJECTED]
    row = layout("https://api.badgr.io").document(
        {
            "Assertion ID": "AsRejected1",
            "Badge Class ID": "Bc1",
            "Badge Class Name": "Data Steward",
            "Identifier": ADA.email,
            "Acceptance": "Rejected",
        }
    )
    assert row["acceptance"] == "Rejected"


# -- the commands, on the fake and the real LRS ------------------------------------------------------


@pytest.fixture
def badgr(connector, monkeypatch, tmp_path):  # noqa: F811
    rules = tmp_path / "badgr-rules.toml"
    rules.write_text(BADGR_RULES)
    with FakeBadgr(USER, PASSWORD) as fake:
        fake.max_per_page = 4  # 500 asked, 4 answered: a few assertions make pages
        for name, value in {
            "BADGR_API_BASE": fake.base_url,
            "BADGR_USERNAME": USER,
            "BADGR_PASSWORD": PASSWORD,
            "AWARD_RULES": str(rules),
            "HTTP_MAX_ATTEMPTS": "2",
        }.items():
            monkeypatch.setenv(name, value)
        connector.restart()
        connector.badgr = fake
        yield fake


def run(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    """The command's exit code, stdout lines and stderr lines (progress redraws dropped)."""
    from chalicelib.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    errors = [part.strip() for line in captured.err.splitlines() for part in line.split("\r")]
    return code, captured.out.splitlines(), [line for line in errors if line and not line.startswith("{")]


def in_lrs(connector, lrs, lrs_session, key: str) -> dict | None:  # noqa: F811
    answer = lrs_session.get(lrs.statements_url, params={"statementId": connector.statement_id(key)})
    return answer.json() if answer.status_code == 200 else None


def test_backfill_since_on_a_server_listing_oldest_first_delivers_everything_issued_since(
    connector, badgr, lrs, lrs_session, capsys
):  # noqa: F811
    badgr.oldest_first = True  # older servers; Canvas Credentials documents no order
    badgr.add_issuer(ISSUER)
    now = datetime.now(UTC).replace(microsecond=0)
    made = [
        badgr.add_assertion(BADGECLASS, ADA.email, now - timedelta(days=120 - 10 * n), issuer=ISSUER) for n in range(12)
    ]
    since = now - timedelta(days=75)
    recent = [a for a in made if datetime.fromisoformat(a["issuedOn"].replace("Z", "+00:00")) >= since]
    code, out, err = run(capsys, "backfill", "badgr", "--since", since.isoformat(), "--json")
    summary = json.loads(out[-1])
    assert code == 0 and len(recent) == 7 and not [line for line in err if line.startswith("error:")]
    assert (summary["records"], summary["finished"], summary["statements"]) == (7, True, 7)
    assert len([t for m, t in badgr.targets if m == "GET" and f"/issuers/{ISSUER}/assertions" in t]) == 3  # all read
    assert all(in_lrs(connector, lrs, lrs_session, f"badgr|{a['entityId']}|issued") for a in recent)
    assert not any(in_lrs(connector, lrs, lrs_session, f"badgr|{a['entityId']}|issued") for a in made[:5])


def test_backfill_of_an_issuer_the_account_cannot_see_stops_with_one_line_naming_it(connector, badgr, capsys):  # noqa: F811
    badgr.add_issuer(ISSUER)
    badgr.foreign.add(ISSUER)  # listed, then 404 for its assertions (staff membership removed meanwhile)
    code, _, err = run(capsys, "backfill", "badgr")
    [line] = [line for line in err if line.startswith("error:")]
    assert code == 2
    assert line == (
        f"error: Canvas Credentials shows no issuer {ISSUER} to BADGR_USERNAME (HTTP 404: entity not "
        "found or insufficient privileges): it is another account's, deleted, or in another region "
        "than BADGR_API_BASE"
    )


def test_a_sync_delivers_the_rejected_statement_of_an_assertion_the_learner_rejected(
    connector, badgr, lrs, lrs_session, capsys
):  # noqa: F811
    badgr.add_issuer(ISSUER)
    rejected = badgr.add_assertion(BADGECLASS, ADA.email, datetime.now(UTC) - timedelta(days=3), issuer=ISSUER)
    badgr.update_assertion(rejected["entityId"], acceptance="Rejected")
    code, out, _ = run(capsys, "sync", "badgr", "--json")
    summary = json.loads(out[-1])
    assert code == 0 and (summary["records"], summary["finished"], summary["statements"]) == (1, True, 2)
    statement = in_lrs(connector, lrs, lrs_session, f"badgr|{rejected['entityId']}|rejected")
    assert statement and statement["verb"]["id"] == "http://activitystrea.ms/reject"
    assert statement["actor"]["mbox"] == f"mailto:{ADA.email}"


def ledger(capsys, learner: str) -> tuple[int, dict | None, list[str]]:
    code, out, err = run(capsys, "awards", "show", f"badgr|{BADGECLASS}|{learner}")
    return code, json.loads("\n".join(out)) if code == 0 else None, err


def as_learner(employee_id: str) -> dict:
    return passed_exam(
        actor={"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": employee_id}}
    )


def test_a_worker_keeps_awarding_after_the_platform_expired_its_token(connector, badgr, capsys):  # noqa: F811
    forward(connector, as_learner("E-1001"))
    connector.drain()
    badgr.expire_tokens()  # a day later: renewed on the 401, the token endpoint's cookie in the jar
    badgr.refuse_refresh = True
    forward(connector, as_learner("E-2002"))
    connector.drain()
    code, entry, _ = ledger(capsys, "E-2002")
    assert code == 0 and entry["state"] == "awarded" and entry["vendor_id"] == badgr.assertions[1]["entityId"]
    assert connector.services.store.count_dead_letters() == 0 and cookies_sent(badgr) == []


def test_an_award_whose_answer_was_lost_is_confirmed_and_reaches_the_lrs(
    connector, badgr, lrs, lrs_session, monkeypatch, capsys
):  # noqa: F811
    monkeypatch.setenv("BADGR_NOTIFY", "true")
    connector.restart()
    badgr.notification_fails = True  # saved, then 500
    forward(connector, passed_exam())
    connector.drain()
    [made] = badgr.assertions
    code, entry, _ = ledger(capsys, "E-1001")
    assert code == 0 and (entry["state"], entry["vendor_id"]) == ("awarded", made["entityId"])
    code, _, err = run(capsys, "deadletters", "list")
    assert (code, err[-1]) == (0, "0 dead letter(s)")
    issued = in_lrs(connector, lrs, lrs_session, f"badgr|{made['entityId']}|issued")
    assert issued and issued["object"]["definition"]["name"]["en"] == "Accessibility Champion"


def test_an_award_to_another_accounts_badge_class_is_a_dead_letter_naming_it(connector, badgr, capsys):  # noqa: F811
    badgr.foreign.add(BADGECLASS)
    forward(connector, passed_exam())
    connector.drain()
    code, out, err = run(capsys, "deadletters", "replay", "--all")
    assert code == 1 and out[-1] == "replayed 1: 0 delivered, 1 still failing"
    [line] = [line for line in err if line.startswith("[1/1]")]
    assert f"dead-lettered again: Canvas Credentials shows no badge class {BADGECLASS} to BADGR_USERNAME" in line
    assert badgr.assertions == [] and connector.services.store.award(f"badgr|{BADGECLASS}|E-1001")["state"] == "failed"


def test_an_assertion_url_that_is_no_iri_names_its_field():
    """The badgeassertion extension's @id must be an IRI: the adapter names the field, not the LRS."""
    from chalicelib.errors import InputError
    from chalicelib.platforms.badgr.adapter import ADAPTER
    from chalicelib.settings import load_settings

    document = json.loads((FIXTURE_DIR / "badgr" / "assertions_changed.json").read_text())
    first = document["result"][0]
    badgeclass = {"entityId": first["badgeclass"], "name": "Data Protection Essentials"}  # as pulls expand it
    broken = {**document, "result": [{**first, "badgeclass": badgeclass, "openBadgeId": "not a url at all"}]}
    with pytest.raises(InputError, match=r"result\[0\]\.openBadgeId"):
        ADAPTER.from_settings(load_settings({})).parse(broken)
