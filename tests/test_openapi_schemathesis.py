"""schemathesis against the app, through the Chalice test client: every route, generated requests
(valid and invalid, with right and wrong credentials), every answer checked against the document.

No 5xx but a documented 503, every status, Content-Type and body as documented. Bounded and
derandomized: the same requests on every run (SCHEMATHESIS_EXAMPLES=N in the environment runs N
per operation, at random, for a deeper hunt).
"""

from __future__ import annotations

import copy
import json
import os
import time
import zlib
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import document
from tests.support.api import ORG_ID, Api, fixture_json

pytestmark = pytest.mark.api

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "0") or 0)
BOUNDS = settings(
    max_examples=EXAMPLES or 100,
    deadline=None,
    derandomize=not EXAMPLES,
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)


def no_server_error_but_a_documented_503(ctx, response, case):
    """not_a_server_error, except a 503 the operation documents (route not configured, queue
    unavailable, /health degraded)."""
    if response.status_code == 503 and "503" in case.operation.responses.status_codes:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error_but_a_documented_503,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Where the document's request model restates checks made in code (awards.inputs.check_statement),
# a request valid by the document must also be accepted: the model has not drifted from the code.
RESTATED = {"POST /lap/statements"}


def checks_for(case) -> list:
    return CHECKS + [positive_data_acceptance] if case.operation.label in RESTATED else CHECKS


# A share button that names everything: the link is made without asking the LRS.
SHARE_LINK = {
    "credential_url": "https://www.credly.com/badges/9f1e2d3c-4b5a-4697-8877-665544332211",
    "channel": "linkedin",
    "platform": "credly",
    "name": "Cloud Practitioner",
    "badge_class": "https://www.credly.com/org/example/badge/cloud-practitioner",
    "learner": {"email": "ada.lovelace@example.com"},
}


def with_examples(spec: dict[str, Any]) -> dict[str, Any]:
    """The served document plus the repository's fixtures as request examples, so that the
    examples phase goes past the checks into queueing (the document itself carries none)."""
    spec = copy.deepcopy(spec)
    credly = fixture_json("credly/webhook_badge_created.json")
    samples = {
        ("/webhooks/credly/{token}", "application/json"): [credly, {**credly, "event_type": "badge.revoked"}],
        ("/webhooks/certifier", "application/json"): [
            fixture_json(f"certifier/{name}.json")
            for name in (
                "webhook_credential_issued",
                "webhook_credential_shared_linkedin",
                "webhook_credential_viewed_guest",
            )
        ],
        ("/ingest/openbadges", "application/json"): [
            fixture_json("openbadges/ob2_assertion.json"),
            fixture_json("openbadges/ob3_credential.json"),
            [fixture_json("openbadges/ob2_assertion.json"), fixture_json("openbadges/ob3_credential.json")],
        ],
        ("/lap/statements", "application/json"): [
            fixture_json("lap/learninglocker_forwarded_statement.json"),
            [fixture_json("lap/learninglocker_forwarded_statement.json")],
        ],
        ("/lap/reports", "application/json"): [fixture_json("lap/report_rows.json")],
        ("/share-links", "application/json"): [
            SHARE_LINK,
            {**SHARE_LINK, "channel": "copy"},
            {**SHARE_LINK, "channel": "email", "credential_id": "c-1"},
        ],
    }
    for (path, media_type), values in samples.items():
        content = spec["paths"][path]["post"]["requestBody"]["content"][media_type]
        content["examples"] = {f"fixture{i}": {"value": value} for i, value in enumerate(values)}
    return spec


schema = schemathesis.openapi.from_dict(with_examples(document()))
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.generation.update(max_examples=EXAMPLES or 100)
if not EXAMPLES:
    schema.config.seed = 20261201
# An undocumented method never reaches the app: API Gateway (and chalice's local gateway, which the
# test client runs) answers it, not with the 405 these probes expect.
schema.config.phases.coverage.unexpected_methods = set()


def choice(case) -> int:
    """0-3, fixed for a case: 0 leaves the generated credentials (a 401 mostly), others replace them."""
    return zlib.crc32(repr((case.body, case.path_parameters, case.query)).encode("utf-8", "surrogatepass")) % 4


def authorize(api: Api, case, request: requests.PreparedRequest) -> None:
    """Right credentials for three cases in four, so that generation explores past the checks."""
    pick = choice(case)
    if pick == 0:
        return
    path = case.path
    if path == "/webhooks/certifier":
        request.headers["X-Webhook-Signature"] = api.signature(request.body or b"")
    elif path == "/ingest/openbadges":
        request.headers["Authorization"] = api.bearer("OPENBADGES_INGEST_TOKEN")
    elif path == "/lap/statements":
        request.headers["Authorization"] = api.basic("LAP_TOKEN") if pick == 1 else api.bearer("LAP_TOKEN")
    elif path == "/lap/reports":
        request.headers["Authorization"] = api.bearer("LAP_TOKEN")
    elif path == "/share-links":
        request.headers["Authorization"] = api.bearer("SHARE_LINKS_TOKEN")
    elif path == "/status":
        request.headers["Authorization"] = api.bearer("STATUS_TOKEN")


def prepare(api: Api, case, credentials: bool) -> requests.PreparedRequest:
    if credentials and case.path == "/webhooks/credly/{token}" and choice(case):
        case.path_parameters = {**(case.path_parameters or {}), "token": api.env["CREDLY_WEBHOOK_TOKEN"]}
        if isinstance(case.body, dict) and choice(case) > 1:
            case.body = {**case.body, "organization_id": ORG_ID}
    kwargs = case.as_transport_kwargs(base_url="http://connector.test")
    fields = ("method", "url", "headers", "params", "data", "json", "cookies", "files")
    request = requests.Request(**{k: v for k, v in kwargs.items() if k in fields}).prepare()
    if isinstance(request.body, str):
        request.body = request.body.encode("utf-8")
    if credentials:
        authorize(api, case, request)
    return request


def send(api: Api, case, credentials: bool = True) -> schemathesis.Response:
    """One case through Client.http, answered as a schemathesis Response. credentials: right
    ones for most generated cases (else the case's own headers are sent as they are)."""
    request = prepare(api, case, credentials)
    url = urlsplit(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    started = time.perf_counter()
    answer = api.client.http.request(request.method, target, headers=dict(request.headers), body=request.body or b"")
    elapsed = time.perf_counter() - started
    headers = {name.lower(): value if isinstance(value, list) else [value] for name, value in answer.headers.items()}
    return schemathesis.Response(
        status_code=answer.status_code,
        headers=headers,
        content=answer.body,
        request=request,
        elapsed=elapsed,
        verify=True,
    )


@pytest.fixture
def debug_app(monkeypatch):
    """A 500's body carries the traceback (chalice's debug mode), so a failure report shows it."""
    import app as chalice_app

    monkeypatch.setattr(chalice_app.app, "debug", True)


SEEN: Counter[tuple[str, int]] = Counter()


@schema.parametrize()
@BOUNDS
def test_every_answer_is_documented(case, api, debug_app):
    response = send(api, case)
    SEEN[(case.operation.label, response.status_code)] += 1
    case.validate_response(response, checks=checks_for(case))


def test_generation_got_past_the_credentials():
    """The run above reached the queue on every POST route (signatures and tokens were right)."""
    assert SEEN, "test_every_answer_is_documented (above, same module) must run first"
    # A named connection's routes answer 404 here: the connector runs without CONNECTIONS.
    posts = {label for label, _ in SEEN if label.startswith("POST ") and "{connection}" not in label}
    assert len(posts) == 6
    for label in posts:
        statuses = {status for seen, status in SEEN if seen == label}
        assert statuses & {200, 201, 202} and 400 in statuses and 401 in statuses, (label, statuses)


# -- answers a configured connector gives only when something is wrong ---------------------------

STATEMENT = fixture_json("lap/learninglocker_forwarded_statement.json")
REQUESTS = {
    "POST /webhooks/credly/{token}": lambda api: dict(
        path_parameters={"token": api.env["CREDLY_WEBHOOK_TOKEN"]},
        body=fixture_json("credly/webhook_badge_created.json"),
    ),
    "POST /webhooks/certifier": lambda api: dict(body=fixture_json("certifier/webhook_credential_issued.json")),
    "POST /ingest/openbadges": lambda api: dict(
        body=fixture_json("openbadges/ob2_assertion.json"),
        headers={"Authorization": api.bearer("OPENBADGES_INGEST_TOKEN")},
    ),
    "POST /lap/statements": lambda api: dict(body=STATEMENT, headers={"Authorization": api.bearer("LAP_TOKEN")}),
    "POST /lap/reports": lambda api: dict(
        body=fixture_json("lap/report_rows.json"), headers={"Authorization": api.bearer("LAP_TOKEN")}
    ),
    "POST /share-links": lambda api: dict(body=SHARE_LINK, headers={"Authorization": api.bearer("SHARE_LINKS_TOKEN")}),
}
SECRETS = {
    "POST /webhooks/credly/{token}": "CREDLY_WEBHOOK_TOKEN",
    "POST /webhooks/certifier": "CERTIFIER_WEBHOOK_SECRET",
    "POST /ingest/openbadges": "OPENBADGES_INGEST_TOKEN",
    "POST /lap/statements": "LAP_TOKEN",
    "POST /lap/reports": "LAP_TOKEN",
    "POST /share-links": "SHARE_LINKS_TOKEN",
}


def make_case(api: Api, label: str, **changes):
    method, path = label.split(" ", 1)
    values = {**REQUESTS[label](api), **changes}
    return schema[path][method].Case(media_type="application/json", **values)


def checked(api: Api, case) -> schemathesis.Response:
    """Sent with the case's own credentials (a Certifier body signed), then checked as above."""
    if case.path == "/webhooks/certifier":
        raw = json.dumps(case.body).encode()
        case.headers = {**(case.headers or {}), "X-Webhook-Signature": api.signature(raw)}
    response = send(api, case, credentials=False)
    case.validate_response(response, checks=CHECKS)
    return response


@pytest.mark.parametrize("label", sorted(REQUESTS))
def test_the_fixture_request_is_accepted(api, label):
    assert checked(api, make_case(api, label)).status_code in (200, 201, 202)


@pytest.mark.parametrize("label", sorted(REQUESTS))
def test_a_route_not_configured_answers_a_documented_503(api, monkeypatch, label):
    from chalicelib.runtime import services

    monkeypatch.delenv(SECRETS[label])
    services.cache_clear()
    response = checked(api, make_case(api, label))
    assert response.status_code == 503
    assert SECRETS[label] in json.loads(response.content)["error"]


@pytest.mark.parametrize("label", sorted(REQUESTS))
def test_an_unavailable_queue_answers_a_documented_503(api, monkeypatch, label):
    from chalicelib.runtime import services

    def unavailable(messages):
        raise ConnectionError("queue down")

    monkeypatch.setattr(services().queue, "send", unavailable)
    monkeypatch.setattr(services().queue, "send_many", unavailable)
    assert checked(api, make_case(api, label)).status_code == 503


def test_a_document_larger_than_a_queue_message_answers_a_documented_413(api):
    huge = {**STATEMENT, "result": {"response": "x" * 1_100_000}}
    assert checked(api, make_case(api, "POST /lap/statements", body=huge)).status_code == 413


def test_another_organisation_answers_a_documented_403(api):
    notification = {**fixture_json("credly/webhook_badge_created.json"), "organization_id": "someone-else"}
    assert checked(api, make_case(api, "POST /webhooks/credly/{token}", body=notification)).status_code == 403


def test_health_degraded_answers_a_documented_503(api, monkeypatch):
    from chalicelib.runtime import services

    monkeypatch.setenv("LRS_ENDPOINT", "http://127.0.0.1:9/xAPI/")  # nothing listens on the discard port
    services.cache_clear()
    response = checked(api, schema["/health"]["GET"].Case())
    assert response.status_code == 503
    assert json.loads(response.content)["status"] == "degraded"


def test_status_answers_as_documented_with_and_without_its_token(api, monkeypatch):
    from chalicelib.runtime import services

    operation = schema["/status"]["GET"]
    assert checked(api, operation.Case()).status_code == 401
    authorised = checked(api, operation.Case(headers={"Authorization": api.bearer("STATUS_TOKEN")}))
    assert authorised.status_code == 200 and json.loads(authorised.content)["status"] == "ok"
    monkeypatch.delenv("STATUS_TOKEN")
    services.cache_clear()
    assert checked(api, operation.Case(headers={"Authorization": api.bearer("STATUS_TOKEN")})).status_code == 503


def test_health_says_its_body_is_json(api):
    answer = api.client.http.get("/health")
    assert answer.headers.get("Content-Type") == "application/json"


# -- CSV reports that were 500s (awards/inputs.py parse_report_csv), found while building this suite:
# a row shorter than its header (None cells), a cell over csv's field limit (csv.Error), bare CR
# line endings (csv.Error; found by schemathesis with SCHEMATHESIS_EXAMPLES=1000).


@pytest.mark.parametrize(
    "text",
    [
        "email,name\nada@example.com\n",
        "email,note\nada@example.com," + "x" * 140_000 + "\n",
        "email,score\rada@example.com,1\r",
        "\r\u00c0&\x1b",
    ],
    ids=["short-row", "cell-over-csv-field-limit", "cr-line-endings", "stray-cr"],
)
def test_a_csv_report_that_was_a_500_answers_as_documented(api, debug_app, text):
    case = schema["/lap/reports"]["POST"].Case(
        body=text, media_type="text/csv", query={"report": "r"}, headers={"Authorization": api.bearer("LAP_TOKEN")}
    )
    assert checked(api, case).status_code in (202, 400)
