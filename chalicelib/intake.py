"""What the webhook routes do: authenticate, check the shape, de-duplicate, enqueue, answer fast.

Nothing here calls a platform or the LRS: the worker does that after the answer has gone.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Callable


from .awards.inputs import check_statement, parse_report_csv, parse_report_json
from .errors import DetailsRequired, InputError, SettingsError
from .observability import log
from .secrets import reveal
from .queue import MessageTooLarge, Queue, QueueMessage
from .settings import Settings
from .sources import adapter_for
from .sources.credly import SKIPPED_EVENT_PREFIXES
from .store import Store


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict = field(default_factory=dict)


def _config_errors_are_503(route: Callable[..., Reply]) -> Callable[..., Reply]:
    """A secret that cannot be read is the operator's problem, never a 500 for the caller."""

    @functools.wraps(route)
    def guarded(*args: Any, **kwargs: Any) -> Reply:
        try:
            return route(*args, **kwargs)
        except SettingsError as error:
            log("configuration_error", route=route.__name__, error=str(error))
            return Reply(503, {"error": f"the connector is misconfigured: {error}"})

    return guarded


class Intake:
    def __init__(self, settings: Settings, store: Store, queue: Queue) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue

    # -- Credly: unsigned thin notifications, protected by a secret path token ------------------

    @_config_errors_are_503
    def credly(self, path_token: str, raw_body: bytes) -> Reply:
        expected = reveal(self.settings, "credly_webhook_token")
        if expected is None or not self.settings.credly_org_id:
            return _not_configured("CREDLY_WEBHOOK_TOKEN and CREDLY_ORG_ID")
        if not _same_secret(path_token, expected):
            return Reply(401, {"error": "unknown webhook token"})
        notification, problem = _json_object(raw_body)
        if problem:
            return problem
        for key in ("id", "organization_id", "event_type"):
            if not isinstance(notification.get(key), str) or not notification[key]:
                return _bad_request(key, "missing or not a string")
        if notification["organization_id"] != self.settings.credly_org_id:
            return Reply(403, {"error": "organization_id is not this connector's organisation"})
        if notification["event_type"].startswith(SKIPPED_EVENT_PREFIXES):
            self.store.increment({"skipped": 1})
            return Reply(200, {"status": "skipped", "rule": notification["event_type"]})
        message = QueueMessage(
            source="credly", kind="notification", body=notification, event_id=notification["id"]
        )
        # Credly retries anything but 200 for days: every accepted outcome answers 200.
        return self._enqueue_once(f"credly:{notification['id']}", [message], accepted_status=200)

    # -- Certifier: HMAC-signed bodies ---------------------------------------------------------

    @_config_errors_are_503
    def certifier(self, signature: str | None, raw_body: bytes) -> Reply:
        secret = reveal(self.settings, "certifier_webhook_secret")
        if secret is None:
            return _not_configured("CERTIFIER_WEBHOOK_SECRET")
        digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
        given = (signature or "").strip().lower().encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(digest.encode(), given):
            return Reply(401, {"error": "X-Webhook-Signature does not match the body"})
        body, problem = _json_object(raw_body)
        if problem:
            return problem
        problem = self._check_shape("certifier", body, "")
        if problem:
            return problem
        event_id = body.get("id") if isinstance(body.get("id"), str) else None
        message = QueueMessage(source="certifier", body=body, event_id=event_id)
        key = f"certifier:{event_id}" if event_id else None
        return self._enqueue_once(key, [message])

    # -- Open Badges: bearer token, one document or an array -----------------------------------

    @_config_errors_are_503
    def openbadges(self, authorization: str | None, raw_body: bytes) -> Reply:
        token = reveal(self.settings, "openbadges_ingest_token")
        if token is None:
            return _not_configured("OPENBADGES_INGEST_TOKEN")
        if not _bearer_matches(authorization, token):
            return Reply(401, {"error": "missing or wrong bearer token"})
        data, problem = _json(raw_body)
        if problem:
            return problem
        documents, problem = _one_or_many(data)
        if problem:
            return problem
        messages = []
        for index, document in enumerate(documents):
            prefix = f"[{index}]" if isinstance(data, list) else ""
            problem = self._check_shape("openbadges", document, prefix)
            if problem:
                return problem
            messages.append(QueueMessage(source="openbadges", body=document))
        # No delivery id in Open Badges: statement ids keep re-posts idempotent instead.
        return self._enqueue_once(None, messages)

    # -- Learning analytics: forwarded statements and report rows -> award rules --------------

    @_config_errors_are_503
    def lap_statements(self, authorization: str | None, raw_body: bytes) -> Reply:
        problem = self._lap_auth(authorization)
        if problem:
            return problem
        data, problem = _json(raw_body)
        if problem:
            return problem
        statements, problem = _one_or_many(data)
        if problem:
            return problem
        try:
            for index, statement in enumerate(statements):
                check_statement(statement, f"[{index}]" if isinstance(data, list) else "")
        except InputError as error:
            return _bad_request(error.field, error.message)
        replies = [self._enqueue_once(_lap_key(s), [QueueMessage(source="lap", body=s)]) for s in statements]
        failed = next((r for r in replies if r.status >= 300), None)
        ids = [i for r in replies for i in r.body.get("ids", [])]
        return failed or Reply(202, {"status": "accepted", "ids": ids, "duplicates": len(statements) - len(ids)})

    @_config_errors_are_503
    def lap_reports(self, authorization: str | None, content_type: str, raw_body: bytes, report_id: str | None) -> Reply:
        problem = self._lap_auth(authorization, bearer_only=True)
        if problem:
            return problem
        try:
            if content_type.lower().startswith("text/csv"):
                report = parse_report_csv(raw_body.decode("utf-8-sig"), report_id)
            else:
                data, problem = _json(raw_body)
                if problem:
                    return problem
                report = parse_report_json(data)
        except UnicodeDecodeError:
            return _bad_request("(body)", "CSV must be UTF-8")
        except InputError as error:
            return _bad_request(error.field, error.message)
        info = report.report.model_dump(exclude_none=True)
        messages = [
            QueueMessage(source="lap-report", body={"report": info, "row": row.model_dump(exclude_none=True)})
            for row in report.rows
        ]
        if not messages:
            return Reply(202, {"status": "accepted", "ids": []})
        return self._enqueue_once(None, messages)

    def _lap_auth(self, authorization: str | None, bearer_only: bool = False) -> Reply | None:
        token = reveal(self.settings, "lap_token")
        if token is None:
            return _not_configured("LAP_TOKEN")
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and _same_secret(credentials.strip(), token):
            return None
        if scheme.lower() == "basic" and not bearer_only and _basic_password_matches(credentials, token):
            return None
        return Reply(401, {"error": "missing or wrong LAP_TOKEN (Bearer, or Basic with it as password)"})

    # -- shared steps --------------------------------------------------------------------------

    def _check_shape(self, source: str, document: Any, prefix: str) -> Reply | None:
        """400 for what cannot be translated whatever happens later; None when acceptable."""
        try:
            adapter_for(source, self.settings).parse(document)
        except DetailsRequired:
            return None  # the worker fetches the details
        except InputError as error:
            field_name = f"{prefix}.{error.field}" if prefix and error.field else prefix or error.field
            return _bad_request(field_name, error.message)
        return None

    def _enqueue_once(self, key: str | None, messages: list[QueueMessage], accepted_status: int = 202) -> Reply:
        if key and not self.store.claim_delivery(key, self.settings.dedupe_ttl_seconds):
            self.store.increment({"duplicate_deliveries": 1})
            log("duplicate_delivery", key=key)
            return Reply(accepted_status, {"status": "duplicate"})
        sent = 0
        try:
            for message in messages:
                self.queue.send(message)
                sent += 1
        except Exception as error:
            if key:
                self.store.release_delivery(key)  # let the platform's retry try again
            log("enqueue_failed", key=key, error=type(error).__name__)
            if isinstance(error, MessageTooLarge):  # a retry cannot help: say so instead of 503
                return _too_large(error, sent, len(messages))
            return Reply(503, {"error": "could not queue the delivery; retry later"})
        ids = [m.id for m in messages]
        log("accepted", source=messages[0].source, messages=len(ids), key=key)
        return Reply(accepted_status, {"status": "accepted", "ids": ids})


def _same_secret(given: str, expected: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str, which a caller could send to cause a 500.
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def _basic_password_matches(encoded: str, token: str) -> bool:
    """Learning Locker's forwarding sends Basic auth: the token is the password, any user name."""
    try:
        _, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return _same_secret(password, token)


def _lap_key(statement: dict) -> str | None:
    """Forwarding retries: de-duplicate on the statement id where the LRS gave one."""
    statement_id = statement.get("id")
    return f"lap:{statement_id}" if isinstance(statement_id, str) and statement_id else None


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and _same_secret(given.strip(), token)


def _json(raw_body: bytes) -> tuple[Any, Reply | None]:
    try:
        return json.loads(raw_body or b""), None
    except RecursionError:
        return None, _bad_request("(body)", "JSON nested too deeply")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        return None, _bad_request("(body)", f"not valid JSON{where}")


def _one_or_many(data: Any) -> tuple[list, Reply | None]:
    """A body that is one document or an array of them; an empty array says nothing."""
    items = data if isinstance(data, list) else [data]
    return items, (_bad_request("(body)", "empty array") if not items else None)


def _json_object(raw_body: bytes) -> tuple[dict, Reply | None]:
    data, problem = _json(raw_body)
    if problem is None and not isinstance(data, dict):
        problem = _bad_request("(body)", "expected a JSON object")
    return data, problem


def _bad_request(field_name: str, message: str) -> Reply:
    return Reply(400, {"error": f"{field_name}: {message}", "field": field_name})


def _too_large(error: MessageTooLarge, sent: int, total: int) -> Reply:
    where = f"document [{sent}]: " if total > 1 else ""
    # An array is queued in order: say what went, as re-posting it is safe (same statement ids).
    already = f"; the {sent} before it were queued" if sent else ""
    return Reply(413, {"error": f"{where}too large to queue: {error}{already}"})


def _not_configured(settings: str) -> Reply:
    return Reply(503, {"error": f"this route is not configured: set {settings}"})
