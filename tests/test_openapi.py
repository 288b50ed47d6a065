"""GET /openapi.json: served without auth, valid OpenAPI 3.1, one operation per route, built
from the models the routes use, and never loaded by a cold start."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema_rs
import pytest
import schemathesis

from chalicelib.awards.inputs import check_statement
from chalicelib.errors import InputError
from chalicelib.openapi import document
from tests.support.api import fixture_json
from tests.support.paths import REPO

pytestmark = pytest.mark.api

ROOT = REPO


def component_validator(name: str) -> jsonschema_rs.Validator:
    """A validator of components/schemas/<name>, its references resolved in the document."""
    spec = document()
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}, validate_formats=True
    )


def request_validator(path: str) -> jsonschema_rs.Validator:
    spec = document()
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**body, "components": spec["components"]}, validate_formats=True)


def test_served_without_credentials_as_json_even_with_nothing_configured(monkeypatch, tmp_path):
    from chalice.test import Client

    import app as chalice_app

    for name in ("CREDLY_WEBHOOK_TOKEN", "CERTIFIER_WEBHOOK_SECRET", "OPENBADGES_INGEST_TOKEN", "LAP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    answer = Client(chalice_app.app, stage_name="test").http.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert json.loads(answer.body) == document()


def test_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(json.loads(json.dumps(spec))).validate()  # the OpenAPI 3.1 meta-schema


def test_documents_every_route_of_the_app_and_nothing_else():
    import app as chalice_app

    routes = {
        (path, method.lower()): entry
        for path, methods in chalice_app.app.routes.items()
        for method, entry in methods.items()
    }
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert documented == set(routes)
    for (path, method), entry in routes.items():
        request = document()["paths"][path][method].get("requestBody")
        if request is not None:  # the Content-Types chalice lets through are the ones documented
            assert sorted(request["content"]) == sorted(entry.content_types)


def test_every_reference_resolves_and_no_local_definitions_remain():
    text = json.dumps(document())
    assert '"$defs"' not in text
    components = document()["components"]["schemas"]
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs and refs <= set(components)


def test_importing_app_does_not_build_or_import_the_document():
    probe = "import json, sys, app; print(json.dumps('chalicelib.openapi' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is False


def test_the_credly_route_reads_the_documented_model():
    body = document()["paths"]["/webhooks/credly/{token}"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/CredlyNotification"}
    assert document()["components"]["schemas"]["CredlyNotification"]["required"] == [
        "id",
        "organization_id",
        "event_type",
    ]


STATEMENT = fixture_json("lap/learninglocker_forwarded_statement.json")


@pytest.mark.parametrize(
    "statement",
    [
        STATEMENT,
        {"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "urn:x:passed"}, "object": {"id": "x"}},
        {
            "actor": {"openid": "https://id.example.com/a"},
            "verb": {"id": "http://v.example.com/v"},
            "object": {"id": "activity"},
        },
        {**STATEMENT, "actor": {"account": {"name": "E-1"}, "mbox": None}, "result": {"score": {"scaled": "n/a"}}},
        # What the document rejects, check_statement rejects too:
        {**STATEMENT, "actor": {"name": "no identifier"}},
        {**STATEMENT, "actor": {"mbox": ""}},
        {**STATEMENT, "verb": {"id": "passed"}},
        {**STATEMENT, "verb": {"id": "http://has space"}},
        {**STATEMENT, "verb": {}},
        {**STATEMENT, "object": {"id": ""}},
        {**STATEMENT, "object": {"objectType": "Activity"}},
        {**STATEMENT, "actor": {"mbox": "ada@example.com"}},
        {**STATEMENT, "actor": {"mbox": "mailto:ada@example.com", "openid": "   "}},
        {**STATEMENT, "actor": {"account": {"homePage": "https://lms.example.com", "name": " "}}},
        {**STATEMENT, "timestamp": "yesterday"},
        {**STATEMENT, "result": {"score": {"scaled": 2}}},
        {k: v for k, v in STATEMENT.items() if k != "actor"},
        [STATEMENT, STATEMENT],
        [],
        "a string",
    ],
)
def test_the_documented_statement_is_what_check_statement_accepts(statement):
    documented = request_validator("/lap/statements").is_valid(statement)
    try:
        for item in statement if isinstance(statement, list) and statement else [statement]:
            check_statement(item)
        accepted = not (isinstance(statement, list) and not statement)
    except InputError:
        accepted = False
    assert documented == accepted


@pytest.mark.parametrize(
    ("learner", "valid"),
    [
        ({"email": "a@example.com"}, True),
        ({"employee_id": "E-1"}, True),
        ({"account": {"name": "E-1"}}, True),
        ({"name": "Ada"}, False),
        ({"email": ""}, False),
        ({"email": None, "employee_id": None}, False),
    ],
)
def test_the_documented_report_learner_is_what_the_report_model_accepts(learner, valid):
    from chalicelib.awards.inputs import ReportLearner

    assert component_validator("ReportLearner").is_valid(learner) is valid
    try:
        ReportLearner.model_validate(learner)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted is valid


def test_fixtures_match_the_documented_request_bodies():
    assert request_validator("/webhooks/credly/{token}").is_valid(fixture_json("credly/webhook_badge_created.json"))
    for name in ("webhook_credential_issued", "webhook_credential_shared_linkedin", "webhook_credential_viewed_guest"):
        assert request_validator("/webhooks/certifier").is_valid(fixture_json(f"certifier/{name}.json"))
    for name in ("ob2_assertion", "ob3_credential"):
        assert request_validator("/ingest/openbadges").is_valid(fixture_json(f"openbadges/{name}.json"))
    assert request_validator("/lap/reports").is_valid(fixture_json("lap/report_rows.json"))
