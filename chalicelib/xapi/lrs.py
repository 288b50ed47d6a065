"""LRS client: batching, Basic auth, the version header, bounded retries and per-statement outcomes.

One `send()` turns a list of statements into a DeliveryReport: delivered, already stored (409:
our ids are deterministic, so the LRS holds our earlier copy) or rejected on their own (400 after
bisecting a chunk). Transient trouble raises LrsUnavailable, configuration trouble LrsAuthError;
both carry the partial report so nothing already delivered is lost from the caller's view.

Logs carry statement ids, statuses and counts only: never a statement body or a credential.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import pydantic_core
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import Statement
from ..errors import ConnectorError, OutsideFailure
from ..httpretry import RetryingClient, RetryPolicy, TransientFailure
from ..observability import log
from ..secrets import reveal

if TYPE_CHECKING:
    from ..settings import Settings

AUTH_STATUS = frozenset({401, 403})
# A wrong LRS_ENDPOINT, not a bad statement: bisecting would dead-letter every statement.
ENDPOINT_STATUS = frozenset({404, 405})
MAX_MESSAGE = 300
_EMAIL = re.compile(r"[^\s'\"<>()\[\],;:]+@[^\s'\"<>()\[\],;]+")
_RECEIVED = re.compile(r"\.?\s*Received\b.*$", re.DOTALL)
_STATEMENTS_PATH = re.compile(r"'statements\.\d+\.?")


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    rejected: list[tuple[dict, str]] = field(default_factory=list)

    def merge(self, other: "DeliveryReport") -> None:
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

    @classmethod
    def from_settings(cls, settings: "Settings", **overrides: object) -> "LrsClient":
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
            log("lrs_send_failed", statements=len(outgoing.statements), reason=str(error), **report.counts())
            raise
        finally:
            _wire.callback = None
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log("lrs_send", statements=len(outgoing.statements), elapsed_ms=elapsed_ms, **report.counts())
        return report

    def _deliver(self, chunk: list[Statement], report: DeliveryReport, body: bytes | None = None) -> None:
        """POST one chunk; on a per-statement refusal bisect until the culprits stand alone."""
        response = self._post(chunk if body is None else body)
        status = response.status_code
        if 200 <= status < 300:
            report.delivered.extend(s["id"] for s in chunk)
            return
        self._raise_for_configuration(response)
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
            log("lrs_rejected", statement_id=chunk[0]["id"], status=status, reason=message)

    def _post(self, chunk: list[Statement] | bytes) -> requests.Response:
        body = chunk if isinstance(chunk, bytes) else _encode(chunk)
        # No redirects: requests would turn a 301/302 POST into a GET that "succeeds".
        return self._request("POST", self.statements_url, data=body, allow_redirects=False)

    def _raise_for_configuration(self, response: requests.Response) -> None:
        status = response.status_code
        if status in AUTH_STATUS:
            raise LrsAuthError(
                f"LRS answered {status} {response.reason or ''}".rstrip()
                + ": check LRS_USERNAME/LRS_PASSWORD and the LRS client's permissions"
            )
        if status in ENDPOINT_STATUS or 300 <= status < 400:
            where = f"{response.request.method} {urlsplit(response.url).path}"  # path only: no userinfo
            raise LrsConfigurationError(
                f"LRS answered {status} for {where}: check LRS_ENDPOINT"
                + (f" (redirects to {response.headers['Location']})" if "Location" in response.headers else "")
            )
        if status == 400 and _header_problem(response):
            reason = describe_refusal(response)
            raise LrsConfigurationError(f"LRS refuses the request headers: {reason}; check LRS_XAPI_VERSION")

    # -- reading -------------------------------------------------------------------------------

    def about(self) -> dict:
        """GET <base>/about: the LRS's supported versions; proves reachability and credentials."""
        response = self._request("GET", self.base_url + "about")
        self._raise_for_configuration(response)
        if response.status_code != 200:
            raise LrsUnavailable(f"LRS about: HTTP {response.status_code}")
        return _json(response, "about")

    def query(self, **params: object) -> Iterator[Statement]:
        """Statements matching xAPI filters (verb, activity, agent, since, until, limit, ...).

        Follows `more` links (relative to the LRS host) until one is empty. `agent` may be a dict
        (sent as JSON), times may be datetimes, booleans are sent as true/false.
        """
        url: str | None = self.statements_url
        query: dict[str, str] | None = {key: _query_value(value) for key, value in params.items()}
        while url:
            response = self._request("GET", url, params=query)
            if response.status_code == 404 and params.keys() & {"statementId", "voidedStatementId"}:
                return
            self._raise_for_configuration(response)
            if response.status_code != 200:
                raise ConnectorError(f"LRS refused the query: {describe_refusal(response)}")
            page = _json(response, "statements")
            if "statements" not in page:  # statementId/voidedStatementId: a single statement
                yield page
                return
            yield from page["statements"]
            more = page.get("more") or ""
            url = urljoin(self.statements_url, more) if more and page["statements"] else None
            query = None  # the `more` link carries the filters and the cursor

    # -- plumbing ------------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: object) -> requests.Response:
        headers = {"X-Experience-API-Version": self.version}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        try:
            return self._send(method, url, f"LRS {method} {urlsplit(url).path}", headers=headers,
                              auth=self._auth, **kwargs)
        except TransientFailure as error:
            raise LrsUnavailable(str(error)) from error


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
    def getresponse(self):  # type: ignore[no-untyped-def]  # the request is written: only its answer is awaited
        _request_written()
        return super().getresponse()


class _WireHTTPSConnection(HTTPSConnection):
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


def _encode(chunk: list[Statement]) -> bytes:
    # pydantic's encoder (compact, UTF-8): a quarter of json.dumps's time, on every statement sent.
    return pydantic_core.to_json(chunk)


def describe_refusal(response: requests.Response) -> str:
    """A short, readable reason from an LRS error answer, without echoed values or emails.

    Learning Locker answers {"warnings": ["Problem in 'statements.0.verb.id'. Received ..."]}
    or {"message": ...}; "Received ..." echoes statement content, so it is cut.
    """
    prefix = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        warnings = body.get("warnings")
        if isinstance(warnings, list):
            parts = [_clean(str(w)) for w in warnings[:5]]
            if len(warnings) > 5:
                parts.append(f"and {len(warnings) - 5} more problems")
        elif body.get("message"):
            parts = [_clean(str(body["message"]))]
    elif response.reason:
        parts = [response.reason]  # HTML error pages say nothing useful
    text = f"{prefix}: {'; '.join(parts)}" if parts else prefix
    return text[:MAX_MESSAGE]


def _clean(text: str) -> str:
    text = _RECEIVED.sub("", text)
    text = _STATEMENTS_PATH.sub("'", text)  # the index is within a one-statement request
    return _EMAIL.sub("<redacted>", text).strip()


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
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
