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
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import requests

from . import Statement
from ..errors import ConnectorError
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


class LrsAuthError(ConnectorError):
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
        super().__init__(timeout=timeout, retry=retry, sleep=sleep, session=session)
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

    def send(self, statements: list[Statement]) -> DeliveryReport:
        """Deliver in chunks of batch_size; see the module docstring for the outcomes."""
        report = DeliveryReport()
        started = time.monotonic()
        prepared = _prepare(statements)
        try:
            for start in range(0, len(prepared), self.batch_size):
                self._deliver(prepared[start : start + self.batch_size], report)
        except (LrsUnavailable, LrsAuthError) as error:
            error.report = report  # what earlier chunks delivered stays visible to the caller
            log("lrs_send_failed", statements=len(prepared), reason=str(error), **report.counts())
            raise
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log("lrs_send", statements=len(prepared), elapsed_ms=elapsed_ms, **report.counts())
        return report

    def _deliver(self, chunk: list[Statement], report: DeliveryReport) -> None:
        """POST one chunk; on a per-statement refusal bisect until the culprits stand alone."""
        response = self._post(chunk)
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

    def _post(self, chunk: list[Statement]) -> requests.Response:
        body = json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
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
