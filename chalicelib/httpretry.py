"""Bounded retries with exponential backoff, jitter and Retry-After, for every outbound HTTP call.

Vendors and LRSs rarely publish rate limits: honour 429 and Retry-After, back off on 5xx and
network errors, and give up after a bound so a worker never spins.

Each try is bounded too. A per-read timeout never fires while a server trickles a byte at a time,
so a try has a total deadline, from connecting to the answer's last byte, and its body is read in
chunks up to a size bound: a server that answers too slowly or too much fails the try instead of
holding the process (or its memory) forever. The sessions this module makes (every platform
client's) and the LRS client's own check the deadline at every socket read, headers included
(their connections answer with DeadlineResponse); any other session a caller brings is checked
between body chunks. No client keeps cookies: each request carries
its own credentials, and a cookie a server sets (Badgr's `access_token` on /o/token) must never
come back as a second credential.
"""

from __future__ import annotations

import http.client
import io
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import ConnectorError, OutsideFailure
from .observability import log

if TYPE_CHECKING:
    from .settings import Settings

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
DEFAULT_DEADLINE = 60.0  # seconds one try may take, connect to last byte (HTTP_REQUEST_DEADLINE)
DEFAULT_MAX_BODY = 16 * 1024 * 1024  # bytes of one answer's body (HTTP_MAX_BODY_BYTES)
CHUNK_BYTES = 64 * 1024


class OutcomeUnknown(ConnectorError):
    """A request that is not safe to repeat may have been carried out (read timeout, 500/502/504):
    retrying could do it twice, so the caller must check instead."""


# Answers that mean "not carried out": safe to retry even a request that creates something.
NOT_PROCESSED_STATUS = frozenset({429, 503})


class TransientFailure(OutsideFailure):
    """The remote stayed unavailable for every attempt; the work should be retried later."""


class AnswerTooLarge(OutsideFailure):
    """The answer's body is larger than the bound: the same request would answer the same again."""


class _Late(requests.Timeout):
    """The try's deadline passed before the answer's last byte."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base: float = 0.5  # seconds before the first retry
    cap: float = 30.0  # longest single wait
    jitter: Callable[[float], float] = field(default=lambda wait: wait * random.uniform(0.5, 1.0))
    deadline: float = DEFAULT_DEADLINE  # seconds one try may take, from connecting to the last byte
    max_body: int = DEFAULT_MAX_BODY  # bytes of one answer's body, at most

    def backoff(self, retry: int) -> float:
        return self.jitter(min(self.cap, self.base * (2**retry)))


def retry_after(response: requests.Response, cap: float) -> float | None:
    """Retry-After in seconds (delta or HTTP date), capped; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, cap))


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "request",
    idempotent: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """Send, retrying retryable statuses, network errors and tries past their deadline; return the
    last non-retryable answer, its body read.

    idempotent=False (a POST that awards a credential): only failures that prove nothing was
    done are retried; anything ambiguous raises OutcomeUnknown."""
    problem = ""
    host = urlsplit(url).hostname or url
    kwargs["timeout"] = _within(kwargs.get("timeout"), policy.deadline)
    for attempt in range(policy.attempts):
        try:
            response = _try(session, method, url, policy, what, kwargs)
        except requests.RequestException as error:  # network trouble of any kind: transient
            late = isinstance(error, _Late)
            if not idempotent and (late or isinstance(error, requests.ReadTimeout)):
                raise OutcomeUnknown(f"{what}: no answer in time; it may have been done: check the platform") from None
            problem = (
                f"no complete answer within {policy.deadline:g} s (HTTP_REQUEST_DEADLINE)"
                if late
                else type(error).__name__
            )
            wait = policy.backoff(attempt)
        else:
            if response.status_code not in RETRYABLE_STATUS:
                return response
            if not idempotent and response.status_code not in NOT_PROCESSED_STATUS:
                raise OutcomeUnknown(f"{what}: HTTP {response.status_code}; it may have been done: check the platform")
            problem = f"HTTP {response.status_code}"
            asked = retry_after(response, policy.cap)
            wait = policy.backoff(attempt) if asked is None else asked
        if attempt + 1 < policy.attempts:
            log("http_retry", what=what, problem=problem, attempt=attempt + 1, wait_s=round(wait, 3))
            sleep(wait)
    raise TransientFailure(f"{what}: {problem} after {policy.attempts} attempts to {host}")


def _try(
    session: requests.Session, method: str, url: str, policy: RetryPolicy, what: str, kwargs: dict[str, Any]
) -> requests.Response:
    """One try: the answer with its whole body, within the policy's deadline and size bound."""
    deadline = time.monotonic() + policy.deadline
    with _deadline(deadline):
        try:
            response = session.request(method, url, stream=True, **kwargs)
            _read_body(response, deadline, policy.max_body, what)
        except requests.ConnectTimeout:
            raise  # nothing was sent: not "too late", which may mean half done
        except requests.RequestException:
            if time.monotonic() >= deadline:
                raise _Late() from None
            raise
    return response


def _within(timeout: Any, seconds: float) -> Any:
    """requests' (connect, read) timeout, neither part longer than the whole try may take."""
    if timeout is None:
        return (seconds, seconds)
    if isinstance(timeout, tuple):
        return tuple(seconds if part is None else min(float(part), seconds) for part in timeout)
    return min(float(timeout), seconds)


def _read_body(response: requests.Response, deadline: float, max_body: int, what: str) -> None:
    """Read the streamed body into the response (`.content`, `.json()` then work as usual)."""
    if response.raw is None:  # a test double answered with its body already in memory
        return
    try:
        body = _body(response, deadline, max_body, what)
    except BaseException:
        response.close()  # the connection is not reused with half an answer in it
        raise
    response._content = body  # what requests itself sets once a body is read
    response._content_consumed = True  # type: ignore[attr-defined]  # requests' own flag, not in its stubs


def _body(response: requests.Response, deadline: float, max_body: int, what: str) -> bytes:
    """The body's bytes; AnswerTooLarge past max_body (a declared length past it: before reading)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise _too_large(response, what, max_body)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > max_body:
            raise _too_large(response, what, max_body)
        if time.monotonic() >= deadline:
            raise _Late()
        chunks.append(chunk)
    return b"".join(chunks)


def host_of(url: str) -> str:
    """The host (and port, when given) of a URL, for messages: never its userinfo or path."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or "(no host)"


def _too_large(response: requests.Response, what: str, max_body: int) -> AnswerTooLarge:
    host = urlsplit(response.url).hostname or response.url
    return AnswerTooLarge(
        f"{what}: the answer from {host} is larger than {max_body:,} bytes (HTTP_MAX_BODY_BYTES): not read"
    )


# -- the deadline at every socket read (sessions made here) ---------------------------------------

_current = threading.local()  # .deadline: the time.monotonic() by which this thread's try must end


@contextmanager
def _deadline(at: float) -> Iterator[None]:
    _current.deadline = at
    try:
        yield
    finally:
        _current.deadline = None


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, no read waiting past the try's deadline (nor longer than the socket's own
    read timeout): a trickle of one byte a second ends at the deadline, headers included."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # holds the socket open as http.client expects
        self._deadline = deadline
        self._per_read = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        # Only once the deadline is nearer than the socket's own read timeout: a syscall saved on
        # the hot path (an LRS POST's answer), and `left` only shrinks from then on.
        if self._per_read is None or left < self._per_read:
            self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class DeadlineResponse(http.client.HTTPResponse):
    """http.client's response reading through a _DeadlineReader while a try of send() is under way:
    the `response_class` of a connection whose reads must end at the deadline."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            self.fp.close()
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _DeadlineHTTPConnection(HTTPConnection):
    response_class = DeadlineResponse


class _DeadlineHTTPSConnection(HTTPSConnection):
    response_class = DeadlineResponse


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


# -- no cookies ------------------------------------------------------------------------------------

NO_COOKIES = DefaultCookiePolicy(allowed_domains=[])  # no domain may set a cookie or be sent one


def harden(session: requests.Session) -> None:
    """The session's jar keeps no cookie a server sets (and so sends none back), and requests'
    default adapters give way to ones that check the deadline at every read (an adapter of the
    caller's own, the LRS client's, is left as it is)."""
    session.cookies.set_policy(NO_COOKIES)
    for prefix, adapter in list(session.adapters.items()):
        if type(adapter) is HTTPAdapter:
            session.mount(prefix, _DeadlineAdapter())


class CookielessSession(requests.Session):
    """A session that keeps no cookie, not even across a redirect (requests collects a redirect's
    cookies in a jar of the request's own), and whose tries end at their deadline."""

    def __init__(self) -> None:
        super().__init__()
        harden(self)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        prepared.prepare_cookies(RequestsCookieJar(policy=NO_COOKIES))
        return prepared


class ClientOptions(TypedDict, total=False):
    """RetryingClient's keyword arguments, as a subclass passes them on."""

    timeout: tuple[float, float]
    retry: RetryPolicy
    sleep: Callable[[float], None]
    session: requests.Session | None


class RetryingClient:
    """Base of every outbound client (platform APIs, the LRS): one session that keeps no cookie,
    explicit timeouts, the shared retry policy."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (3.05, 15.0),
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.session = session or CookielessSession()
        if isinstance(self.session, requests.Session):  # a caller's session keeps none either
            harden(self.session)

    @staticmethod
    def policy_from(settings: Settings) -> RetryPolicy:
        return RetryPolicy(
            settings.http_max_attempts,
            settings.http_backoff_base,
            settings.http_backoff_cap,
            deadline=settings.http_request_deadline,
            max_body=settings.http_max_body_bytes,
        )

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        return send(
            self.session, method, url, policy=self.retry, sleep=self.sleep, what=what, timeout=self.timeout, **kwargs
        )


def json_object(response: requests.Response, what: str) -> dict:
    """The answer's JSON object, or a ConnectorError naming `what` answered something else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConnectorError(f"{what}: the answer is not a JSON object")
    return body
