"""Checks the connector against a real Badgr server (badgr-server, or a Canvas Credentials test
account) that is already running, with a real test LRS (tools/lrs_process.py) started here.

    make interop-badgr        # or: .venv/bin/python tools/interop/badgr.py

Environment (all required):
  BADGR_INTEROP_BASE               the server's API base, e.g. http://127.0.0.1:8470
  BADGR_INTEROP_USERNAME/PASSWORD  an account that is staff of at least one issuer (the connector's)
  BADGR_INTEROP_BADGECLASS         a badge class of one of its issuers: awards and new assertions go there
  BADGR_INTEROP_OTHER_ISSUER       an issuer of another account (the account must not see it)
  BADGR_INTEROP_LEARNER_USERNAME/PASSWORD  a learner account (verified e-mail = username): it
                                   rejects one assertion in its backpack
  BADGR_INTEROP_REFUSED_DOMAIN     an e-mail domain the server's outgoing mail refuses: an award to it
                                   is saved, then its notification fails
  BADGR_INTEROP_EXPIRE_COMMAND     a shell command that makes the server's access tokens expire now

Checks, in order (each prints one line; the run exits 1 naming the first that failed, 2 when a
setting is missing):
  backfill   `backfill badgr`: every assertion of the account's issuers is exactly its statements
             in the LRS (issued, expired, revoked + voiding, accepted/rejected), nothing else
  sync       a first `sync badgr`, then new, revoked and rejected assertions, a second `sync badgr`:
             the LRS gains exactly the statements of those changes
  award      the connector's award client issues an assertion: it is on the server, once
  lost-answer  an award whose answer is lost after the save (500: the notification e-mail
             failed): the client finds the saved assertion instead of failing or awarding twice
  renewal    the server's access tokens expire; the same award client awards again
Then it prints what the server answered to the requests the fake (tools/fakes/badgr_api.py) imitates.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from chalicelib.platforms import award_client  # noqa: E402
from chalicelib.platforms.awarding import AwardClient, Recipient  # noqa: E402
from chalicelib.settings import load_settings  # noqa: E402
from lrs_process import XAPI_VERSION, LrsProcess  # noqa: E402

SETTINGS = (
    "BASE",
    "USERNAME",
    "PASSWORD",
    "BADGECLASS",
    "OTHER_ISSUER",
    "LEARNER_USERNAME",
    "LEARNER_PASSWORD",
    "REFUSED_DOMAIN",
    "EXPIRE_COMMAND",
)
TIMEOUT = 60
THROTTLE_WAIT = 9  # seconds: the server's login backoff after three failed grants (2 ** 3), and one more
ACCEPTANCE = {"Accepted": "accepted", "Rejected": "rejected"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")  # the record shows no address, not even a test one


class CheckFailed(Exception):
    """A check's expectation did not hold: the message says what differed."""


@dataclass
class Config:
    base: str
    username: str
    password: str
    badgeclass: str
    other_issuer: str
    learner_username: str
    learner_password: str
    refused_domain: str
    expire_command: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @classmethod
    def from_env(cls) -> Config:
        missing = [f"BADGR_INTEROP_{name}" for name in SETTINGS if not os.environ.get(f"BADGR_INTEROP_{name}")]
        if missing:
            print(f"error: set {', '.join(missing)} (see tools/interop/badgr.py)", file=sys.stderr)
            raise SystemExit(2)
        values = {name.lower(): os.environ[f"BADGR_INTEROP_{name}"] for name in SETTINGS}
        return cls(**{**values, "base": values["base"].rstrip("/")})

    def address(self, role: str, domain: str = "example.org") -> str:
        return f"interop-{role}-{self.run}@{domain}"


# -- the server, read and changed directly (no cookies kept: plain requests calls) -----------------


class Server:
    def __init__(self, base: str, username: str, password: str) -> None:
        self.base, self.username, self.password = base, username, password
        self.token = ""

    def login(self) -> requests.Response:
        """A password grant; while the server throttles this account (429), its wait, then again."""
        for _ in range(4):
            answer = requests.post(
                f"{self.base}/o/token",
                timeout=TIMEOUT,
                headers={"Accept": "application/json"},
                data=token_form(self.username, self.password, "rw:issuer rw:backpack"),
            )
            if answer.status_code != 429:
                break
            time.sleep(float(answer.json().get("expires", 2)) + 0.5)
        if answer.status_code == 200:
            self.token = answer.json()["access_token"]
        return answer

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """The request with this account's token; a token expired meanwhile is renewed once."""
        answer = self._send(method, path, **kwargs) if self.token else None
        if answer is None or answer.status_code == 401:
            _expect(self.login(), 200, "token for the check's own requests")
            answer = self._send(method, path, **kwargs)
        return answer

    def _send(self, method: str, path: str, **kwargs: object) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]

    def issuers(self) -> list[str]:
        return [i["entityId"] for i in _result(_expect(self.call("GET", "/v2/issuers"), 200, "issuer list"))]

    def assertions(self) -> dict[str, dict]:
        """Every assertion of every issuer of the account, by entity id."""
        found: dict[str, dict] = {}
        for issuer in self.issuers():
            url = f"/v2/issuers/{issuer}/assertions?num=500&include_expired=true&include_revoked=true"
            while url:
                answer = _expect(self.call("GET", url), 200, f"assertions of issuer {issuer}")
                found.update((a["entityId"], a) for a in _result(answer))
                url = answer.links.get("next", {}).get("url", "")
        return found

    def issue(self, badgeclass: str, email: str, issued: datetime, notify: bool = False) -> requests.Response:
        body = {
            "recipient": {"identity": email, "type": "email", "hashed": True},
            "issuedOn": issued.isoformat(),
            "notify": notify,
        }
        return self.call("POST", f"/v2/badgeclasses/{badgeclass}/assertions", json=body)

    def award(self, badgeclass: str, email: str, issued: datetime) -> str:
        return _result(_expect(self.issue(badgeclass, email, issued), 201, "issuing an assertion"))[0]["entityId"]

    def revoke(self, entity_id: str) -> None:
        answer = self.call("DELETE", f"/v2/assertions/{entity_id}", json={"revocation_reason": "interop check"})
        _expect(answer, (200, 204), f"revoking {entity_id}")

    def recipient_assertions(self, badgeclass: str, email: str) -> list[dict]:
        path = f"/v2/badgeclasses/{badgeclass}/assertions"
        params = {"recipient": email, "include_revoked": "true", "include_expired": "true"}
        return _result(_expect(self.call("GET", path, params=params), 200, "assertions of a recipient"))


def token_form(username: str, password: str, scope: str = "rw:issuer") -> dict:
    return {"grant_type": "password", "username": username, "password": password, "scope": scope}


def _expect(answer: requests.Response, status: int | tuple[int, ...], what: str) -> requests.Response:
    wanted = status if isinstance(status, tuple) else (status,)
    if answer.status_code not in wanted:
        raise CheckFailed(
            f"{what}: {answer.request.method} {answer.url} answered {answer.status_code}: "
            f"{EMAIL.sub('<email>', answer.text[:300])}"
        )
    return answer


def _result(answer: requests.Response) -> list[dict]:
    return list(answer.json()["result"])


# -- the statements each assertion must become, and what the LRS holds -------------------------------


@dataclass
class Expected:
    listed: dict[str, dict]  # statement id -> the assertion it stands for (issued ones: checked in detail)
    voided: set[str]

    def count(self) -> int:
        return len(self.listed) + len(self.voided)


def expected_statements(assertions: dict[str, dict], namespace: uuid.UUID, now: datetime) -> Expected:
    """issued (voided when revoked); expired once `expires` has passed; revoked with its voiding
    statement; accepted or rejected for the learner's answer (REVOCATION_POLICY=both)."""
    sid = lambda entity, kind: str(uuid.uuid5(namespace, f"badgr|{entity}|{kind}"))  # noqa: E731
    expected = Expected({}, set())
    for entity, assertion in assertions.items():
        kinds = ["expired"] if _time(assertion.get("expires")) and _time(assertion["expires"]) <= now else []
        if assertion.get("revoked"):
            kinds += ["revoked", "revoked|void"]
            expected.voided.add(sid(entity, "issued"))
        else:
            expected.listed[sid(entity, "issued")] = assertion
        kinds += [ACCEPTANCE[assertion["acceptance"]]] if assertion.get("acceptance") in ACCEPTANCE else []
        expected.listed.update((sid(entity, kind), {}) for kind in kinds)
    return expected


class Lrs:
    def __init__(self, process: LrsProcess) -> None:
        self.process = process
        self.session = requests.Session()
        self.session.headers["X-Experience-API-Version"] = XAPI_VERSION

    def statements(self) -> dict[str, dict]:
        """Every statement the LRS lists (voided ones are not listed), by id."""
        found: dict[str, dict] = {}
        url = f"{self.process.statements_url}?limit=500"
        while url:
            page = self.session.get(url, timeout=TIMEOUT).json()
            found.update((s["id"], s) for s in page["statements"])
            more = page.get("more") or ""
            url = f"http://127.0.0.1:{self.process.port}{more}" if more else ""
        return found

    def voided(self, statement_id: str) -> bool:
        answer = self.session.get(
            self.process.statements_url, params={"voidedStatementId": statement_id}, timeout=TIMEOUT
        )
        return answer.status_code == 200


def compare(lrs: Lrs, expected: Expected) -> dict[str, dict]:
    """The LRS's statements, which must be exactly the expected ones."""
    held = lrs.statements()
    extra, missing = set(held) - set(expected.listed), set(expected.listed) - set(held)
    not_voided = sorted(s for s in expected.voided if not lrs.voided(s))
    if extra or missing or not_voided:
        raise CheckFailed(
            f"LRS differs: {len(missing)} missing, {len(extra)} unexpected, {len(not_voided)} not "
            f"voided (e.g. {sorted(missing)[:2]} {sorted(extra)[:2]} {not_voided[:2]})"
        )
    for statement_id, assertion in expected.listed.items():
        if assertion:
            _check_issued(held[statement_id], assertion)
    return held


def _check_issued(statement: dict, assertion: dict) -> None:
    email = str(assertion["recipient"].get("plaintextIdentity") or "").lower()
    wrong = [
        name
        for name, ok in (
            ("actor", statement["actor"].get("mbox", "").lower() == f"mailto:{email}"),
            ("object", statement["object"]["id"] == assertion["badgeclassOpenBadgeId"]),
            ("timestamp", _milliseconds(statement["timestamp"]) == _milliseconds(assertion["issuedOn"])),
            ("assertion", assertion["openBadgeId"] in json.dumps(statement.get("result", {}))),
        )
        if not ok
    ]
    if wrong:
        raise CheckFailed(f"statement {statement['id']} of assertion {assertion['entityId']}: wrong {', '.join(wrong)}")


def _milliseconds(value: str) -> datetime | None:
    """The time as a statement can carry it (xAPI timestamps keep milliseconds)."""
    moment = _time(value)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000) if moment else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the connector ----------------------------------------------------------------------------------


class Connector:
    """The connector's command line (pulls) and award client, on one state file and namespace."""

    def __init__(self, config: Config, lrs: LrsProcess, state: Path) -> None:
        self.namespace = uuid.uuid4()
        self.env = {
            **os.environ,
            "LRS_ENDPOINT": lrs.endpoint,
            "STATE_PATH": str(state / "state.sqlite"),
            "QUEUE_BACKEND": "local",
            "STATE_BACKEND": "sqlite",
            "STATEMENT_ID_NAMESPACE": str(self.namespace),
            "BADGR_API_BASE": config.base,
            "BADGR_USERNAME": config.username,
            "BADGR_PASSWORD": config.password,
            "REVOCATION_POLICY": "both",
            "IDENTITY_IFI": "mbox",
        }

    def pull(self, mode: str) -> str:
        """`python -m chalicelib <mode> badgr`, which must deliver everything: its summary, short."""
        command = [sys.executable, "-m", "chalicelib", mode, "badgr", "--json"]
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise CheckFailed(f"`{mode} badgr` exited {done.returncode}: {last}")
        summary = json.loads(done.stdout)
        return (
            f"`{mode} badgr` exit 0: {summary['pages']} pages, {summary['records']} assertions, "
            f"{summary['delivered']} delivered, {summary['already_stored']} already stored, "
            f"{summary['dead_letters']} dead letters"
        )

    def award_client(self) -> AwardClient:
        return award_client("badgr", load_settings(self.env))


def recipient(email: str) -> Recipient:
    return Recipient(email=email, name="Interop Learner", first_name="Interop", last_name="Learner")


# -- checks ------------------------------------------------------------------------------------------


@dataclass
class Run:
    config: Config
    server: Server
    learner: Server
    lrs: Lrs
    connector: Connector
    setup: dict[str, str] = field(default_factory=dict)  # assertions this run made before the backfill
    client: AwardClient | None = None

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def expected(self, assertions: dict[str, dict] | None = None) -> Expected:
        held = self.server.assertions() if assertions is None else assertions
        return expected_statements(held, self.connector.namespace, datetime.now(UTC))


def prepare(run: Run) -> None:
    """Assertions the sync check changes later: one to revoke, one for the learner to reject."""
    issued = run.now() - timedelta(days=2)
    run.setup["to_revoke"] = run.server.award(run.config.badgeclass, run.config.address("revoke"), issued)
    run.setup["to_reject"] = run.server.award(run.config.badgeclass, run.config.learner_username, issued)


def check_backfill(run: Run) -> str:
    started = time.monotonic()
    summary = run.connector.pull("backfill")
    assertions = run.server.assertions()
    expected = run.expected(assertions)
    compare(run.lrs, expected)
    return (
        f"{summary} in {time.monotonic() - started:.1f} s; the server's {len(assertions)} assertions "
        f"({len(run.server.issuers())} issuers) are exactly the LRS's {expected.count()} statements "
        f"({len(expected.voided)} of them voided)"
    )


def check_sync(run: Run) -> str:
    first = run.connector.pull("sync")  # no earlier state: reads everything again, stores nothing new
    before = compare(run.lrs, run.expected())
    issued = run.now() - timedelta(hours=3)
    new = [run.server.award(run.config.badgeclass, run.config.address(f"sync{n}"), issued) for n in range(3)]
    run.server.revoke(run.setup["to_revoke"])
    run.server.revoke(new[1])
    _expect(run.learner.call("DELETE", f"/v2/backpack/assertions/{run.setup['to_reject']}"), 204, "rejecting")
    second = run.connector.pull("sync")
    after = compare(run.lrs, run.expected())
    gained, hidden = set(after) - set(before), set(before) - set(after)
    return (
        f"first {first}; then 3 new assertions (1 revoked), 1 earlier one revoked, 1 rejected; "
        f"second {second}: the LRS gained exactly their {len(gained)} statements "
        f"({len(hidden)} earlier one voided)"
    )


def check_award(run: Run) -> str:
    run.client = run.connector.award_client()
    email, issued = run.config.address("award"), run.now()
    result = run.client.award(run.config.badgeclass, recipient(email), issued)
    return _on_server(run, email, issued, result.vendor_id, "award")


def check_lost_answer(run: Run) -> str:
    email, issued = run.config.address("lost", run.config.refused_domain), run.now()
    client = run.connector.award_client()
    try:
        result = client.award(run.config.badgeclass, recipient(email), issued)
    except Exception as error:  # what the worker would dead-letter: the check says which
        held = run.server.recipient_assertions(run.config.badgeclass, email)
        raise CheckFailed(
            f"award raised {type(error).__name__}: {error} (the server holds {len(held)} "
            "assertion(s) for that recipient)"
        ) from None
    return _on_server(run, email, issued, result.vendor_id, "lost answer: read back")


def check_renewal(run: Run) -> str:
    if run.client is None:
        run.client = run.connector.award_client()
    probe = Server(run.config.base, run.config.username, run.config.password)
    _expect(probe.login(), 200, "probe token")
    subprocess.run(run.config.expire_command, shell=True, check=True, capture_output=True, timeout=300)
    _expect(probe._send("GET", "/v2/issuers"), 401, "probe token after BADGR_INTEROP_EXPIRE_COMMAND")
    email, issued = run.config.address("renewal"), run.now()
    try:
        result = run.client.award(run.config.badgeclass, recipient(email), issued)
    except Exception as error:
        raise CheckFailed(f"award after expiry raised {type(error).__name__}: {error}") from None
    return _on_server(run, email, issued, result.vendor_id, "award after expiry (the probe token got 401)")


def _on_server(run: Run, email: str, issued: datetime, vendor_id: str, what: str) -> str:
    held = run.server.recipient_assertions(run.config.badgeclass, email)
    if [a["entityId"] for a in held] != [vendor_id]:
        raise CheckFailed(
            f"{what}: the client returned {vendor_id!r}, the server holds "
            f"{[a['entityId'] for a in held]} for that recipient"
        )
    if _time(held[0]["issuedOn"]) != issued:
        raise CheckFailed(f"{what}: issuedOn {held[0]['issuedOn']} on the server, {issued.isoformat()} sent")
    return f"{what}: assertion {vendor_id} on the server, once, issuedOn {held[0]['issuedOn']}"


# -- the record: what the server answers where the fake imitates it ----------------------------------


def shown(answer: requests.Response, body: int = 240) -> str:
    """Status, the headers a client acts on, the body (token values hidden)."""
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in ("content-type", "retry-after", "www-authenticate", "link")
    }
    cookies = [_cookie(c) for c in answer.raw.headers.getlist("Set-Cookie")] if answer.raw else []
    text = EMAIL.sub("<email>", answer.text)
    for secret in ("access_token", "refresh_token"):
        text = _hidden(text, secret)
    return f"{answer.status_code} {headers} set-cookie={cookies} body={text[:body]!r}"


def _cookie(header: str) -> str:
    name, _, rest = header.strip().partition("=")
    return f"{name}=<hidden>;{rest.partition(';')[2]}" if name in ("access_token", "refresh_token") else header.strip()


def _hidden(text: str, key: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict) and key in body:
        body[key] = "<hidden>"
        return json.dumps(body)
    return text


def record_tokens(run: Run) -> Iterator[str]:
    config, base = run.config, run.config.base
    time.sleep(THROTTLE_WAIT)  # a failed renewal before throttles the account and refresh grants a while
    answer = requests.post(
        f"{base}/o/token",
        data=token_form(config.username, config.password),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )
    yield f"token: POST /o/token password grant, scope asked 'rw:issuer' -> {shown(answer)}"
    refresh = answer.json().get("refresh_token", "") if answer.status_code == 200 else ""
    answer = requests.post(
        f"{base}/o/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )
    yield f"refresh: POST /o/token refresh grant with the refresh_token just given -> {shown(answer)}"
    # The learner's account: a throttled login must not slow the connector's account down.
    form = token_form(config.learner_username, config.learner_password)
    stale = {"Accept": "application/json", "Cookie": "access_token=expired0000000000000000000000"}
    answer = requests.post(f"{base}/o/token", data=form, headers=stale, timeout=TIMEOUT)
    yield f"cookie: POST /o/token good password grant sent with an access_token cookie -> {shown(answer)}"
    answer = requests.post(f"{base}/o/token", data=form, headers={"Accept": "application/json"}, timeout=TIMEOUT)
    yield f"throttle: the same good grant right after, no cookie -> {shown(answer)}"
    answer = requests.get(
        f"{base}/v2/issuers", headers={"Authorization": "Bearer expired0000000000000000000000"}, timeout=TIMEOUT
    )
    yield f"401: GET /v2/issuers with an unknown token -> {shown(answer)}"
    _expect(run.server.call("GET", "/v2/issuers"), 200, "issuer list")  # the check's token, renewed if need be
    answer = requests.get(
        f"{base}/v2/issuers",
        timeout=TIMEOUT,
        headers={"Authorization": f"Bearer {run.server.token}", "Cookie": "access_token=expired0000000000000000000000"},
    )
    yield f"cookie wins: GET /v2/issuers with a valid Bearer header and a stale access_token cookie -> {shown(answer)}"
    answer = requests.post(
        f"{base}/o/token",
        data=token_form(config.username, config.password, "rw:issuer r:unknown"),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )
    yield (
        f"scope: POST /o/token asking 'rw:issuer r:unknown' -> {answer.status_code} "
        f"scope {answer.json().get('scope')!r}"
    )


def record_lists(run: Run) -> Iterator[str]:
    server, issuer = run.server, run.server.issuers()[0]
    answer = server.call("GET", "/v2/assertions/changed", params={"since": "1970-01-01T00:00:00+00:00"})
    page = answer.json()
    yield (
        f"changed: GET /v2/assertions/changed?since=1970-01-01T00:00:00+00:00 -> {answer.status_code}, "
        f"{len(page['result'])} a page, pagination {_hidden_cursor(page.get('pagination'))}, "
        f"timestamp {page.get('timestamp')!r}, keys {sorted(page)}"
    )
    yield f"changed order: {_changed_order(server, run.setup['to_revoke'])}"
    answer = server.call("GET", "/v2/assertions/changed", params={"since": "1970-01-01T00:00:00+00:00", "num": "7"})
    yield f"changed num=7: {answer.status_code}, {len(answer.json().get('result', []))} results"
    answer = server.call("GET", "/v2/assertions/changed", params={"since": "2026-01-01T00:00:00"})
    yield f"changed naive since 2026-01-01T00:00:00 -> {answer.status_code}"
    answer = server.call("GET", "/v2/assertions/changed?since=2026-01-01T00:00:00+00:00")
    yield f"changed since with '+' not encoded -> {shown(answer)}"
    answer = server.call("GET", f"/v2/issuers/{issuer}/assertions")
    created = [a["createdAt"] for a in _result(answer)]
    order = (
        "oldest first"
        if created == sorted(created)
        else "newest first"
        if created == sorted(created)[::-1]
        else "mixed"
    )
    yield f"issuer list without num: {len(created)} results, {order}, Link {answer.headers.get('Link')!r}"
    answer = server.call("GET", f"/v2/issuers/{issuer}/assertions", params={"num": "2", "include_revoked": "true"})
    created = [a["createdAt"] for a in _result(answer)]
    yield f"issuer list num=2: {created} Link {answer.headers.get('Link')!r}"


def _hidden_cursor(pagination: object) -> object:
    return (
        {k: (v.split("?")[0] + "?cursor=...&..." if isinstance(v, str) else v) for k, v in pagination.items()}
        if isinstance(pagination, dict)
        else pagination
    )


def _changed_order(server: Server, revoked: str) -> str:
    """Whether the feed lists by creation, and where an old assertion revoked later stands."""
    url, ids, created = "/v2/assertions/changed?since=1970-01-01T00%3A00%3A00%2B00%3A00", [], {}
    while url:
        page = server.call("GET", url).json()
        ids += [a["entityId"] for a in page["result"]]
        created.update((a["entityId"], a["createdAt"]) for a in page["result"])
        url = page["pagination"]["nextResults"] if page["pagination"]["hasNext"] else ""
    by_creation = sorted(ids, key=lambda entity: created[entity])
    return (
        f"{len(ids)} assertions; in creation order: {ids == by_creation}; the assertion created before this "
        f"run's sync assertions and revoked after them is at position {ids.index(revoked) + 1} "
        f"(by creation: {by_creation.index(revoked) + 1})"
    )


def record_awards(run: Run) -> Iterator[str]:
    server, badgeclass = run.server, run.config.badgeclass
    email = run.config.address("record", run.config.refused_domain)
    answer = server.issue(badgeclass, email, run.now() - timedelta(hours=1), notify=True)
    held = server.recipient_assertions(badgeclass, email)
    yield (
        f"500 after save: POST /v2/badgeclasses/{{id}}/assertions notify=true, mail refused -> "
        f"{shown(answer, 120)}; then the server holds {len(held)} assertion(s) for that recipient"
    )
    answer = server.issue(badgeclass, run.config.address("shape"), run.now() - timedelta(hours=1))
    yield f"201: POST assertion -> {answer.status_code}, result[0] keys {sorted(_result(answer)[0])}"
    answer = server.call("POST", f"/v2/badgeclasses/{badgeclass}/assertions", json={"issuedOn": "2026-01-01"})
    yield f"400: POST assertion without recipient -> {shown(answer)}"
    answer = server.issue(badgeclass, run.config.address("future"), run.now() + timedelta(seconds=5))
    yield f"issuedOn 5 s ahead of the server's clock -> {shown(answer)}"
    naive = (run.now() - timedelta(hours=1)).replace(tzinfo=None)
    answer = server.issue(badgeclass, run.config.address("naive"), naive)
    yield (
        f"issuedOn without offset {naive.isoformat()} -> {answer.status_code}, stored as "
        f"{_result(answer)[0]['issuedOn'] if answer.status_code == 201 else '-'}"
    )
    answer = server.call("GET", f"/v2/badgeclasses/{badgeclass}")
    yield f"badge class: GET /v2/badgeclasses/{{id}} -> {answer.status_code}, keys {sorted(_result(answer)[0])}"
    for path in (f"/v2/issuers/{run.config.other_issuer}/assertions?num=1", f"/v2/issuers/{run.config.other_issuer}"):
        yield f"other account: GET {path} -> {shown(server.call('GET', path))}"


def record(run: Run) -> Iterator[str]:
    for part in (record_tokens, record_lists, record_awards):
        try:
            yield from part(run)
        except (CheckFailed, requests.RequestException, KeyError, ValueError) as problem:
            yield f"{part.__name__} stopped: {type(problem).__name__}: {problem}"


CHECKS: list[tuple[str, Callable[[Run], str]]] = [
    ("backfill", check_backfill),
    ("sync", check_sync),
    ("award", check_award),
    ("lost-answer", check_lost_answer),
    ("renewal", check_renewal),
]


def run_checks(run: Run) -> str | None:
    """Each check's line; the name of the first that failed, or None."""
    first_failed = None
    for name, check in CHECKS:
        try:
            print(f"ok   {name}: {check(run)}", flush=True)
        except CheckFailed as failure:
            print(f"FAIL {name}: {failure}", flush=True)
            first_failed = first_failed or name
    return first_failed


def main() -> int:
    config = Config.from_env()
    with LrsProcess() as lrs, tempfile.TemporaryDirectory(prefix="badgr-interop-") as state:
        run = Run(
            config,
            Server(config.base, config.username, config.password),
            Server(config.base, config.learner_username, config.learner_password),
            Lrs(lrs),
            Connector(config, lrs, Path(state)),
        )
        print(f"badgr interop {config.run}: server {config.base}, LRS {lrs.endpoint}", flush=True)
        prepare(run)
        failed = run_checks(run)
        for line in record(run):
            print(f"record {line}", flush=True)
    if failed:
        print(f"interop-badgr: FAILED, first failed check: {failed}", file=sys.stderr)
        return 1
    print(f"interop-badgr: all {len(CHECKS)} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
