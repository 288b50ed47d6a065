"""Two Credly organisations and two Accredible accounts side by side in one deployment (named
connections, CONNECTIONS): webhooks on their own routes with their own secrets, pulls with their
own cursors, statements in the real LRS that say which account they came through; nothing crosses."""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.support.connector import FIXTURES, ORG_ID, fixture_json

pytestmark = pytest.mark.integration

ORG_B = "7e1c0a44-90b2-4d0e-8f7a-2b9d5c3e6a10"
BADGE = "9f1e2d3c-4b5a-4697-8877-665544332211"  # the fixture's badge id: both organisations use it
CONNECTION_EXT = "https://credential-connector.dev/xapi/extensions/connection"
SECRETS = {"certifier": "whsec-eu-" + uuid.uuid4().hex, "openbadges": "ob-partner-" + uuid.uuid4().hex}


@pytest.fixture
def accounts(connector, tmp_path, monkeypatch):
    """The default Credly organisation and Accredible account (single-account settings), and one
    named connection of each: credly-academy (another organisation of the same fake Credly) and
    accredible-emea (another Accredible account), whose credential ids are the same as the default's."""
    from chalicelib.platforms.accredible.api import AccredibleClient
    from fakes.accredible_api import FakeAccredible

    token_b, hook_b = "credly-b-" + uuid.uuid4().hex, "path-b-" + uuid.uuid4().hex
    academy = connector.credly.add_organisation(ORG_B, token_b)
    for path in sorted((FIXTURES / "credly").glob("event_*.json")):
        detail = _other_learner(json.loads(path.read_text())["data"])
        academy.events[detail["id"]] = detail
    key_a, key_b = "acc-a-" + uuid.uuid4().hex, "acc-b-" + uuid.uuid4().hex
    first_id = random.randrange(10**8, 10**9)
    with FakeAccredible(key_a, first_id=first_id) as acc_a, FakeAccredible(key_b, first_id=first_id) as acc_b:
        (tmp_path / "connections.toml").write_text(
            f'[connections.credly-academy]\nplatform = "credly"\norganisation = "Academy Ltd"\n'
            f'CREDLY_ORG_ID = "{ORG_B}"\nCREDLY_TOKEN = "{token_b}"\nCREDLY_WEBHOOK_TOKEN = "{hook_b}"\n\n'
            f'[connections.accredible-emea]\nplatform = "accredible"\norganisation = "Acme EMEA"\n'
            f'ACCREDIBLE_API_BASE = "{acc_b.base_url}"\nACCREDIBLE_API_KEY = "{key_b}"\n\n'
            f'[connections.certifier-eu]\nplatform = "certifier"\n'
            f'CERTIFIER_WEBHOOK_SECRET = "{SECRETS["certifier"]}"\n\n'
            f'[connections.openbadges-partner]\nplatform = "openbadges"\n'
            f'OPENBADGES_INGEST_TOKEN = "{SECRETS["openbadges"]}"\n'
        )
        monkeypatch.setenv("CONNECTIONS", str(tmp_path / "connections.toml"))
        monkeypatch.setenv("ACCREDIBLE_API_BASE", acc_a.base_url)
        monkeypatch.setenv("ACCREDIBLE_API_KEY", key_a)
        monkeypatch.setattr(AccredibleClient, "requests_per_second", 1000.0)
        connector.restart()
        yield {"academy": academy, "hook_b": hook_b, "acc_a": acc_a, "acc_b": acc_b}


def _other_learner(detail: dict) -> dict:
    """The same event and badge ids in the other organisation, for another learner."""
    detail = copy.deepcopy(detail)
    detail["organization_id"] = ORG_B
    detail["badge"].update(
        recipient_email="grace.hopper@example.com",
        issued_to_first_name="Grace",
        issued_to_last_name="Hopper",
        issuer_earner_id="E-2002",
    )
    return detail


def statement_id(connector, key: str) -> str:
    return connector.statement_id(key)


def stored(lrs_session, lrs, statement_id_: str) -> dict | None:
    answer = lrs_session.get(lrs.statements_url, params={"statementId": statement_id_})
    return answer.json() if answer.status_code == 200 else None


def stored_since(lrs_session, lrs, since: str) -> list[dict]:
    """Every statement the LRS stored since `since` (this test's: the session's tests run one by one)."""
    answer = lrs_session.get(lrs.statements_url, params={"since": since, "limit": 500})
    assert answer.status_code == 200
    return answer.json()["statements"]


def by_connection(statements: list[dict]) -> Counter:
    return Counter(
        json.dumps(s.get("context", {}).get("extensions", {}).get(CONNECTION_EXT), sort_keys=True) for s in statements
    )


def connection_ext(name: str, organisation: str) -> str:
    return json.dumps({"name": name, "organisation": organisation}, sort_keys=True)


def now() -> str:
    return datetime.now(UTC).isoformat()


def test_two_credly_organisations_receive_on_their_own_routes_and_nothing_crosses(
    connector, accounts, lrs, lrs_session
):
    since = now()
    notification_a = fixture_json("credly/webhook_badge_created.json")
    notification_b = {**notification_a, "organization_id": ORG_B}
    default_route = f"/webhooks/credly/{connector.env['CREDLY_WEBHOOK_TOKEN']}"
    academy_route = f"/webhooks/credly/credly-academy/{accounts['hook_b']}"

    # Each token only on its own route: the other organisation's is refused, nothing queued.
    assert (
        connector.post(
            f"/webhooks/credly/credly-academy/{connector.env['CREDLY_WEBHOOK_TOKEN']}", notification_b
        ).status_code
        == 401
    )
    assert connector.post(f"/webhooks/credly/{accounts['hook_b']}", notification_a).status_code == 401
    assert connector.post(academy_route, notification_a).status_code == 403  # authentic, other organisation
    assert connector.post(f"/webhooks/credly/nobody/{accounts['hook_b']}", notification_b).status_code == 404
    assert connector.services.queue.depth() == 0

    # The same event id in both organisations: each is its own delivery, fetched with its own token.
    assert connector.post(default_route, notification_a).status_code == 200
    assert connector.post(academy_route, notification_b).status_code == 200
    assert json.loads(connector.post(academy_route, notification_b).body)["status"] == "duplicate"
    assert connector.services.queue.depth() == 2
    connector.drain()
    fetches = sorted(p for m, p in connector.credly.requests if "/events/" in p)
    assert fetches == sorted(f"/v1/organizations/{org}/events/{notification_a['id']}" for org in (ORG_ID, ORG_B))

    ada = stored(lrs_session, lrs, statement_id(connector, f"credly|{BADGE}|issued"))  # the id it always had
    grace = stored(lrs_session, lrs, statement_id(connector, f"credly/credly-academy|{BADGE}|issued"))
    assert ada["actor"]["mbox"] == "mailto:ada.lovelace@example.com"
    assert grace["actor"]["mbox"] == "mailto:grace.hopper@example.com"
    assert ada["context"]["extensions"][CONNECTION_EXT] == {"name": "credly", "organisation": "Credly"}
    assert grace["context"]["extensions"][CONNECTION_EXT] == {"name": "credly-academy", "organisation": "Academy Ltd"}
    counts = by_connection(stored_since(lrs_session, lrs, since))
    assert counts == {connection_ext("credly", "Credly"): 1, connection_ext("credly-academy", "Academy Ltd"): 1}
    assert connector.services.store.count_dead_letters() == 0


def test_two_accredible_accounts_pull_with_their_own_cursors_clients_and_statements(
    connector, accounts, lrs, lrs_session, capsys
):
    from chalicelib.cli import main

    since = now()
    acc_a, acc_b = accounts["acc_a"], accounts["acc_b"]
    mine = [acc_a.add_credential(f"a{i}@example.com", f"A {i}") for i in range(3)]
    theirs = [acc_b.add_credential(f"b{i}@example.com", f"B {i}") for i in range(5)]
    assert [c["id"] for c in mine] == [c["id"] for c in theirs[:3]]  # the same ids in both accounts

    assert main(["sync", "accredible", "--json"]) == 0
    assert main(["sync", "accredible-emea", "--json"]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["platform"], s["records"]) for s in summaries] == [("accredible", 3), ("accredible-emea", 5)]

    # Each account's key went to its own account only.
    assert {r.headers.get("Authorization") for r in acc_a.received} == {f"Token token={acc_a.api_key}"}
    assert {r.headers.get("Authorization") for r in acc_b.received} == {f"Token token={acc_b.api_key}"}
    store = connector.services.store
    cursor_a, cursor_b = store.cursor("pull:accredible:sync"), store.cursor("pull:accredible-emea:sync")
    assert cursor_a and cursor_b and cursor_a != cursor_b

    statements = stored_since(lrs_session, lrs, since)
    assert by_connection(statements) == {
        connection_ext("accredible", "Accredible"): 3,
        connection_ext("accredible-emea", "Acme EMEA"): 5,
    }
    for credential in theirs:
        sid = statement_id(connector, f"accredible/accredible-emea|{credential['id']}|issued")
        assert stored(lrs_session, lrs, sid)["actor"]["mbox"] == f"mailto:{credential['recipient']['email']}"
    for credential in mine:
        sid = statement_id(connector, f"accredible|{credential['id']}|issued")
        assert stored(lrs_session, lrs, sid)["actor"]["mbox"] == f"mailto:{credential['recipient']['email']}"

    # A second sync of one account reads only that account, from its own cursor.
    acc_b.add_credential("b9@example.com", "B 9")
    assert main(["sync", "accredible-emea", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 1
    assert store.cursor("pull:accredible:sync") == cursor_a


def test_a_credly_pull_per_organisation_and_status_per_connection(connector, accounts, capsys):
    from chalicelib.cli import main

    badge = fixture_json("credly/event_badge_created.json")["data"]["badge"]
    connector.credly.add_badge(badge)
    accounts["academy"].badges.extend(
        [
            _other_learner({"badge": badge, "id": "x"})["badge"],
            {**_other_learner({"badge": badge, "id": "y"})["badge"], "id": str(uuid.uuid4())},
        ]
    )
    assert main(["sync", "credly-academy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 2
    assert main(["backfill", "credly", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 1
    assert main(["status", "--json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    sources = {(s["source"], s["mode"]) for s in report["sources"]}
    assert {("credly-academy", "sync"), ("credly", "backfill")} <= sources
    runs = {s["source"]: s["last_run"]["records"] for s in report["sources"] if s["last_run"]}
    assert (runs["credly-academy"], runs["credly"]) == (2, 1)
    assert {"credly_auth", "credly-academy_auth", "accredible-emea_auth"} <= {c["name"] for c in report["credentials"]}
    assert main(["backfill", "credly-nowhere"]) == 2
    assert "unknown connection 'credly-nowhere'" in capsys.readouterr().err


TEMPLATE = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"
AWARD_RULES = f"""
[aliases]
final-exam = ["https://lms.example.com/courses/python-301/final-exam"]

[[rules]]
id = "python-expert"
name = "Python Expert"
credential = {{ platform = "credly", id = "{TEMPLATE}" }}
[[rules.statements]]
verb = "passed"
activity = "alias:final-exam"

[[rules]]
id = "python-expert-academy"
name = "Python Expert (Academy)"
credential = {{ platform = "credly", id = "{TEMPLATE}" }}
connection = "credly-academy"
[[rules.statements]]
verb = "passed"
activity = "alias:final-exam"

[[rules]]
id = "python-emea"
name = "Python (EMEA)"
credential = {{ platform = "accredible", id = "771002" }}
connection = "accredible-emea"
[[rules.statements]]
verb = "passed"
activity = "alias:final-exam"
"""


def test_awards_go_through_the_connection_each_rule_names_and_their_ledgers_stay_apart(
    connector, accounts, lrs, lrs_session, monkeypatch, tmp_path
):
    from tests.awards.test_worker import forward, passed_exam, with_rules

    with_rules(connector, monkeypatch, tmp_path, AWARD_RULES)
    since = now()
    forward(connector, passed_exam())
    connector.drain()

    # The same template id on both organisations: one award each, through each one's own token.
    assert [i["badge_template_id"] for i in connector.credly.issued] == [TEMPLATE]
    assert [i["badge_template_id"] for i in accounts["academy"].issued] == [TEMPLATE]
    posted = [r for r in accounts["acc_b"].received if r.path == "/v1/credentials"]
    assert [r.body["credential"]["group_id"] for r in posted] == [771002]
    assert [r for r in accounts["acc_a"].received if r.path == "/v1/credentials"] == []
    store = connector.services.store
    keys = [
        f"credly|{TEMPLATE}|E-1001",
        f"credly/credly-academy|{TEMPLATE}|E-1001",
        "accredible/accredible-emea|771002|E-1001",
    ]
    assert [store.award(key)["state"] for key in keys] == ["awarded", "awarded", "awarded"]
    assert store.award("accredible|771002|E-1001") is None
    # Accredible sends no webhook: its award's issued statement is the connection's, in the LRS.
    [issued] = [
        s
        for s in stored_since(lrs_session, lrs, since)
        if s["context"]["extensions"].get(CONNECTION_EXT, {}).get("name") == "accredible-emea"
    ]
    assert issued["context"]["extensions"][CONNECTION_EXT]["organisation"] == "Acme EMEA"
    assert issued["id"] == statement_id(
        connector, f"accredible/accredible-emea|{accounts['acc_b'].credentials[0]['id']}|issued"
    )

    # Evidence again: every ledger already holds its award, nothing is issued twice.
    forward(connector, passed_exam())
    connector.drain()
    assert (len(connector.credly.issued), len(accounts["academy"].issued), len(posted)) == (1, 1, 1)
    assert connector.services.store.count_dead_letters() == 0


@pytest.mark.parametrize(
    "connection_line, reason",
    [
        ('connection = "credly-nowhere"', "unknown connection 'credly-nowhere'"),
        ('connection = "accredible-emea"', "'accredible-emea' is a accredible connection, the credential is on credly"),
    ],
)
def test_a_rule_naming_a_connection_that_cannot_award_it_keeps_the_evidence(
    connector, accounts, monkeypatch, tmp_path, connection_line, reason
):
    from tests.awards.test_worker import forward, passed_exam, with_rules

    rules = AWARD_RULES.replace('connection = "credly-academy"', connection_line)
    with_rules(connector, monkeypatch, tmp_path, rules)
    forward(connector, passed_exam())
    connector.drain()
    assert connector.credly.issued == [] and accounts["academy"].issued == []
    [letter] = connector.services.store.dead_letters()
    assert letter.source == "lap" and "award rule python-expert-academy" in letter.reason and reason in letter.reason


def signed(body: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    import hashlib
    import hmac

    raw = json.dumps(body).encode()
    return raw, {"X-Webhook-Signature": hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


def test_certifier_and_open_badges_connections_have_their_own_routes_and_secrets(connector, accounts, lrs, lrs_session):
    since = now()
    body = fixture_json("certifier/webhook_credential_issued.json")
    assert (
        connector.post(
            "/webhooks/certifier/certifier-eu", *signed(body, connector.env["CERTIFIER_WEBHOOK_SECRET"])
        ).status_code
        == 401
    )
    assert connector.post("/webhooks/certifier", *signed(body, SECRETS["certifier"])).status_code == 401
    document = fixture_json("openbadges/ob3_credential.json")
    default_bearer = {"Authorization": f"Bearer {connector.env['OPENBADGES_INGEST_TOKEN']}"}
    partner_bearer = {"Authorization": f"Bearer {SECRETS['openbadges']}"}
    assert connector.post("/ingest/openbadges/openbadges-partner", document, default_bearer).status_code == 401
    assert connector.post("/ingest/openbadges/certifier-eu", document, partner_bearer).status_code == 404
    assert connector.services.queue.depth() == 0

    # The same delivery on both accounts' routes: neither is taken for the other's redelivery.
    assert (
        connector.post("/webhooks/certifier", *signed(body, connector.env["CERTIFIER_WEBHOOK_SECRET"])).status_code
        == 202
    )
    assert connector.post("/webhooks/certifier/certifier-eu", *signed(body, SECRETS["certifier"])).status_code == 202
    assert connector.post("/ingest/openbadges/openbadges-partner", document, partner_bearer).status_code == 202
    connector.drain()
    credential = "01JD8Q1A2B3C4D5E6F7G8H9J0K"
    for key, name in (
        (f"certifier|{credential}|issued", "certifier"),
        (f"certifier/certifier-eu|{credential}|issued", "certifier-eu"),
        (f"openbadges/openbadges-partner|{document['id']}|issued", "openbadges-partner"),
    ):
        assert (
            stored(lrs_session, lrs, statement_id(connector, key))["context"]["extensions"][CONNECTION_EXT]["name"]
            == name
        )
    counts = by_connection(stored_since(lrs_session, lrs, since))
    assert counts == {
        connection_ext("certifier", "Certifier"): 1,
        connection_ext("certifier-eu", "certifier-eu"): 1,
        connection_ext("openbadges-partner", "openbadges-partner"): 1,
    }
    assert connector.services.store.count_dead_letters() == 0


def test_status_names_a_connections_file_it_cannot_use(connector, tmp_path, monkeypatch, capsys):
    from chalicelib.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[connections.credly-academy]\nplatform = "credly"\nLRS_PASSWORD = "x"\n')
    monkeypatch.setenv("CONNECTIONS", str(bad))
    connector.restart()
    assert main(["status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [reason] = [r for r in report["attention"] if str(bad) in r]
    assert "'credly-academy'" in reason and "LRS_PASSWORD" in reason
    assert [p["name"] for p in report["configuration"]["platforms"]] == [
        "credly",
        "certifier",
        "openbadges",
        "badgr",
        "accredible",
    ]


def test_a_named_connection_has_its_own_scheduled_sync(connector, accounts, monkeypatch):
    import importlib
    import sys

    badge = fixture_json("credly/event_badge_created.json")["data"]["badge"]
    accounts["academy"].badges.append(_other_learner({"badge": badge, "id": "x"})["badge"])
    monkeypatch.setenv("SYNC_PLATFORMS", "credly,credly-academy")
    monkeypatch.delitem(sys.modules, "app", raising=False)
    app = importlib.import_module("app")
    try:
        handler = getattr(app, "sync_credly-academy")  # Lambda's handler: app.sync_credly-academy
        scheduled = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": now(),
            "region": "eu-west-1",
            "resources": [],
            "detail": {},
        }
        context = type("Context", (), {"aws_request_id": "r1", "get_remaining_time_in_millis": lambda self: 300_000})()
        app.app.lambda_context = context
        assert handler(scheduled, context)["records"] == 1
    finally:
        sys.modules.pop("app", None)
    history = {(h.last.source, h.last.mode): h.last for h in connector.services.store.runs()}
    assert history[("credly-academy", "scheduled-sync")].records == 1
    assert ("credly", "scheduled-sync") not in history
