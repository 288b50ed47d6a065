"""LRS client: batching, Basic auth, the version header, bounded retries and per-statement outcomes.

One `send()` turns a list of statements into a DeliveryReport: delivered, already stored (409:
our ids are deterministic, so the LRS holds our earlier copy; a chunk refused with 409 is settled
by looking its ids up, then one POST of the rest) or rejected on their own (400, 413 after
bisecting a chunk). Transient trouble raises LrsUnavailable, configuration trouble LrsAuthError
(a refusal naming the version, the credentials or the endpoint is configuration, whatever its
status); both carry the partial report so nothing already delivered is lost from the caller's view.

Reads trust nothing the LRS does not have to do: a look-up by id takes only a statement with that
id, query() keeps only statements its filters promise, once each, and nothing assumes an order.

Logs carry statement ids, statuses and counts only: never a statement body or a credential.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import pydantic_core
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..errors import ConnectorError, OutsideFailure
from ..httpretry import DeadlineResponse, RetryingClient, RetryPolicy, TransientFailure, host_of
from ..observability import log
from ..secrets import reveal
from . import Statement
from .lrs_filters import matcher, voided_target
from .vocabulary import VERB_VOIDED

if TYPE_CHECKING:
    from ..settings import Settings

AUTH_STATUS = frozenset({401, 403})
# A wrong LRS_ENDPOINT, not a bad statement: bisecting would dead-letter every statement.
ENDPOINT_STATUS = frozenset({404, 405})
# Per-statement answers (a conflict, a body too large): never read as a configuration problem.
PER_STATEMENT_STATUS = frozenset({409, 413})
# GET /about answers of an LRS that has none: reachability is then asked with one statement.
NO_ABOUT_STATUS = frozenset({404, 405, 501})
ID_FILTERS = ("statementId", "voidedStatementId")
MAX_MESSAGE = 300
MAX_REFUSAL_BYTES = 64 * 1024  # of an error answer read for its text
_EMAIL = re.compile(r"[^\s'\"<>()\[\],;:]+@[^\s'\"<>()\[\],;]+")
_RECEIVED = re.compile(r"\.?\s*Received\b.*$", re.DOTALL)
_STATEMENTS_PATH = re.compile(r"'statements\.\d+\.?")
_SPACE = re.compile(r"\s+")
_HTML_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")
# What a refusal may quote of a statement (quoted values, IRIs, property paths such as
# 'statements.0.version'): left out before asking whether the refusal names a setting.
_QUOTED = re.compile(
    r"'[^']*'|\"[^\"]*\"|\b[a-z][a-z0-9+.-]*://\S+|\b(?:mailto|urn|tag):\S+|[\w-]+(?:\.[\w-]+)+", re.IGNORECASE
)
# A refusal of the request as such, not of a statement: which setting to check.
_SETTING_WORDS = (
    ("LRS_XAPI_VERSION", re.compile(r"\bversion\b|\bheaders?\b", re.IGNORECASE)),
    (
        "LRS_USERNAME/LRS_PASSWORD",
        re.compile(
            r"\b(unauthori[sz]ed|authori[sz]ation|authenticat\w*|credentials|forbidden|api[ _-]?key|"
            r"access denied|permission\w*)\b",
            re.IGNORECASE,
        ),
    ),
    ("LRS_ENDPOINT", re.compile(r"\bendpoint\b|\broute\b|\bcannot (get|post|put)\b", re.IGNORECASE)),
)


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    rejected: list[tuple[dict, str]] = field(default_factory=list)

    def merge(self, other: DeliveryReport) -> None:
        self.delivered.extend(other.delivered)
        self.already_stored.extend(other.already_stored)
        self.rejected.extend(other.rejected)

    def counts(self) -> dict[str, int]:
        return {
            "delivered": len(self.delivered),
            "already_stored": len(self.already_stored),
            "rejected": len(self.rejected),
        }


@dataclass(frozen=True)
class Outgoing:
    """Statements ready to POST (LrsClient.prepare): the list sent, and each chunk with its body."""

    statements: list[Statement]
    chunks: list[tuple[list[Statement], bytes]]


class LrsAuthError(OutsideFailure):
    """The LRS refuses our requests as such (401/403, wrong endpoint): fix the configuration."""

    def __init__(self, message: str, report: DeliveryReport | None = None) -> None:
        super().__init__(message)
        self.report = report or DeliveryReport()


class LrsConfigurationError(LrsAuthError):
    """Not credentials but still configuration (endpoint, xAPI version): stop the batch too."""


class LrsWithoutAbout(LrsConfigurationError):
    """GET /about is not there (404/405/501): some LRSs have none; see LrsClient.check()."""


class LrsAnswerError(OutsideFailure):
    """The LRS answers in a way that cannot end (a `more` link that does not move on)."""


class LrsUnavailable(TransientFailure):
    """Retries exhausted (429/5xx/network): the undelivered work must be retried later."""

    def __init__(self, message: str, report: DeliveryReport | None = None) -> None:
        super().__init__(message)
        self.report = report or DeliveryReport()


def normalise_endpoint(endpoint: str) -> str:
    """The xAPI base URL ending in "/", from ".../xAPI", ".../xAPI/" or ".../xAPI/statements[/]"."""
    base = endpoint.strip().rstrip("/")
    if base.endswith("/statements"):
        base = base[: -len("/statements")]
    if not base.startswith(("http://", "https://")):
        raise ConnectorError(f"LRS_ENDPOINT must be an absolute http(s) URL, got {endpoint!r}")
    return base + "/"


class LrsClient(RetryingClient):
    def __init__(
        self,
        endpoint: str,
        *,
        username: str | None = None,
        password: str | None = None,
        version: str = "1.0.3",
        batch_size: int = 50,
        timeout: tuple[float, float] = (3.05, 20.0),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConnectorError("LRS_BATCH_SIZE must be at least 1")
        self.base_url = normalise_endpoint(endpoint)
        self.statements_url = self.base_url + "statements"
        self.version = version
        self.batch_size = batch_size
        # One session, kept alive between POSTs. Ours (not a caller's) also says when a request
        # has been written and only its answer is awaited: see send(on_wire=...).
        self.signals_on_wire = session is None
        super().__init__(timeout=timeout, retry=retry, sleep=sleep, session=session or _session_for(self.base_url))
        # Per request rather than on the session: a caller's session stays untouched.
        self._auth = (username, password or "") if username else None
        # Learned on the first 409: the LRS answers look-ups by id with pages of other statements.
        self.ignores_id_lookups = False

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> LrsClient:
        password = reveal(settings, "lrs_password")
        options: dict = {
            "username": settings.lrs_username,
            "password": password,
            "version": settings.lrs_xapi_version,
            "batch_size": settings.lrs_batch_size,
            "timeout": (settings.lrs_connect_timeout, settings.lrs_read_timeout),
            "retry": cls.policy_from(settings),
        }
        options.update(overrides)
        return cls(settings.lrs_endpoint, **options)

    # -- sending -------------------------------------------------------------------------------

    def prepare(self, statements: list[Statement]) -> Outgoing:
        """Ids given, exact repeats dropped, chunks of batch_size encoded: all the CPU work of a
        send, so that a caller can do it while an earlier send waits on the LRS."""
        prepared = _prepare(statements)
        chunks = [prepared[start : start + self.batch_size] for start in range(0, len(prepared), self.batch_size)]
        return Outgoing(prepared, [(chunk, _encode(chunk)) for chunk in chunks])

    def send(self, statements: list[Statement] | Outgoing, on_wire: Callable[[], None] | None = None) -> DeliveryReport:
        """Deliver in chunks of batch_size, one POST after the other (a later chunk is sent only
        once the LRS answered the one before: a voiding statement never overtakes its target);
        see the module docstring for the outcomes.

        on_wire: called once, as soon as the first request is written and only the LRS's answer
        is awaited (at once if this client cannot tell), so that a caller working in another
        thread can start its CPU work then rather than compete for the GIL while we write."""
        outgoing = statements if isinstance(statements, Outgoing) else self.prepare(statements)
        report = DeliveryReport()
        started = time.monotonic()
        if on_wire is not None and not self.signals_on_wire:
            on_wire()
            on_wire = None
        _wire.callback = on_wire
        try:
            for chunk, body in outgoing.chunks:
                self._deliver(chunk, report, body)
        except (LrsUnavailable, LrsAuthError) as error:
            error.report = report  # what earlier chunks delivered stays visible to the caller
            log(
                "lrs_send_failed",
                level=logging.WARNING,
                statements=len(outgoing.statements),
                reason=str(error),
                **report.counts(),
            )
            raise
        finally:
            _wire.callback = None
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log("lrs_send", statements=len(outgoing.statements), elapsed_ms=elapsed_ms, **report.counts())
        return report

    def _deliver(
        self, chunk: list[Statement], report: DeliveryReport, body: bytes | None = None, resolve: bool = True
    ) -> None:
        """POST one chunk; on a per-statement refusal bisect until the culprits stand alone, but
        for a conflict (409) first ask which statements the LRS holds (see _resolve_conflict)."""
        response = self._post(chunk if body is None else body)
        status = response.status_code
        if 200 <= status < 300:
            report.delivered.extend(s["id"] for s in chunk)
            return
        self._raise_for_configuration(response)
        if status == 409 and len(chunk) > 1 and resolve and self._resolve_conflict(chunk, response, report):
            return
        if len(chunk) > 1:
            # Learning Locker refuses the whole batch for one bad or conflicting statement.
            middle = len(chunk) // 2
            self._deliver(chunk[:middle], report)
            self._deliver(chunk[middle:], report)
        elif status == 409:
            report.already_stored.append(chunk[0]["id"])
            log("lrs_conflict", statement_id=chunk[0]["id"])
        else:
            message = describe_refusal(response)
            report.rejected.append((chunk[0], message))
            log("lrs_rejected", level=logging.WARNING, statement_id=chunk[0]["id"], status=status, reason=message)

    def _resolve_conflict(self, chunk: list[Statement], response: requests.Response, report: DeliveryReport) -> bool:
        """A chunk refused with 409: the LRS holds some of its ids already (an earlier delivery,
        e.g. an import of the same credentials with fewer facts). Each id is looked up (but the
        one the answer names) and the others go in one POST, so a conflict costs a look-up rather
        than the POSTs of bisecting the chunk down to it. False (the caller bisects) when the
        LRS cannot answer look-ups by id."""
        if self.ignores_id_lookups:
            return False
        named = _named_ids(response, chunk)
        try:
            held = named | {s["id"] for s in chunk if s["id"] not in named and self.look_up(s["id"], False) is not None}
        except FilterIgnored:
            self.ignores_id_lookups = True
            return False
        except (LrsUnavailable, LrsAuthError):
            raise
        except ConnectorError as error:  # the look-up refused: bisecting still settles the chunk
            log("lrs_lookup_refused", level=logging.WARNING, reason=str(error)[:MAX_MESSAGE])
            return False
        rest = [s for s in chunk if s["id"] not in held]
        report.already_stored.extend(s["id"] for s in chunk if s["id"] in held)
        log("lrs_conflicts", statements=len(chunk), already_stored=len(held), looked_up=len(chunk) - len(named))
        if rest:
            # Once more refused (a statement stored meanwhile, or voided: a look-up does not show
            # it): bisected, as before.
            self._deliver(rest, report, resolve=False)
        return True

    def _post(self, chunk: list[Statement] | bytes) -> requests.Response:
        body = chunk if isinstance(chunk, bytes) else _encode(chunk)
        # No redirects: requests would turn a 301/302 POST into a GET that "succeeds".
        return self._request("POST", self.statements_url, data=body, allow_redirects=False)

    def _raise_for_configuration(self, response: requests.Response) -> None:
        status = response.status_code
        if status in AUTH_STATUS:
            raise LrsAuthError(
                f"LRS at {self.host} answered {status} {response.reason or ''}".rstrip()
                + ": check LRS_USERNAME/LRS_PASSWORD and the LRS client's permissions"
            )
        if status in ENDPOINT_STATUS or 300 <= status < 400:
            where = f"{response.request.method} {urlsplit(response.url).path}"  # path only: no userinfo
            raise LrsConfigurationError(
                f"LRS at {self.host} answered {status} for {where}: check LRS_ENDPOINT"
                + (f" (redirects to {response.headers['Location']})" if "Location" in response.headers else "")
            )
        if 400 <= status < 500 and status not in PER_STATEMENT_STATUS:
            reason = describe_refusal(response)
            setting = _setting_named(response, reason)
            if setting == "LRS_XAPI_VERSION":
                raise LrsConfigurationError(
                    f"LRS at {self.host} refuses X-Experience-API-Version {self.version} ({reason}): check {setting}"
                )
            if setting:
                raise LrsConfigurationError(f"LRS at {self.host} refuses the request ({reason}): check {setting}")

    @property
    def host(self) -> str:
        """The LRS's host and port, for messages (never the userinfo of LRS_ENDPOINT)."""
        return host_of(self.base_url)

    # -- reading -------------------------------------------------------------------------------

    def about(self) -> dict:
        """GET <base>/about: the LRS's supported versions; proves reachability and credentials."""
        response = self._request("GET", self.base_url + "about")
        if response.status_code in NO_ABOUT_STATUS:
            raise LrsWithoutAbout(f"LRS at {self.host} has no /about (HTTP {response.status_code})")
        self._raise_for_configuration(response)
        if response.status_code != 200:
            raise LrsUnavailable(f"LRS about: HTTP {response.status_code}")
        return _json(response, "about")

    def check(self) -> str:
        """Reachable with our credentials and version? Raises if not; answers how it was asked:
        GET /about, or, for an LRS that has none, a one-statement GET of the statements."""
        try:
            self.about()
            return "GET /about"
        except LrsWithoutAbout:
            self._get(self.statements_url, {"limit": "1"})
            return "GET statements?limit=1 (the LRS has no /about)"

    def query(self, **params: object) -> Iterator[Statement]:
        """Statements matching xAPI filters (verb, activity, agent, since, until, limit, ...), in
        the LRS's order, each once, only those the filters promise (checked here again).

        Follows `more` links (relative to the LRS host) until one is empty. `agent` may be a dict
        (sent as JSON), times may be datetimes, booleans are sent as true/false. With statementId
        or voidedStatementId: that one statement or nothing (see statement()).
        """
        for key in ID_FILTERS:
            if key in params:
                found = self.statement(str(params[key]), voided=key == "voidedStatementId")
                yield from [found] if found is not None else []
                return
        response = self._get(self.statements_url, {key: _query_value(value) for key, value in params.items()})
        keep = matcher(params)
        yield from (s for s in self._read_on(_json(response, "statements")) if keep(s))

    def statement(self, statement_id: str, voided: bool = False) -> Statement | None:
        """The statement with this id, or None; voided: the voided statement with this id.

        Only an answer carrying that id counts. An LRS that ignores the filter answers a page of
        other statements: it is read on to the end (see StoredStatements for many look-ups)."""
        try:
            return self.look_up(statement_id, voided)
        except FilterIgnored as ignored:
            return (
                _voided_in(self._read_on(ignored.page), statement_id)
                if voided
                else next((s for s in self._read_on(ignored.page) if s.get("id") == statement_id), None)
            )

    def look_up(self, statement_id: str, voided: bool) -> Statement | None:
        """statement() without reading on: FilterIgnored (with the page) when the LRS ignores the filter."""
        key = "voidedStatementId" if voided else "statementId"
        response = self._request("GET", self.statements_url, params={key: statement_id})
        if response.status_code == 404:
            return None
        body = _json(self._answered(response), "statements")
        if isinstance(body.get("statements"), list):
            log("lrs_filter_ignored", filter=key)
            raise FilterIgnored(key, body)
        return body if body.get("id") == statement_id else None

    def _read_on(self, page: dict) -> Iterator[Statement]:
        """The statements of a page and of the pages its `more` links lead to, each id once."""
        seen: set[object] = set()
        links: set[str] = set()
        while True:
            statements = page.get("statements")
            statements = [s for s in statements if isinstance(s, dict)] if isinstance(statements, list) else []
            fresh = _unseen(statements, seen)
            yield from fresh
            more = page.get("more") or ""
            if not (more and statements):
                return
            url = urljoin(self.statements_url, str(more))
            if url in links or not fresh:
                raise LrsAnswerError(f"LRS at {self.host} pages in a circle: its `more` link gives nothing new")
            links.add(url)
            page = _json(self._get(url, None), "statements")  # the `more` link carries filters and cursor

    def _get(self, url: str, params: dict[str, str] | None) -> requests.Response:
        return self._answered(self._request("GET", url, params=params))

    def _answered(self, response: requests.Response) -> requests.Response:
        """A GET's answer if 200; the configuration or refusal it tells otherwise."""
        self._raise_for_configuration(response)
        if response.status_code != 200:
            raise ConnectorError(f"LRS refused the query: {describe_refusal(response)}")
        return response

    # -- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: object) -> requests.Response:
        headers = {"X-Experience-API-Version": self.version}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        try:
            return self._send(
                method, url, f"LRS {method} {urlsplit(url).path}", headers=headers, auth=self._auth, **kwargs
            )
        except TransientFailure as error:
            raise LrsUnavailable(str(error)) from error


class FilterIgnored(Exception):
    """A look-up by id answered with a page of statements: the LRS ignored the filter."""

    def __init__(self, key: str, page: dict) -> None:
        super().__init__(f"the LRS ignores {key}")
        self.key = key
        self.page = page


class StoredStatements:
    """Many look-ups in one run (reconcile, a report): is each statement in the LRS, stored or
    stored and voided since, and which voided statement has an id?

    By id while the LRS honours statementId and voidedStatementId. Once it shows it ignores one
    (it answers a page of other statements), that question is answered from what the LRS holds,
    read once for the run and checked here: the statements of each verb asked about, or the
    voiding statements (the statement voiding another is never hidden, the voided one may be).
    """

    def __init__(self, lrs: LrsClient) -> None:
        self.lrs = lrs
        self.ignored: set[str] = set()  # the id filters this LRS ignores
        self._ids: dict[str, set[str]] = {}  # verb -> ids stored under it
        self._voided: set[str] | None = None

    def holds(self, statement: Statement) -> bool:
        statement_id = str(statement["id"])
        return self._stored(statement_id, str(statement["verb"]["id"])) or self._was_voided(statement_id)

    def voided(self, statement_id: str) -> Statement | None:
        """The voided statement with this id, or None (also when the LRS voided it but shows it
        to no one: it ignores voidedStatementId and hides voided statements otherwise)."""
        answered, found = self._by_filter(statement_id, voided=True)
        if answered:
            return found
        return self.lrs.statement(statement_id) if statement_id in self._voided_targets() else None

    def _stored(self, statement_id: str, verb: str) -> bool:
        answered, found = self._by_filter(statement_id, voided=False)
        if answered:
            return found is not None
        if verb not in self._ids:
            self._ids[verb] = {str(s.get("id")) for s in self.lrs.query(verb=verb)}
        return statement_id in self._ids[verb]

    def _was_voided(self, statement_id: str) -> bool:
        answered, found = self._by_filter(statement_id, voided=True)
        return found is not None if answered else statement_id in self._voided_targets()

    def _by_filter(self, statement_id: str, voided: bool) -> tuple[bool, Statement | None]:
        """(answered, the statement): not answered once the LRS is known to ignore that filter."""
        key = "voidedStatementId" if voided else "statementId"
        if key in self.ignored:
            return False, None
        try:
            return True, self.lrs.look_up(statement_id, voided)
        except FilterIgnored:
            self.ignored.add(key)
            return False, None

    def _voided_targets(self) -> set[str]:
        if self._voided is None:
            self._voided = {target for s in self.lrs.query(verb=VERB_VOIDED) if (target := voided_target(s))}
        return self._voided


def _unseen(statements: list[Statement], seen: set[object]) -> list[Statement]:
    """The statements whose id is not in seen (which learns them): an LRS may repeat itself."""
    fresh = []
    for statement in statements:
        if statement.get("id") not in seen:
            seen.add(statement.get("id"))
            fresh.append(statement)
    return fresh


def _voided_in(statements: Iterator[Statement], statement_id: str) -> Statement | None:
    """The statement with this id among statements that also hold the statement voiding it."""
    found, voided = None, False
    for statement in statements:
        if statement.get("id") == statement_id:
            found = statement
        voided = voided or voided_target(statement) == statement_id
    return found if voided else None


def _session_for(base_url: str) -> requests.Session:
    """The client's own session: kept alive between POSTs, signalling written requests, and with
    what requests would otherwise read from the environment on every request (proxies, CA
    bundle, .netrc: about half a millisecond a POST) read once, for the one endpoint."""
    session = requests.Session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, _WireAdapter())
    environment = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies = environment["proxies"]
    session.verify = environment["verify"]
    session.auth = requests.utils.get_netrc_auth(base_url)  # per-request auth (LRS_USERNAME) wins
    session.trust_env = False
    return session


# -- "request written" signal -----------------------------------------------------------------

_wire = threading.local()  # .callback: what to call once this thread's request is written


def _request_written() -> None:
    callback = getattr(_wire, "callback", None)
    if callback is not None:
        _wire.callback = None
        callback()


class _WireHTTPConnection(HTTPConnection):
    # Reads end at the try's deadline (HTTP_REQUEST_DEADLINE), headers included: an LRS that drips
    # its answer a byte at a time never lets LRS_READ_TIMEOUT fire.
    response_class = DeadlineResponse

    def getresponse(self):  # type: ignore[no-untyped-def]  # the request is written: only its answer is awaited
        _request_written()
        return super().getresponse()


class _WireHTTPSConnection(HTTPSConnection):
    response_class = DeadlineResponse

    def getresponse(self):  # type: ignore[no-untyped-def]
        _request_written()
        return super().getresponse()


class _WireHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WireHTTPConnection


class _WireHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WireHTTPSConnection


class _WireAdapter(HTTPAdapter):
    """requests' adapter whose connections call _request_written() before awaiting an answer."""

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WireHTTPConnectionPool, "https": _WireHTTPSConnectionPool}


def _prepare(statements: list[Statement]) -> list[Statement]:
    """Give id-less statements an id (so a retried POST cannot store them twice) and drop exact
    repeats (Learning Locker refuses a batch that names one id twice)."""
    prepared: list[Statement] = []
    seen: dict[str, Statement] = {}
    for statement in statements:
        if not statement.get("id"):
            statement = {**statement, "id": str(uuid.uuid4())}
        previous = seen.get(statement["id"])
        if previous is not None and previous == statement:
            continue
        seen.setdefault(statement["id"], statement)
        prepared.append(statement)
    return prepared


def _named_ids(response: requests.Response, chunk: list[Statement]) -> set[str]:
    """The ids of the chunk a conflict answer names (Learning Locker: "<id> is conflicting")."""
    text = response.content[:MAX_REFUSAL_BYTES].decode(response.encoding or "utf-8", "replace")
    return {str(s["id"]) for s in chunk if str(s["id"]) in text}


def _encode(chunk: list[Statement]) -> bytes:
    # pydantic's encoder (compact, UTF-8): a quarter of json.dumps's time, on every statement sent.
    return pydantic_core.to_json(chunk)


def describe_refusal(response: requests.Response) -> str:
    """A short, readable reason from an LRS error answer, JSON or not, without echoed values or
    emails, on one line.

    Learning Locker answers {"warnings": ["Problem in 'statements.0.verb.id'. Received ..."]}
    or {"message": ...}; "Received ..." echoes statement content, so it is cut. Others answer
    {"detail": ...}, {"error": ...}, plain text or an HTML page (its text is kept).
    """
    prefix = f"HTTP {response.status_code}"
    parts = [part for part in (_clean(p) for p in _refusal_parts(response)) if part]
    if not parts and response.reason:
        parts = [response.reason]
    text = f"{prefix}: {'; '.join(parts)}" if parts else prefix
    return text[:MAX_MESSAGE]


def _refusal_parts(response: requests.Response) -> list[str]:
    text = response.content[:MAX_REFUSAL_BYTES].decode(response.encoding or "utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return [_visible_text(text) if "html" in response.headers.get("Content-Type", "").lower() else text]
    if isinstance(body, dict):
        for key in ("warnings", "message", "detail", "error", "errors", "msg"):
            if body.get(key):
                return _listed(body[key])
    return _listed(body) if isinstance(body, (list, str)) and body else [text]


def _listed(value: object) -> list[str]:
    """The texts of a JSON problem value: a string, a list of them (the first 5), or objects."""
    if not isinstance(value, list):
        return [_problem_text(value)]
    parts = [_problem_text(item) for item in value[:5]]
    return parts + [f"and {len(value) - 5} more problems"] if len(value) > 5 else parts


def _problem_text(value: object) -> str:
    if isinstance(value, dict):
        text = value.get("msg") or value.get("message")
        if text:
            where = value.get("loc")
            return f"{'.'.join(map(str, where))}: {text}" if isinstance(where, list) else str(text)
        return json.dumps(value, separators=(",", ":"))[:MAX_MESSAGE]
    return str(value)


def _visible_text(page: str) -> str:
    """What a person sees of an HTML error page."""
    return html.unescape(_HTML_TAG.sub(" ", _HTML_HIDDEN.sub(" ", page)))


def _clean(text: str) -> str:
    text = _RECEIVED.sub("", text[: MAX_MESSAGE * 4])
    text = _STATEMENTS_PATH.sub("'", text)  # the index is within a one-statement request
    return _SPACE.sub(" ", _EMAIL.sub("<redacted>", text)).strip()


def _setting_named(response: requests.Response, reason: str) -> str | None:
    """The setting a refusal points at (it names the version, a header, the credentials or the
    endpoint), or None for a refusal of what was sent."""
    if _header_problem(response) or "x-experience-api-version" in reason.lower():
        return "LRS_XAPI_VERSION"
    own_words = _QUOTED.sub(" ", reason)
    return next((setting for setting, words in _SETTING_WORDS if words.search(own_words)), None)


def _header_problem(response: requests.Response) -> bool:
    try:
        warnings = response.json().get("warnings") or []
    except (ValueError, AttributeError):
        return False
    return bool(warnings) and all("'header." in str(w) for w in warnings)


def _json(response: requests.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise LrsUnavailable(f"LRS {what}: answer is not JSON") from None
    if not isinstance(body, dict):
        raise LrsUnavailable(f"LRS {what}: answer is not a JSON object")
    return body


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
