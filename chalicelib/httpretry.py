"""Bounded retries with exponential backoff, jitter and Retry-After, for every outbound HTTP call.

Vendors and LRSs rarely publish rate limits: honour 429 and Retry-After, back off on 5xx and
network errors, and give up after a bound so a worker never spins.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Callable

import requests

from .errors import ConnectorError, OutsideFailure
from .observability import log

if TYPE_CHECKING:
    from .settings import Settings

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class OutcomeUnknown(ConnectorError):
    """A request that is not safe to repeat may have been carried out (read timeout, 500/502/504):
    retrying could do it twice, so the caller must check instead."""


# Answers that mean "not carried out": safe to retry even a request that creates something.
NOT_PROCESSED_STATUS = frozenset({429, 503})


class TransientFailure(OutsideFailure):
    """The remote stayed unavailable for every attempt; the work should be retried later."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base: float = 0.5  # seconds before the first retry
    cap: float = 30.0  # longest single wait
    jitter: Callable[[float], float] = field(default=lambda wait: wait * random.uniform(0.5, 1.0))

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
    **kwargs: object,
) -> requests.Response:
    """Send, retrying retryable statuses and network errors; return the last non-retryable answer.

    idempotent=False (a POST that awards a credential): only failures that prove nothing was
    done are retried; anything ambiguous raises OutcomeUnknown."""
    problem = ""
    for attempt in range(policy.attempts):
        try:
            response = session.request(method, url, **kwargs)
        except requests.RequestException as error:  # network trouble of any kind: transient
            if not idempotent and isinstance(error, requests.ReadTimeout):
                raise OutcomeUnknown(f"{what}: no answer in time; it may have been done: check the platform") from None
            problem = type(error).__name__
            wait = policy.backoff(attempt)
        else:
            if response.status_code not in RETRYABLE_STATUS:
                return response
            if not idempotent and response.status_code not in NOT_PROCESSED_STATUS:
                raise OutcomeUnknown(
                    f"{what}: HTTP {response.status_code}; it may have been done: check the platform"
                )
            problem = f"HTTP {response.status_code}"
            wait = retry_after(response, policy.cap)
            wait = policy.backoff(attempt) if wait is None else wait
        if attempt + 1 < policy.attempts:
            log("http_retry", what=what, problem=problem, attempt=attempt + 1, wait_s=round(wait, 3))
            sleep(wait)
    raise TransientFailure(f"{what}: {problem} after {policy.attempts} attempts")


class RetryingClient:
    """Base of every outbound client (platform APIs, the LRS): one session, explicit timeouts,
    the shared retry policy."""

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
        self.session = session or requests.Session()

    @staticmethod
    def policy_from(settings: "Settings") -> RetryPolicy:
        return RetryPolicy(settings.http_max_attempts, settings.http_backoff_base, settings.http_backoff_cap)

    def _send(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        return send(self.session, method, url, policy=self.retry, sleep=self.sleep, what=what,
                    timeout=self.timeout, **kwargs)


def json_object(response: requests.Response, what: str) -> dict:
    """The answer's JSON object, or a ConnectorError naming `what` answered something else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConnectorError(f"{what}: the answer is not a JSON object")
    return body
