"""LAP routes: forwarded statements and report rows are authenticated, checked and queued fast."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration


def bearer(connector) -> dict:
    return {"Authorization": f"Bearer {connector.env['LAP_TOKEN']}"}


def basic(connector, password: str | None = None) -> dict:
    raw = f"learninglocker:{password or connector.env['LAP_TOKEN']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def queued(connector) -> list[dict]:
    leased = connector.services.queue.receive(100)
    return [item.message.model_dump() for item in leased]


def test_forwarded_statement_with_basic_auth_is_queued_once(connector):
    statement = fixture_json("lap/learninglocker_forwarded_statement.json")
    first = connector.post("/lap/statements", statement, basic(connector))
    again = connector.post("/lap/statements", statement, basic(connector))
    assert first.status_code == 202 and again.status_code == 202
    assert json.loads(again.body)["duplicates"] == 1
    messages = queued(connector)
    assert [m["source"] for m in messages] == ["lap"]
    assert messages[0]["body"]["id"] == statement["id"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic !!"}])
def test_lap_statements_need_the_token(connector, headers):
    statement = fixture_json("lap/learninglocker_forwarded_statement.json")
    assert connector.post("/lap/statements", statement, headers).status_code == 401
    assert connector.services.queue.depth() == 0


def test_wrong_basic_password_is_refused(connector):
    statement = fixture_json("lap/learninglocker_forwarded_statement.json")
    assert connector.post("/lap/statements", statement, basic(connector, "nope")).status_code == 401


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.pop("actor"), "actor"),
        (lambda s: s["verb"].update(id="passed"), "verb.id"),
        (lambda s: s.pop("object"), "object.id"),
    ],
)
def test_invalid_statement_is_400_naming_the_problem(connector, mutate, field):
    statement = fixture_json("lap/learninglocker_forwarded_statement.json")
    mutate(statement)
    answer = connector.post("/lap/statements", [statement], bearer(connector))
    assert answer.status_code == 400
    assert json.loads(answer.body)["field"] == f"[0].{field}"
    assert connector.services.queue.depth() == 0


def test_report_rows_in_json_become_one_message_per_row(connector):
    answer = connector.post("/lap/reports", fixture_json("lap/report_rows.json"), bearer(connector))
    assert answer.status_code == 202
    messages = queued(connector)
    assert [m["body"]["report"]["id"] for m in messages] == ["python-readiness"] * 2
    assert messages[1]["body"]["row"]["learner"]["account"]["name"] == "E-2002"


def test_report_rows_in_csv(connector):
    csv_text = "email,name,courses_completed,exam_score\nada.lovelace@example.com,Ada Lovelace,4,0.86\n"
    answer = connector.client.http.post(
        "/lap/reports?report=python-readiness",
        body=csv_text.encode(),
        headers={"Content-Type": "text/csv", **bearer(connector)},
    )
    assert answer.status_code == 202, answer.body
    row = queued(connector)[0]["body"]["row"]
    assert row == {
        "learner": {"email": "ada.lovelace@example.com", "name": "Ada Lovelace"},
        "values": {"courses_completed": 4, "exam_score": 0.86},
    }


def test_csv_report_row_without_learner_is_400_naming_the_line(connector):
    csv_text = "email,courses_completed\nada.lovelace@example.com,4\n,3\n"
    answer = connector.client.http.post(
        "/lap/reports?report=r",
        body=csv_text.encode(),
        headers={"Content-Type": "text/csv", **bearer(connector)},
    )
    assert answer.status_code == 400
    assert json.loads(answer.body)["field"] == "line 3"


def test_csv_content_type_is_matched_case_insensitively(connector):
    csv_text = "email,courses_completed\nada.lovelace@example.com,4\n"
    answer = connector.client.http.post(
        "/lap/reports?report=r",
        body=csv_text.encode(),
        headers={"Content-Type": "Text/CSV; charset=utf-8", **bearer(connector)},
    )
    assert answer.status_code == 202, answer.body
