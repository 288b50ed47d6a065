"""What GET /health reports: up or down to anyone; the details (queue depth, dead letters,
counters, flags, LRS reachability) to the holder of STATUS_TOKEN (GET /health/details).

The unauthenticated answer comes from the last full check, made at most every
HEALTH_LRS_CHECK_SECONDS: anyone may call GET /health, so it must not let them drive reads of
the store, the queue or the LRS at will."""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from . import __version__
from .connections import named_connections
from .errors import ConnectorError, SettingsError
from .platforms import platform, unset_settings, webhook_settings
from .runtime import Services

if TYPE_CHECKING:
    from .intake.http import Reply
    from .settings import Settings


class HealthChecks(BaseModel):
    """What report() puts under `checks` (GET /openapi.json documents it from this model)."""

    model_config = ConfigDict(extra="forbid")

    queue_depth: int | None = Field(description="messages waiting; null when the queue cannot tell")
    dead_letters: int | SkipJsonSchema[None] = Field(None, description="absent when the state store is unreachable")
    counters: dict[str, int] | SkipJsonSchema[None] = Field(None, description="delivered, skipped, duplicates...")
    store: str | SkipJsonSchema[None] = Field(None, description="present only when the state store is unreachable")
    problems: dict[str, str] | SkipJsonSchema[None] = Field(
        None, description="flags an operator must act on (e.g. a platform refused the connector's credentials)"
    )
    lrs: str = Field(description="`reachable`, or `unreachable: <why>`")
    lrs_checked_with: str | SkipJsonSchema[None] = Field(
        None, description="how the LRS was reached: `GET /about`, or a one-statement GET for an LRS without /about"
    )
    routes_not_configured: list[str] | SkipJsonSchema[None] = Field(
        None,
        description="settings not set: the routes needing them answer 503 (a named connection's: "
        "`<SETTING> of connection <name> (CONNECTIONS)`)",
    )
    connections: str | SkipJsonSchema[None] = Field(
        None, description="present only when the CONNECTIONS file cannot be used: why (its routes answer 503)"
    )


class HealthStatus(BaseModel):
    """GET /health: 200 when ok, 503 when degraded (store or LRS unreachable, or problems flagged)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "degraded"]
    version: str = Field(description="the connector's version")


class HealthReport(HealthStatus):
    """GET /health/details: the status and what it was judged on."""

    checks: HealthChecks


def status(services: Services) -> dict:
    """The body of GET /health, shaped as HealthStatus: the last report's status, checked anew
    only when it is older than HEALTH_LRS_CHECK_SECONDS."""
    with _last_lock:
        last = _last.get(services)
    if last is None or time.monotonic() - last[0] >= services.settings.health_lrs_check_seconds:
        return {"status": report(services)["status"], "version": __version__}
    return {"status": last[1], "version": __version__}


# When each connector's last report was made, and its status.
_last: weakref.WeakKeyDictionary[Services, tuple[float, str]] = weakref.WeakKeyDictionary()
_last_lock = threading.Lock()


def report(services: Services) -> dict:
    """The body of GET /health/details, shaped as HealthReport."""
    body = _checked(services)
    with _last_lock:
        _last[services] = (time.monotonic(), body["status"])
    return body


REFUSED = "missing or wrong bearer token"


def details(services: Services, authorization: str | None) -> Reply:
    """GET /health/details: the report to the holder of STATUS_TOKEN (Bearer), fresh on every call;
    401 to anyone else, 503 naming the setting when it is not set."""
    from .intake.http import Reply, answers_errors, token_refusal

    @answers_errors
    def answer() -> Reply:
        refusal = token_refusal(services.settings, "STATUS_TOKEN", authorization, REFUSED)
        if refusal is not None:
            return refusal
        body = report(services)
        return Reply(200 if body["status"] == "ok" else 503, body)

    return answer()


def _checked(services: Services) -> dict:
    settings = services.settings
    body: dict = {"status": "ok", "version": __version__, "checks": {}}
    checks = body["checks"]
    checks["queue_depth"] = services.queue.depth()
    try:
        checks["dead_letters"] = services.store.count_dead_letters()
        checks["counters"] = services.store.counters()
        flags = services.store.flags()
    except Exception as error:  # the state store itself is down: say so, do not answer 500
        checks["store"] = f"unreachable: {type(error).__name__}"
        flags = {}
        body["status"] = "degraded"
    if flags:
        checks["problems"] = flags
        body["status"] = "degraded"
    checks["lrs"], checked_with = _lrs_check(services)
    if checked_with:
        checks["lrs_checked_with"] = checked_with
    if checks["lrs"] != "reachable":
        body["status"] = "degraded"
    needed = [*webhook_settings(), "LAP_TOKEN", "SHARE_LINKS_TOKEN", "SHARE_LINK_SECRET"]
    missing = unset_settings(settings, needed)
    try:
        missing += _named_routes_not_configured(settings)
    except SettingsError as error:
        checks["connections"] = str(error)
        body["status"] = "degraded"
    if missing:
        checks["routes_not_configured"] = missing
    return body


def _named_routes_not_configured(settings: Settings) -> list[str]:
    """What each named connection's webhook route lacks; SettingsError when the file cannot be used."""
    missing = []
    for conn in named_connections(settings):
        hook = platform(conn.platform).webhook
        if hook is not None:
            unset = unset_settings(conn.settings, (hook.secret, *hook.needs))
            missing += [f"{name} of connection {conn.name} (CONNECTIONS)" for name in unset]
    return missing


# The last LRS answer per endpoint: GET /health is unauthenticated, so it must not let anyone
# make the connector call the LRS at will.
_lrs_answers: dict[str, tuple[float, tuple[str, str | None]]] = {}


def _lrs_check(services: Services) -> tuple[str, str | None]:
    """(`reachable` or `unreachable: <why>`, how it was reached)."""
    settings = services.settings
    now = time.monotonic()
    hit = _lrs_answers.get(settings.lrs_endpoint)
    if hit and now - hit[0] < settings.health_lrs_check_seconds:
        return hit[1]
    answer = _ask_lrs(services)
    _lrs_answers[settings.lrs_endpoint] = (now, answer)
    return answer


def _ask_lrs(services: Services) -> tuple[str, str | None]:
    from .httpretry import RetryPolicy
    from .xapi.lrs import LrsClient

    # One quick try: a health check must answer before the load balancer gives up.
    try:
        client = LrsClient.from_settings(services.settings, timeout=(1.0, 2.0), retry=RetryPolicy(attempts=1))
        checked_with = client.check()
    except (ConnectorError, requests.RequestException) as error:
        return f"unreachable: {error}", None
    return "reachable", checked_with
