"""The request bodies GET /openapi.json documents are the ones the routes check: each webhook's
is the model in its platform's webhook.py, and what a route refuses as a body (400) the document
refuses too."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from pydantic import BaseModel

from chalicelib.openapi import document
from chalicelib.platforms import webhook_routes
from tests.support.api import Api, fixture_json

pytestmark = pytest.mark.api

CERTIFIER = fixture_json("certifier/webhook_credential_issued.json")
CREDLY = fixture_json("credly/webhook_badge_created.json")
OB2 = fixture_json("openbadges/ob2_assertion.json")
STATEMENT = fixture_json("lap/learninglocker_forwarded_statement.json")


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


def request_validator(path: str) -> jsonschema_rs.Validator:
    spec = document()
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]}, validate_formats=True)


def send(api: Api, path: str, body: object):
    raw = json.dumps(body).encode()
    if path == "/webhooks/certifier":
        return api.post(path, raw, {"X-Webhook-Signature": api.signature(raw)})
    if path == "/webhooks/credly/{token}":
        return api.post(path.format(token=api.env["CREDLY_WEBHOOK_TOKEN"]), raw)
    setting = "OPENBADGES_INGEST_TOKEN" if path == "/ingest/openbadges" else "LAP_TOKEN"
    return api.post(path, raw, {"Authorization": api.bearer(setting)})


REFUSED = [
    ("/webhooks/credly/{token}", without(CREDLY, "id")),
    ("/webhooks/credly/{token}", {**CREDLY, "organization_id": ""}),
    ("/webhooks/credly/{token}", {**CREDLY, "event_type": 7}),
    ("/webhooks/certifier", without(CERTIFIER, "data")),
    ("/webhooks/certifier", {**CERTIFIER, "data": [CERTIFIER["data"]]}),
    ("/webhooks/certifier", {**CERTIFIER, "data": "credential"}),
    ("/webhooks/certifier", without(CERTIFIER, "type")),
    ("/webhooks/certifier", {**CERTIFIER, "type": 3}),
    ("/ingest/openbadges", []),
    ("/ingest/openbadges", "an assertion"),
    ("/ingest/openbadges", [OB2, 5]),
    ("/ingest/openbadges", {**OB2, "type": 2}),
    ("/ingest/openbadges", {**OB2, "id": 17}),
    ("/lap/statements", []),
    ("/lap/statements", [STATEMENT, without(STATEMENT, "verb")]),
    ("/lap/statements", {**STATEMENT, "actor": {"mbox": "ada@example.com"}}),
    ("/lap/statements", {**STATEMENT, "result": {"score": {"scaled": 1.5}}}),
]


@pytest.mark.parametrize(("path", "body"), REFUSED)
def test_a_body_the_route_refuses_the_document_refuses(api, path, body):
    answer = send(api, path, body)
    assert answer.status_code == 400, answer.body
    assert not request_validator(path).is_valid(body)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/credly/{token}", CREDLY),
        ("/webhooks/certifier", CERTIFIER),
        ("/webhooks/certifier", {**CERTIFIER, "id": 12}),  # no text id: de-duplicated on its content
        ("/ingest/openbadges", [OB2, fixture_json("openbadges/ob3_credential.json")]),
        ("/lap/statements", [STATEMENT]),
    ],
)
def test_what_the_route_accepts_is_accepted_or_stricter_in_the_document(api, path, body):
    assert send(api, path, body).status_code in (200, 202)
    assert request_validator(path).is_valid(body) is (body.get("id") != 12 if isinstance(body, dict) else True)


def test_each_webhook_body_is_the_model_of_its_platforms_webhook_module():
    spec = document()
    for _hook, route in webhook_routes():
        schema = spec["paths"][route.path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        if isinstance(route.body, type) and issubclass(route.body, BaseModel):  # a reference to its component
            assert schema == {"$ref": f"#/components/schemas/{route.body.__name__}"}
            assert route.body.__module__ == f"chalicelib.platforms.{route.path.split('/')[2]}.webhook"
        else:  # one document or an array of them
            assert [option.get("$ref") or option["items"]["$ref"] for option in schema["anyOf"]] == [
                "#/components/schemas/OpenBadgesDocument"
            ] * 2
