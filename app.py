"""Routes and event handlers only: parse the request, call one chalicelib function, shape the answer."""

from chalice import Chalice, Response

app = Chalice(app_name="credential-connector")


def _services():
    from chalicelib.runtime import services

    return services()


def _answer(reply) -> Response:
    if 200 <= reply.status < 300:
        _services().ensure_local_worker()
    return Response(body=reply.body, status_code=reply.status, headers={"Content-Type": "application/json"})


@app.route("/webhooks/credly/{token}", methods=["POST"])
def credly_webhook(token: str) -> Response:
    return _answer(_services().intake.credly(token, app.current_request.raw_body))


@app.route("/webhooks/certifier", methods=["POST"])
def certifier_webhook() -> Response:
    request = app.current_request
    signature = request.headers.get("x-webhook-signature")
    return _answer(_services().intake.certifier(signature, request.raw_body))


@app.route("/ingest/openbadges", methods=["POST"])
def openbadges_ingest() -> Response:
    request = app.current_request
    return _answer(_services().intake.openbadges(request.headers.get("authorization"), request.raw_body))


@app.route("/health", methods=["GET"])
def health() -> Response:
    from chalicelib.health import report

    _services().ensure_local_worker()
    body = report(_services())
    return Response(body=body, status_code=200 if body["status"] == "ok" else 503)
