"""Routes and event handlers only: parse the request, call one chalicelib function, shape the answer."""

import os
import sys

from chalice import Chalice, Rate, Response

app = Chalice(app_name="credential-connector")
# Routes whose path carries a secret: it must not reach an access log. Everything after the
# prefix is hidden: a named connection's route (/webhooks/credly/{connection}/{token}) too.
SECRET_PATHS = ("/webhooks/credly/", "/s/")  # /s/: share link tokens are not secret, but not for logs either

if "chalice.local" in sys.modules:  # under `chalice local`
    from chalicelib.localserver import tune

    tune(SECRET_PATHS)

# The worker's event source is fixed when packaging, so the queue name is read at import, from
# the environment alone (settings would import pydantic); same default as Settings.queue_name.
QUEUE_NAME = os.environ.get("QUEUE_NAME", "").strip() or "credential-connector-events"
# Scheduled syncs are fixed when packaging too: one function per platform (its default connection)
# or named connection of SYNC_PLATFORMS, every SYNC_RATE_MINUTES.
SYNC_PLATFORMS = tuple(p.strip() for p in os.environ.get("SYNC_PLATFORMS", "").split(",") if p.strip())
SYNC_RATE_MINUTES = int(os.environ.get("SYNC_RATE_MINUTES", "").strip() or 60)
# The expiry sweep's rate, also fixed when packaging; 0: no scheduled sweep.
EXPIRY_SWEEP_RATE_MINUTES = int(os.environ.get("EXPIRY_SWEEP_RATE_MINUTES", "").strip() or 0)


@app.middleware("all")
def _observed(event, get_response):
    """Each invocation's log lines carry its Lambda request id, a route's also its correlation id
    (the caller's X-Request-Id / X-Amzn-Trace-Id, or a new one); its metrics are written at its end."""
    from chalicelib import metrics
    from chalicelib.observability import bound, caller_correlation_id

    lambda_context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    headers = getattr(event, "headers", None)  # a route's request only
    correlation = caller_correlation_id(headers) if headers is not None else None
    with bound(request_id=getattr(lambda_context, "aws_request_id", None), correlation_id=correlation):
        try:
            return get_response(event)
        finally:
            metrics.flush()


def _services():
    from chalicelib.runtime import services

    return services()


def _answer(reply) -> Response:
    if 200 <= reply.status < 400:  # accepted, or redirected: something may have been queued
        _services().ensure_local_worker()
    return Response(body=reply.body, status_code=reply.status, headers=reply.headers)


@app.route("/webhooks/credly/{token}", methods=["POST"])
def credly_webhook(token: str) -> Response:
    return _answer(_services().webhooks.receive("credly", token, app.current_request.raw_body))


@app.route("/webhooks/credly/{connection}/{token}", methods=["POST"])
def credly_connection_webhook(connection: str, token: str) -> Response:
    return _answer(_services().webhooks.receive("credly", token, app.current_request.raw_body, connection))


@app.route("/webhooks/certifier", methods=["POST"])
def certifier_webhook() -> Response:
    return _certifier(None)


@app.route("/webhooks/certifier/{connection}", methods=["POST"])
def certifier_connection_webhook(connection: str) -> Response:
    return _certifier(connection)


def _certifier(connection: "str | None") -> Response:
    request = app.current_request
    signature = request.headers.get("x-webhook-signature")
    return _answer(_services().webhooks.receive("certifier", signature, request.raw_body, connection))


@app.route("/ingest/openbadges", methods=["POST"])
def openbadges_ingest() -> Response:
    return _openbadges(None)


@app.route("/ingest/openbadges/{connection}", methods=["POST"])
def openbadges_connection_ingest(connection: str) -> Response:
    return _openbadges(connection)


def _openbadges(connection: "str | None") -> Response:
    request = app.current_request
    authorization = request.headers.get("authorization")
    return _answer(_services().webhooks.receive("openbadges", authorization, request.raw_body, connection))


@app.route("/lap/statements", methods=["POST"])
def lap_statements() -> Response:
    request = app.current_request
    return _answer(_services().lap.statements(request.headers.get("authorization"), request.raw_body))


@app.route("/lap/reports", methods=["POST"], content_types=["application/json", "text/csv"])
def lap_reports() -> Response:
    request = app.current_request
    report_id = (request.query_params or {}).get("report")
    content_type = request.headers.get("content-type", "application/json")
    authorization = request.headers.get("authorization")
    return _answer(_services().lap.reports(authorization, content_type, request.raw_body, report_id))


@app.route("/share-links", methods=["POST"])
def share_links() -> Response:
    request = app.current_request
    return _answer(_services().share_links.create(request.headers.get("authorization"), request.raw_body))


@app.route("/s/{token}", methods=["GET"])
def share_link_click(token: str) -> Response:
    request = app.current_request
    source_ip = ((request.context or {}).get("identity") or {}).get("sourceIp")  # API Gateway's, not X-Forwarded-For
    return _answer(_services().share_links.click(token, source_ip, request.headers.get("user-agent")))


@app.route("/health", methods=["GET"])
def health() -> Response:
    from chalicelib.health import status

    _services().ensure_local_worker()
    body = status(_services())
    return Response(
        body=body, status_code=200 if body["status"] == "ok" else 503, headers={"Content-Type": "application/json"}
    )


@app.route("/health/details", methods=["GET"])
def health_details() -> Response:
    from chalicelib.health import details

    return _answer(details(_services(), app.current_request.headers.get("authorization")))


@app.route("/status", methods=["GET"])
def status() -> Response:
    from chalicelib.status import answer

    return _answer(answer(_services(), app.current_request.headers.get("authorization")))


@app.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    from chalicelib.openapi import document_json  # built on the first request, never at a cold start

    return Response(body=document_json(), status_code=200, headers={"Content-Type": "application/json"})


@app.on_sqs_message(queue=QUEUE_NAME, batch_size=10)
def sqs_worker(event) -> dict:
    # Lambda reads the returned batchItemFailures only if the event source mapping has
    # FunctionResponseTypes=[ReportBatchItemFailures] (set in infra/, chalice does not).
    return _services().handle_sqs_batch([record.to_dict() for record in event])


def _seconds_left() -> float:
    """What the Lambda invocation has left (a generous default outside Lambda)."""
    context = app.lambda_context
    return context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0


def _sync_handler(platform: str):
    def sync(event) -> dict:
        return _services().scheduled_sync(platform, _seconds_left())

    sync.__name__ = f"sync_{platform}"  # Lambda's handler is app.sync_<platform>
    return sync


for _platform in SYNC_PLATFORMS:
    globals()[f"sync_{_platform}"] = app.schedule(Rate(SYNC_RATE_MINUTES, unit=Rate.MINUTES), name=f"sync_{_platform}")(
        _sync_handler(_platform)
    )

if EXPIRY_SWEEP_RATE_MINUTES:

    @app.schedule(Rate(EXPIRY_SWEEP_RATE_MINUTES, unit=Rate.MINUTES))
    def expiry_sweep(event) -> dict:
        return _services().scheduled_expiry_sweep(_seconds_left())
