"""A learner directory in S3 (moto) replaced while signed webhooks flow through the outbox worker
into the real LRS: new people are mapped once the refresh period has passed, a broken version
keeps the last good one (status says why), and delivery never stops."""

from __future__ import annotations

import copy
import json
import time
import uuid

import pytest

from chalicelib.cli import main
from tests.support.connector import fixture_json

pytestmark = pytest.mark.integration

BUCKET, KEY = "people-directory", "hr/learners.csv"
HOMEPAGE = "https://people.example.com"
REFRESH_SECONDS = 0.3
HEADER = "employee_id,email,name,job_role,team,lms_account,other_emails\n"
ADA = "E-1001,ada.lovelace@example.com,Ada Lovelace,Engineer,Platform,,\n"
GRACE = "E-2002,grace.hopper@example.com,Grace Hopper,Manager,Compilers,,grace@home.example.net\n"


def put(text: str) -> None:
    import boto3

    boto3.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=text.encode())


@pytest.fixture
def live(mocked_aws, connector, monkeypatch):
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    put(HEADER + ADA)
    for name, value in {
        "LEARNER_DIRECTORY": f"s3://{BUCKET}/{KEY}",
        "IDENTITY_IFI": "account",
        "IDENTITY_HOMEPAGE": HOMEPAGE,
        "LEARNER_DIRECTORY_REFRESH_SECONDS": str(REFRESH_SECONDS),
    }.items():
        monkeypatch.setenv(name, value)
    connector.restart()
    return connector


def issued(email: str) -> dict:
    """A signed Certifier issue of a new credential to `email` (no employee id: only the directory maps it)."""
    body = copy.deepcopy(fixture_json("certifier/webhook_credential_issued.json"))
    credential = body["data"]["credential"]
    credential["id"] = body["data"]["resource"]["id"] = uuid.uuid4().hex
    credential["recipient"]["email"] = email
    del credential["customAttributes"]
    body["id"] = f"evt_{uuid.uuid4().hex}"
    return body


def deliver(connector, lrs, lrs_session, email: str) -> str | None:
    """The account name the LRS holds for a credential issued to `email` now (None: not delivered)."""
    body = issued(email)
    assert connector.certifier_webhook(body).status_code == 202
    connector.drain()
    statement_id = str(
        uuid.uuid5(
            uuid.UUID(connector.env["STATEMENT_ID_NAMESPACE"]), f"certifier|{body['data']['credential']['id']}|issued"
        )
    )
    answer = lrs_session.get(lrs.statements_url, params={"statementId": statement_id})
    return answer.json()["actor"]["account"]["name"] if answer.status_code == 200 else None


def until_mapped(connector, lrs, lrs_session, email: str, seconds: float = 10.0) -> str:
    """Webhooks for Ada keep flowing (each delivered) until `email` is mapped, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert deliver(connector, lrs, lrs_session, "ada.lovelace@example.com") == "E-1001"
        if connector.services.directory.find_agent({"mbox": f"mailto:{email}"}) is not None:
            return deliver(connector, lrs, lrs_session, email)
        time.sleep(REFRESH_SECONDS / 3)
    raise AssertionError(f"not mapped within {seconds} s")


def status(capsys) -> dict:
    capsys.readouterr()
    main(["status", "--json"])
    return json.loads(capsys.readouterr().out)


def test_a_directory_replaced_in_s3_maps_new_people_and_a_broken_one_keeps_the_last(live, lrs, lrs_session, capsys):
    assert deliver(live, lrs, lrs_session, "ada.lovelace@example.com") == "E-1001"
    assert deliver(live, lrs, lrs_session, "grace@home.example.net") is None  # not in the directory yet: a dead letter
    assert status(capsys)["directory"]["entries"] == 1

    put(HEADER + ADA + GRACE)
    started = time.monotonic()
    assert until_mapped(live, lrs, lrs_session, "grace@home.example.net") == "E-2002"  # by her alias
    assert time.monotonic() - started < 10 * REFRESH_SECONDS  # within the refresh period, plus a delivery or two
    shown = status(capsys)["directory"]
    assert (shown["source"], shown["entries"], shown["last_error"]) == (f"s3://{BUCKET}/{KEY}", 2, None)

    put(HEADER + ADA + GRACE + "E-3003,Ada.Lovelace@example.com,Someone,,,,\n")  # two people, one email
    time.sleep(REFRESH_SECONDS)
    assert deliver(live, lrs, lrs_session, "grace.hopper@example.com") == "E-2002"  # triggers the check
    live.services.directory.wait(5)
    assert deliver(live, lrs, lrs_session, "grace@home.example.net") == "E-2002"  # the last good version
    report = status(capsys)
    shown = report["directory"]
    assert shown["entries"] == 2 and "line 4 (email)" in shown["last_error"] and "line 2 (email)" in shown["last_error"]
    assert "@" not in shown["last_error"]
    assert report["status"] == "attention"
    assert any(reason.startswith("learner-directory refresh") for reason in report["attention"])
