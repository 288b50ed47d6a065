"""Canvas Credentials / Parchment Digital Badges (formerly Badgr) API: OAuth2, issuing assertions,
and reading them back (issuers, assertion lists, the changed feed, badge classes) for pulls.

Auth is OAuth2 against `POST /o/token`: a password grant for BADGR_USERNAME / BADGR_PASSWORD,
then refresh grants. Access tokens last about a day, so the token is cached, renewed shortly
before our clock says it expires, and renewed once more when the platform answers 401 anyway
(revoked, or its clock ahead of ours). A refresh grant is tried once: refused, throttled or
unreachable, the password grant follows (badgr-server refuses every refresh grant of a password
grant's token, and throttles failed grants by username and address: a refresh grant names no
username, so every client behind one address shares that backoff). A refused password grant
is BadgrAuthError naming the settings. Retries on 429/5xx/timeouts come from httpretry and end
as httpretry.TransientFailure; a throttled token endpoint says how long to wait in its 429 body
(`expires`, seconds) rather than in Retry-After, and is waited out as long (up to
HTTP_BACKOFF_CAP).

Bearer only, never a cookie: the token endpoint also sets an `access_token` cookie, and the
server reads a cookie as a Bearer header, so one sent back with the next grant is taken as a
client authentication and refused (invalid_client) - every renewal would fail a day after start.
The sessions httpretry.RetryingClient makes (and those it is given) keep no cookie: this client
uses one of them, never a session of its own.

The API answers 404, never 403, for an issuer or badge class of another account: BadgrNotFound
names the entity and BADGR_USERNAME / BADGR_API_BASE.

The platform refuses an issuedOn after its own now, even by a second (400, fieldErrors.issuedOn):
the client keeps how far the platform's clock is behind ours, from the Date header of its answers
(`platform_now`), so an award's issuedOn can be kept in the platform's past.

Badgr accepts duplicate awards (a badge class's allowDuplicateAwards defaults to true): this
client does not prevent them; the connector's award ledger does.

Lists page two ways: an issuer's assertions by the `Link: <url>; rel="next"` header (only with
`num`; without it the API answers everything at once), the changed feed by its envelope's
`pagination.hasNext` / `nextResults`. Both links are followed verbatim (they carry the cursor
and every filter), only on the API's own scheme and host (our bearer token goes with them),
and never twice in one walk (a server bug must not become an endless loop).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Unpack
from urllib.parse import urljoin, urlsplit

import requests

from ...errors import ConnectorError, InputError, PlatformAuthError, PlatformRefused, shown_id
from ...httpretry import ClientOptions, RetryingClient, RetryPolicy, host_of, json_object, send
from ...jsonshape import object_in
from ...timeutil import utc
from ..common import Token, answer_body, current_secret, path_segment, redacted, token_value
from ..pulling import PullStopped

if TYPE_CHECKING:
    from ...settings import Settings


# Issuing and reading an issuer's assertions need no more than this (the default grant adds
# rw:profile and rw:backpack, which the connector never uses).
SCOPE = "rw:issuer"
DEFAULT_EXPIRES_IN = 86400.0  # Badgr's documented token lifetime, when an answer omits it
REFUSED_GRANT = (400, 401, 403)  # invalid_grant / invalid_client: the credentials, not the server
MAX_PAGE = 500  # the largest `num` an assertion list answers
THROTTLE_BODY_BYTES = 4096  # a throttling answer's body is read for its `expires` up to this size
# Without both flags the lists silently leave expired and revoked assertions out.
LIST_EVERYTHING = {"include_expired": "true", "include_revoked": "true"}
# A Date header counts whole seconds and is a network trip old: a platform clock behind ours by
# less than this cannot be told from none.
DATE_RESOLUTION = 2.0


class BadgrAuthError(PlatformAuthError):
    """Canvas Credentials refused the account or its token: check BADGR_USERNAME / BADGR_PASSWORD."""

    platform = "badgr"


class BadgrNotFound(PlatformRefused):
    """Canvas Credentials has no such issuer or badge class, or does not show it to this account
    (404: the API answers that for another account's entities too). A definite refusal: an award
    to it is rejected, a pull stops."""

    @classmethod
    def of(cls, entity: str, response: requests.Response) -> BadgrNotFound:
        return cls(
            f"Canvas Credentials shows no {entity} to BADGR_USERNAME (HTTP 404: {_description(response)}): "
            "it is another account's, deleted, or in another region than BADGR_API_BASE"
        )


class BadgrIssuedOnRefused(PlatformRefused):
    """Canvas Credentials refused the assertion's issuedOn (400 with fieldErrors.issuedOn), which
    it does for one after its own now: nothing was saved."""


class BadgrClient(RetryingClient):
    def __init__(
        self,
        api_base: str,
        username: str,
        password: Token,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        notify: bool | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(**options)
        self.session.hooks["response"].append(_throttle_as_retry_after)
        self.session.hooks["response"].append(self._note_date)
        self.base = api_base.rstrip("/")
        self.notify = notify  # BADGR_NOTIFY: None leaves the e-mail to the platform's default
        self.username = username
        self._password = password
        self._clock = clock
        self._wall = wall  # our clock, compared with the platform's Date headers
        self._behind: float | None = None  # the platform's clock minus ours, at least; None: no Date seen
        self._lock = threading.Lock()  # one renewal at a time when threads share the client
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BadgrClient:
        """The registry has checked that BADGR_USERNAME and BADGR_PASSWORD are set."""
        password = current_secret(settings, "badgr_password")
        return cls(
            settings.badgr_api_base,
            str(settings.badgr_username),
            password,
            notify=settings.badgr_notify,
            retry=cls.policy_from(settings),
        )

    # -- API -----------------------------------------------------------------------------------

    def issue_assertion(self, badgeclass_id: str, payload: dict) -> dict:
        """POST an assertion of the badge class; the assertion object (`result[0]` of the envelope)."""
        url = f"{self.base}/v2/badgeclasses/{_segment(badgeclass_id)}/assertions"
        # Badgr accepts duplicates: never repeat an award that may have gone through.
        response = self._authorized("POST", url, "issue assertion", json=payload, idempotent=False)
        if response.status_code == 404:
            raise BadgrNotFound.of(f"badge class {shown_id(badgeclass_id)}", response)
        if 400 <= response.status_code < 500:
            refused = BadgrIssuedOnRefused if _refused_field(response, "issuedOn") else PlatformRefused
            raise refused(
                f"Canvas Credentials refused the assertion (HTTP {response.status_code}): {_description(response)}"
            )
        if response.status_code not in (200, 201):  # the award may exist: the ledger keeps the claim
            raise ConnectorError(
                f"Canvas Credentials answered {response.status_code} to issue assertion: check the platform"
            )
        result = json_object(response, "Canvas Credentials issue assertion").get("result")
        if not isinstance(result, list) or not result or not isinstance(result[0], dict):
            raise ConnectorError(
                "Canvas Credentials answered issue assertion without the assertion: check the platform"
            )
        return result[0]

    def issuer_ids(self) -> list[str]:
        """The entity ids of every issuer the account is staff of (`GET /v2/issuers`)."""
        issuers = _result(self._get_json(f"{self.base}/v2/issuers", "issuer list"), "issuer list")
        ids = [str(issuer["entityId"]) for issuer in issuers if isinstance(issuer, dict) and issuer.get("entityId")]
        if len(ids) != len(issuers):
            raise ConnectorError("Canvas Credentials answered an issuer without an entityId: check the platform")
        return ids

    def assertion_pages(
        self, issuer_id: str, resume: str | None = None, num: int = MAX_PAGE
    ) -> Iterator[tuple[dict, str | None]]:
        """(page envelope, the next page's URL or None) of one issuer's assertions, in the order
        the server lists them (no order is documented), from `resume` (a next link given
        earlier) or the first page. Expired and revoked assertions are only listed when asked
        for: both flags are always sent."""
        issuer = f"issuer {shown_id(issuer_id)}"
        if resume:
            return self._linked_pages(self.checked_link(resume), None, "assertion list", issuer)
        url = f"{self.base}/v2/issuers/{_segment(issuer_id, 'issuer', 'entityId')}/assertions"
        return self._linked_pages(url, {**LIST_EVERYTHING, "num": str(num)}, "assertion list", issuer)

    def recipient_assertions(self, badgeclass_id: str, email: str) -> list[dict]:
        """Every assertion of the badge class to this recipient, revoked and expired ones too
        (`GET /v2/badgeclasses/{id}/assertions?recipient=`; Badgr stores addresses in lower case)."""
        url = f"{self.base}/v2/badgeclasses/{_segment(badgeclass_id)}/assertions"
        params = {"recipient": email.lower(), **LIST_EVERYTHING, "num": str(MAX_PAGE)}
        pages = self._linked_pages(url, params, "badge class assertions", f"badge class {shown_id(badgeclass_id)}")
        return [item for page, _ in pages for item in page["result"] if isinstance(item, dict)]

    def _linked_pages(self, url: str, params: dict | None, what: str, entity: str) -> Iterator[tuple[dict, str | None]]:
        """Pages chained by `Link: <url>; rel="next"`."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            url = next_url
            seen.add(url)
            response = self._get(url, what, params, entity)
            page = json_object(response, f"Canvas Credentials {what}")
            _result(page, what)
            link = response.links.get("next", {}).get("url")
            next_url = self._next(url, link, seen) if link else None
            yield page, next_url
            params = None

    def changed_pages(self, since: str, resume: str | None = None) -> Iterator[tuple[dict, str | None]]:
        """(page envelope, the next page's URL or None) of `GET /v2/assertions/changed`: every
        assertion of the account's issuers updated after `since` (ISO 8601 with its offset),
        revoked and expired ones included; each page carries the server's `timestamp`, taken
        before its query ran. From `resume` (a nextResults given earlier) or the first page."""
        url: str | None
        if resume:
            url, params = self.checked_link(resume), None
        else:
            url, params = f"{self.base}/v2/assertions/changed", {"since": since}
        seen: set[str] = set()
        while url:
            seen.add(url)
            page = json_object(self._get(url, "changed assertions", params), "Canvas Credentials changed assertions")
            _result(page, "changed assertions")
            pagination = object_in(page, "pagination")
            next_url = None
            # Older servers fill nextResults on the last page too: hasNext decides.
            if pagination.get("hasNext") is True:
                if not pagination.get("nextResults"):
                    raise ConnectorError(
                        "Canvas Credentials' changed feed says hasNext without nextResults: check the platform"
                    )
                next_url = self._next(url, str(pagination["nextResults"]), seen)
            yield page, next_url
            url, params = next_url, None

    def badgeclass(self, entity_id: str) -> dict:
        """The badge class (`GET /v2/badgeclasses/{entityId}`, `result[0]`)."""
        url = f"{self.base}/v2/badgeclasses/{_segment(entity_id, field='badgeclass')}"
        shown = f"badge class {shown_id(entity_id)}"
        result = _result(self._get_json(url, shown, entity=shown), "badge class")
        if not result or not isinstance(result[0], dict):
            raise ConnectorError(f"Canvas Credentials answered badge class {shown_id(entity_id)} without it")
        return result[0]

    def checked_link(self, url: str) -> str:
        """A link to follow with our token: only to the API's own scheme and host."""
        if urlsplit(url)[:2] != urlsplit(self.base)[:2]:
            raise ConnectorError(f"Canvas Credentials' next link leaves {urlsplit(self.base).netloc}: not followed")
        return url

    def platform_now(self) -> datetime:
        """Now by the platform's clock when its Date headers show it behind ours by more than
        DATE_RESOLUTION (never later than its now, then), else by ours. Before any answer, the token
        grant every call needs first is made, for its Date."""
        if self._behind is None:
            self._bearer()
        behind = self._behind or 0.0
        return datetime.fromtimestamp(self._wall() + (behind if behind < -DATE_RESOLUTION else 0.0), UTC)

    def _note_date(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        """The platform's clock minus ours, at least: its Date (whole seconds, taken before it
        answered) against our clock once the answer is here."""
        try:
            dated = utc(parsedate_to_datetime(response.headers.get("Date", "")))
        except (TypeError, ValueError, OverflowError):  # none, or unreadable: the last one stands
            return response
        self._behind = dated.timestamp() - self._wall()
        return response

    def _next(self, current: str, link: str, seen: set[str]) -> str:
        url = self.checked_link(urljoin(current, link))
        if url in seen:
            raise PullStopped("Canvas Credentials' next link repeats an earlier page")
        return url

    def _get(self, url: str, what: str, params: dict | None = None, entity: str | None = None) -> requests.Response:
        response = self._authorized("GET", url, what, params=params)
        if response.status_code == 404:
            raise BadgrNotFound.of(entity or what, response)
        if response.status_code != 200:
            raise PlatformRefused(
                f"Canvas Credentials answered {response.status_code} for {what}: {_description(response)}"
            )
        return response

    def _get_json(self, url: str, what: str, params: dict | None = None, entity: str | None = None) -> dict:
        return json_object(self._get(url, what, params, entity), f"Canvas Credentials {what}")

    # -- OAuth2 --------------------------------------------------------------------------------

    def _authorized(self, method: str, url: str, what: str, **kwargs: object) -> requests.Response:
        token = self._bearer()
        response = self._send(method, url, f"Canvas Credentials {what}", headers=_auth(token), **kwargs)
        if response.status_code == 401:  # expired or revoked before our clock said so: renew once
            self._forget(token)
            response = self._send(method, url, f"Canvas Credentials {what}", headers=_auth(self._bearer()), **kwargs)
        if response.status_code == 401:
            raise BadgrAuthError(
                f"Canvas Credentials at {host_of(self.base)} refused a fresh token (HTTP 401) for {what}: "
                "check BADGR_USERNAME / BADGR_PASSWORD"
            )
        if response.status_code == 403:
            raise BadgrAuthError(
                f"Canvas Credentials at {host_of(self.base)} refused {what} (HTTP 403): "
                "BADGR_USERNAME must be an owner, editor or "
                f"staff member of the badge class's issuer: {_description(response)}"
            )
        return response

    def _bearer(self) -> str:
        with self._lock:
            if self._access is None or self._clock() >= self._renew_at:
                self._access = self._renew()
            return self._access

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._access == token:  # another thread may already have renewed it
                self._access = None

    def _renew(self) -> str:
        answer = self._refreshed() if self._refresh else None
        answer = answer or self._password_grant()
        self._refresh = str(answer.get("refresh_token") or "") or None
        lifetime = _seconds(answer.get("expires_in"))
        # Renew a little early (a tenth of the lifetime, at most a minute) so a token never
        # expires between the check and the request.
        self._renew_at = self._clock() + lifetime - min(60.0, lifetime / 10)
        return str(answer["access_token"])

    def _refreshed(self) -> dict | None:
        """The refresh grant's answer, one try; None when anything stopped it (refused, expired,
        throttled, unreachable): the password grant still works, with the usual retries."""
        form = {"grant_type": "refresh_token", "refresh_token": str(self._refresh)}
        self._refresh = None  # used up, whatever the answer
        try:
            return self._grant(form, "refresh grant", dataclasses.replace(self.retry, attempts=1))
        except (_GrantRefused, ConnectorError):
            return None

    def _password_grant(self) -> dict:
        password = token_value(self._password)
        form = {"grant_type": "password", "username": self.username, "password": password, "scope": SCOPE}
        try:
            return self._grant(form, "password grant")
        except _GrantRefused as refused:
            raise BadgrAuthError(
                f"Canvas Credentials at {host_of(self.base)} refused the password grant ({refused}): "
                "check BADGR_USERNAME / BADGR_PASSWORD"
            ) from None

    def _grant(self, form: dict, what: str, policy: RetryPolicy | None = None) -> dict:
        """The token answer; _GrantRefused when the grant itself was refused."""
        response = send(
            self.session,
            "POST",
            f"{self.base}/o/token",
            policy=policy or self.retry,
            sleep=self.sleep,
            what=f"Canvas Credentials {what}",
            timeout=self.timeout,
            data=form,
            headers={"Accept": "application/json"},
        )
        if response.status_code in REFUSED_GRANT:
            raise _GrantRefused(_oauth_error(response))
        if response.status_code != 200:  # 404/405: not a Badgr token endpoint
            raise BadgrAuthError(
                f"Canvas Credentials token endpoint at {host_of(self.base)} answered {response.status_code} "
                f"to the {what}: check BADGR_API_BASE"
            )
        answer = json_object(response, f"Canvas Credentials {what}")
        if not answer.get("access_token"):
            raise BadgrAuthError(
                f"Canvas Credentials answered the {what} without an access token: check BADGR_API_BASE"
            )
        return answer


class _GrantRefused(Exception):
    """The token endpoint refused a grant (invalid_grant, invalid_client): its OAuth2 error."""


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _segment(value: str, what: str = "badge class", field: str = "credential.id") -> str:
    # A definite refusal (no request was made): the worker records it as a rejected award.
    return path_segment(value, lambda shown: InputError(field, f"not a usable Canvas Credentials {what} id: {shown!r}"))


def _result(envelope: dict, what: str) -> list:
    """The envelope's `result` list."""
    result = envelope.get("result")
    if not isinstance(result, list):
        raise ConnectorError(f"Canvas Credentials answered the {what} without a result list")
    return result


def _seconds(value: object) -> float:
    if not isinstance(value, (int, float, str)):
        return DEFAULT_EXPIRES_IN
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN


def _oauth_error(response: requests.Response) -> str:
    """`error: error_description` of an OAuth2 refusal (RFC 6749 5.2); never the request's secrets."""
    body = answer_body(response)
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [str(body[key]) for key in ("error", "error_description") if body.get(key)]
    return redacted(": ".join(parts) or f"HTTP {response.status_code}", 200)


def _throttle_as_retry_after(response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
    """Badgr's throttled token endpoint answers 429 with the seconds to wait in its body
    (`expires`) and no Retry-After, the header the shared retry honours (up to its cap). Only a
    small body of declared length is read here (the retry reads every other one, bounded)."""
    declared = response.headers.get("Content-Length", "")
    small = declared.isdigit() and int(declared) <= THROTTLE_BODY_BYTES
    if response.status_code == 429 and small and "Retry-After" not in response.headers:
        body = answer_body(response)
        seconds = body.get("expires") if isinstance(body, dict) else None
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0:
            response.headers["Retry-After"] = str(seconds)
    return response


def _refused_field(response: requests.Response, field: str) -> bool:
    """A 400 naming this field in its fieldErrors."""
    body = answer_body(response) if response.status_code == 400 else None
    errors = body.get("fieldErrors") if isinstance(body, dict) else None
    return isinstance(errors, dict) and field in errors


def _description(response: requests.Response) -> str:
    """The envelope's status.description plus field and validation errors, short, no emails."""
    body = answer_body(response)
    if not isinstance(body, dict):
        return redacted(str(body))
    parts = [str((body.get("status") or {}).get("description") or body.get("detail") or "")]
    if body.get("fieldErrors"):
        parts.append(f"fieldErrors {body['fieldErrors']}")
    if body.get("validationErrors"):
        parts.append(f"validationErrors {body['validationErrors']}")
    text = "; ".join(p for p in parts if p) or str(body)
    return redacted(text)


CLIENT = BadgrClient  # what the registry loads
