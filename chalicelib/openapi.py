"""GET /openapi.json: the OpenAPI 3.1 document of every route, generated from the pydantic models
the routes read and answer with (pydantic JSON Schemas, all generated in one pass: their $defs become
components/schemas, one per model).

Built on the first request and kept for the life of the process: app.py imports this module inside
the route, so a cold start pays nothing for a document few callers ask for.

This module only assembles: answers are intake.models and health.HealthReport; request bodies are
the models next to the code that checks them: each platform's webhook route (its webhook.py ROUTE,
from the registry: path, body model, its own refusals and security scheme; the answers follow from
its Webhook), awards.inputs.LapStatements (check_statement) and awards.inputs.Report."""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from . import __version__
from .awards.inputs import LapStatements, Report
from .health import REFUSED as HEALTH_REFUSED
from .health import HealthReport, HealthStatus
from .intake import auth
from .intake.lap import REFUSED as LAP_REFUSED
from .intake.models import (
    Accepted,
    AcceptedCounted,
    Duplicate,
    Error,
    FieldError,
    ShareLinkCreated,
    ShareLinkRequest,
    Skipped,
)
from .platforms import Webhook, WebhookRoute, webhook_routes
from .share.service import NOT_FOUND as SHARE_NOT_FOUND
from .status import REFUSED as STATUS_REFUSED
from .status import StatusReport

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
JSON = "application/json"

CSV_REPORT = {
    "type": "string",
    "description": "a header row: learner columns (email, name, employee_id, account_name, account_homepage; "
    "one of email, employee_id, account_name at least) and one column per value",
    "example": "email,name,courses_completed,exam_score\nada.lovelace@example.com,Ada Lovelace,4,0.86\n",
}


# -- the document --------------------------------------------------------------------------------


def document_json() -> str:
    """The document, serialized once per process."""
    return _serialized()


@functools.cache
def _serialized() -> str:
    return json.dumps(document(), separators=(",", ":"))


@functools.cache
def document() -> dict[str, Any]:
    schemas = _Schemas()
    body = schemas.request
    answer = schemas.response
    problems = {
        400: (
            "what was sent cannot be used: the field (a dotted path, `(body)`, `line N` of a CSV) is named",
            FieldError,
        ),
        413: ("a document larger than a queue message (1 MiB): nothing was queued", Error),
        503: (
            "the route is not configured (the setting is named) or its secret cannot be read, or the queue "
            "is unavailable: retry later",
            Error,
        ),
    }

    def refused(message: str) -> tuple[str, type[BaseModel]]:
        return (f"refused: `{message}`", Error)

    def operation(
        operation_id: str,
        summary: str,
        description: str,
        request: dict[str, Any],
        answers: dict[int, tuple[str, Any]],
        security: list[dict[str, list[str]]] | None = None,
        parameters: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {"operationId": operation_id, "summary": summary, "description": description}
        if parameters:
            spec["parameters"] = parameters
        spec["requestBody"] = {"required": True, "content": request}
        responses = {
            str(status): _response(text, answer(kind)) for status, (text, kind) in {**problems, **answers}.items()
        }
        spec["responses"] = dict(sorted({**responses, "415": UNSUPPORTED_MEDIA_TYPE}.items()))
        if security is not None:
            spec["security"] = security
        return spec

    def webhook(hook: Webhook, route: WebhookRoute) -> dict[str, Any]:
        kinds = Accepted | AcceptedCounted | Duplicate if hook.many else Accepted | Duplicate | Skipped
        answers = {
            hook.ack_status: (route.accepted, kinds),
            401: (f"refused: `{auth.REFUSALS[hook.auth]}`{REFUSAL_NOTES.get(hook.auth, '')}", Error),
            **{status: (text, Error) for status, text in route.refusals},
        }
        in_path = hook.auth == "path_token"
        return operation(
            route.operation_id,
            route.summary,
            route.description,
            {JSON: {"schema": body(route.body)}},
            answers,
            security=None if in_path else [{_security(route)[0]: []}],
            parameters=[_path_token(hook.secret)] if in_path else None,
        )

    routes = webhook_routes()
    paths: dict[str, Any] = {route.path: {"post": webhook(hook, route)} for hook, route in routes}
    paths |= {
        "/lap/statements": {
            "post": operation(
                "lapStatements",
                "Forwarded xAPI statements",
                "One statement or an array, as an LRS's statement forwarding sends them; evidence for the award "
                "rules. A statement whose id was received before is counted, not queued again.",
                {JSON: {"schema": body(LapStatements)}},
                {
                    202: ("queued; `duplicates` counts the statements received before", AcceptedCounted),
                    401: refused(LAP_REFUSED),
                },
                security=[{"lapBearer": []}, {"lapBasic": []}],
            )
        },
        "/lap/reports": {
            "post": operation(
                "lapReports",
                "Learning analytics report rows",
                "JSON (`report` and `rows`), or CSV with `?report=<report id>`; one queue message per row.",
                {JSON: {"schema": body(Report)}, "text/csv": {"schema": CSV_REPORT}},
                {
                    202: ("queued: one id per row", Accepted),
                    401: ("refused: `missing or wrong bearer token` (Bearer `LAP_TOKEN` only)", Error),
                },
                security=[{"lapBearer": []}],
                parameters=[
                    {
                        "name": "report",
                        "in": "query",
                        "required": False,
                        "description": "the report's id: required with text/csv, ignored with JSON",
                        "schema": {"type": "string"},
                    }
                ],
            )
        },
        "/share-links": {
            "post": operation(
                "createShareLink",
                "A tracked share link",
                "For a share button or an email template: the credential's public URL and the channel. The earner and "
                "the credential are read from its earned statement in the LRS unless the body names them; the `shared` "
                "statement is queued. See docs/sharing.md.",
                {JSON: {"schema": body(ShareLinkRequest)}},
                {
                    201: ("the short link (and LinkedIn's add-to-profile URL for channel linkedin)", ShareLinkCreated),
                    401: refused(auth.REFUSALS["bearer"]),
                    404: (
                        "no earned statement in the LRS names the credential, and the body does not say enough",
                        Error,
                    ),
                },
                security=[{"shareLinksBearer": []}],
            )
        },
        "/s/{token}": {
            "get": {
                "operationId": "followShareLink",
                "summary": "Follow a tracked share link",
                "description": "Redirects to the credential's page at once; a person's first click per window queues a "
                "`viewed` statement (crawlers drawing link previews are counted, not queued).",
                "parameters": [
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "description": "the link's signed token, as POST /share-links made it",
                        "schema": {"type": "string", "minLength": 1},
                    }
                ],
                "responses": {
                    "302": {
                        "description": "to the credential's public page",
                        "headers": {"Location": {"required": True, "schema": {"type": "string", "format": "uri"}}},
                    },
                    "404": _response(
                        "not a link this connector made (unknown, malformed or tampered token): "
                        f"`{SHARE_NOT_FOUND}`; nothing is recorded",
                        answer(Error),
                    ),
                    "415": UNSUPPORTED_MEDIA_TYPE,
                    "503": _response("SHARE_LINK_SECRET is not set, or the store is unavailable", answer(Error)),
                },
            }
        },
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Health",
                "description": "Up or down, and the version; no counts. Judged on the last full check, made at most "
                "every `HEALTH_LRS_CHECK_SECONDS`. What it is judged on: GET /health/details.",
                "responses": {
                    "200": _response("ok", answer(HealthStatus)),
                    "415": UNSUPPORTED_MEDIA_TYPE,
                    "503": _response("degraded", answer(HealthStatus)),
                },
            }
        },
        "/health/details": {
            "get": {
                "operationId": "healthDetails",
                "summary": "Health, with what it is judged on",
                "description": "Queue depth, dead letters, counters, LRS reachability, problems flagged, routes not "
                "configured, read on every call; never secrets.",
                "responses": {
                    "200": _response("ok", answer(HealthReport)),
                    "401": _response(f"refused: `{HEALTH_REFUSED}`", answer(Error)),
                    "415": UNSUPPORTED_MEDIA_TYPE,
                    "503": _response(
                        "degraded (the report), or `STATUS_TOKEN` is not set or cannot be read (an error)",
                        {"oneOf": [answer(HealthReport), answer(Error)]},
                    ),
                },
                "security": [{"statusBearer": []}],
            }
        },
        "/status": {
            "get": {
                "operationId": "status",
                "summary": "Whether data flows",
                "description": "What `python -m chalicelib status --json` prints: per source and mode the last run and "
                "the last successful one, cursors and their age, next scheduled runs, the queue, dead "
                "letters by source and reason, credentials last verified, what is not configured. Read "
                "from the store and the queue only. 200 whether `status` is `ok` or `attention`.",
                "responses": {
                    "200": _response("the report", answer(StatusReport)),
                    "401": _response(f"refused: `{STATUS_REFUSED}`", answer(Error)),
                    "415": UNSUPPORTED_MEDIA_TYPE,
                    "503": _response("`STATUS_TOKEN` is not set or cannot be read", answer(Error)),
                },
                "security": [{"statusBearer": []}],
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": _response("the OpenAPI 3.1 document", {"type": "object"}),
                    "415": UNSUPPORTED_MEDIA_TYPE,
                },
            }
        },
    }
    for _hook, route in routes:
        paths[route.connection_path] = {
            "post": _for_connection(paths[route.path]["post"], _response(CONNECTION_404, answer(Error)))
        }
    security = SECURITY_SCHEMES | dict(_security(route) for hook, route in routes if hook.auth != "path_token")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "credential-connector",
            "version": __version__,
            "description": "Receives credential webhooks and learning-analytics evidence, answers at once and "
            "queues the work. Every answer is JSON.",
        },
        "paths": paths,
        "components": {"schemas": schemas.finish(), "securitySchemes": security},
    }


# The webhook routes' schemes come from their platforms (ROUTE.security).
SECURITY_SCHEMES: dict[str, Any] = {
    "shareLinksBearer": {"type": "http", "scheme": "bearer", "description": "`SHARE_LINKS_TOKEN`"},
    "lapBearer": {"type": "http", "scheme": "bearer", "description": "`LAP_TOKEN`"},
    "statusBearer": {"type": "http", "scheme": "bearer", "description": "`STATUS_TOKEN`"},
    "lapBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "any user name, `LAP_TOKEN` as the password (Learning Locker's forwarding)",
    },
}


# Chalice refuses a Content-Type the route does not list (every route lists application/json only,
# but /lap/reports) before the route runs, with a body of its own and no Content-Type header.
UNSUPPORTED_MEDIA_TYPE: dict[str, Any] = {
    "description": "the request's Content-Type is not one the operation takes (a request without one is taken "
    "as application/json); answered by the framework before the route runs, without a "
    'Content-Type header: `{"Code": "UnsupportedMediaType", "Message": "Unsupported media type: ..."}`',
}


# A signed body is refused before it is read.
REFUSAL_NOTES = {"signature": "; nothing is stored"}

# A named connection's routes (CONNECTIONS, docs/platforms.md; ROUTE.connection_path) answer as the
# default connection's, checked against that connection's own secret and settings.
CONNECTION_404 = "no connection of this platform by that name (the names are not listed)"


def _for_connection(operation: dict[str, Any], not_found: dict[str, Any]) -> dict[str, Any]:
    parameter = {
        "name": "connection",
        "in": "path",
        "required": True,
        "description": "the named connection (its name in the CONNECTIONS file)",
        "schema": {"type": "string", "minLength": 1},
    }
    return {
        **operation,
        "operationId": operation["operationId"] + "Connection",
        "description": operation["description"] + " A named connection's route: its own secret and settings.",
        "parameters": [parameter, *operation.get("parameters", [])],
        "responses": dict(sorted({**operation["responses"], "404": not_found}.items())),
    }


def _security(route: WebhookRoute) -> tuple[str, dict[str, Any]]:
    if route.security is None:
        raise ValueError(f"{route.path}: a webhook not authenticated by its path names its security scheme")
    return route.security


def _path_token(secret: str) -> dict[str, Any]:
    return {
        "name": "token",
        "in": "path",
        "required": True,
        "description": f"the secret webhook token (`{secret}`): OpenAPI has no security scheme for a "
        "credential in the path",
        "schema": {"type": "string", "minLength": 1},
    }


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


class _Schemas:
    """Collects the JSON Schemas of the document's types, then generates them in one pass so that
    every model is one component, named once (a placeholder stands in until finish())."""

    def __init__(self) -> None:
        self._wanted: list[tuple[int, JsonSchemaMode, TypeAdapter[Any]]] = []
        self._placeholders: dict[int, dict[str, Any]] = {}

    def request(self, kind: Any) -> dict[str, Any]:
        return self._add(kind, "validation")

    def response(self, kind: Any) -> dict[str, Any]:
        return self._add(kind, "serialization")

    def _add(self, kind: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        key = len(self._wanted)
        self._wanted.append((key, mode, TypeAdapter(kind)))
        self._placeholders[key] = {}
        return self._placeholders[key]

    def finish(self) -> dict[str, Any]:
        generated, definitions = TypeAdapter.json_schemas(self._wanted, ref_template=REF)
        for (key, _mode), schema in generated.items():
            self._placeholders[key].update(_tidy(schema))
        components = {name: _tidy(schema) for name, schema in definitions.get("$defs", {}).items()}
        return dict(sorted(components.items()))


def _tidy(node: Any) -> Any:
    """Without `"default": null` where null is not allowed: an optional field left out of the JSON
    Schema's null branch (SkipJsonSchema) is absent when not given, never null."""
    if isinstance(node, dict):
        nullable = node.get("type") == "null" or any(
            isinstance(option, dict) and option.get("type") == "null" for option in node.get("anyOf", ())
        )
        return {
            key: _tidy(value)
            for key, value in node.items()
            if not (key == "default" and value is None and not nullable)
        }
    if isinstance(node, list):
        return [_tidy(value) for value in node]
    return node
