"""Named connections (CONNECTIONS): the file's format and its refusals, what a connection's
settings are, and what its statements and messages carry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from pathlib import Path

import pytest

from chalicelib import secrets
from chalicelib.connections import configured_connections, connection
from chalicelib.errors import SettingsError
from chalicelib.settings import DEFAULT_STATEMENT_NAMESPACE, load_settings
from tests.support.helpers import AS_OF, EXT, FIXTURES

ACADEMY = """
[connections.credly-academy]
platform = "credly"
organisation = "Academy Ltd"
CREDLY_ORG_ID = "org-b"
CREDLY_TOKEN = "token-b"
CREDLY_WEBHOOK_TOKEN = "hook-b"

[connections.accredible-emea]
platform = "accredible"
ACCREDIBLE_API_KEY = "ssm:/credential-connector/prod/platforms/accredible-emea"
ACCREDIBLE_REQUESTS_PER_SECOND = 2
"""
DEFAULT_ENV = {"CREDLY_ORG_ID": "org-a", "CREDLY_TOKEN": "token-a", "CREDLY_WEBHOOK_TOKEN": "hook-a"}


def settings_with(tmp_path: Path, text: str, **env: str):
    path = tmp_path / "connections.toml"
    path.write_text(text)
    return load_settings({"CONNECTIONS": str(path), **DEFAULT_ENV, **env}), path


def test_default_connections_first_then_the_named_ones_each_with_its_own_settings(tmp_path):
    settings, _ = settings_with(tmp_path, ACADEMY)
    found = configured_connections(settings)
    assert [(c.name, c.platform, c.organisation, c.is_default) for c in found] == [
        ("credly", "credly", "Credly", True),
        ("credly-academy", "credly", "Academy Ltd", False),
        ("accredible-emea", "accredible", "accredible-emea", False),  # no label: its name
    ]
    default, academy, emea = found
    assert default.settings is settings
    assert (academy.settings.credly_org_id, secrets.reveal(academy.settings, "credly_token")) == ("org-b", "token-b")
    assert emea.settings.accredible_requests_per_second == 2.0
    # A secret reference stays a reference, resolved like a top-level one.
    assert (
        emea.settings.accredible_api_key.get_secret_value()
        == "ssm:/credential-connector/prod/platforms/accredible-emea"
    )
    assert connection(settings, "credly").is_default and connection(settings, "accredible-emea") == emea


def test_single_account_settings_alone_are_the_default_connections():
    found = configured_connections(load_settings(DEFAULT_ENV))
    assert [c.name for c in found] == ["credly"]


def test_a_named_connection_never_inherits_the_default_accounts_credentials(tmp_path):
    settings, _ = settings_with(
        tmp_path,
        '[connections.credly-half]\nplatform = "credly"\nCREDLY_ORG_ID = "org-c"\n',
        CREDLY_API_BASE="https://sandbox-api.credly.com/v1/",
    )
    half = connection(settings, "credly-half")
    assert half.settings.credly_token is None and half.settings.credly_webhook_token is None
    assert half.settings.credly_api_base == "https://sandbox-api.credly.com/v1/"  # not a credential: inherited
    assert [c.name for c in configured_connections(settings)] == ["credly"]  # nothing to call it with


def test_an_unknown_name_is_refused_naming_the_known_connections(tmp_path):
    settings, _ = settings_with(tmp_path, ACADEMY)
    with pytest.raises(SettingsError) as caught:
        connection(settings, "credly-acadmy")
    assert "credly-acadmy" in str(caught.value) and "credly-academy" in str(caught.value)


@pytest.mark.parametrize(
    "text, connection_name, key",
    [
        ('[connections.Academy]\nplatform = "credly"\n', "Academy", "a name is lower-case"),
        ('[connections.credly]\nplatform = "credly"\n', "credly", "the name is taken"),
        ('[connections.lap]\nplatform = "credly"\n', "lap", "the name is taken"),
        ('[connections.x]\nplatform = "moodle"\n', "x", "platform"),
        (
            '[connections.x]\nplatform = "credly"\nLRS_ENDPOINT = "https://elsewhere.example/xAPI/"\n',
            "x",
            "LRS_ENDPOINT",
        ),
        ('[connections.x]\nplatform = "credly"\nACCREDIBLE_API_KEY = "k"\n', "x", "ACCREDIBLE_API_KEY"),
        (
            '[connections.x]\nplatform = "accredible"\nACCREDIBLE_REQUESTS_PER_SECOND = "fast"\n',
            "x",
            "ACCREDIBLE_REQUESTS_PER_SECOND",
        ),
        ('[connections.x]\nplatform = "credly"\nCREDLY_TOKEN = ["a"]\n', "x", "CREDLY_TOKEN"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_the_connection_and_the_key(tmp_path, text, connection_name, key):
    settings, path = settings_with(tmp_path, text)
    with pytest.raises(SettingsError) as caught:
        configured_connections(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and repr(connection_name) in message and key in message


def test_a_bad_file_is_exit_2_with_one_error_line(tmp_path, monkeypatch, capsys):
    from chalicelib.cli import main

    path = tmp_path / "connections.toml"
    path.write_text('[connections.credly-academy]\nplatform = "credly"\nLRS_PASSWORD = "x"\n')
    monkeypatch.setenv("CONNECTIONS", str(path))
    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    assert main(["backfill", "credly-academy"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and str(path) in line and "'credly-academy'" in line and "LRS_PASSWORD" in line


def _credly_event(connection_name: str | None):
    from chalicelib.delivery.translation import Translator

    document = json.loads((FIXTURES / "credly" / "event_badge_created.json").read_text())["data"]
    events = Translator(load_settings({})).adapter("credly").parse(document)
    return events[0].model_copy(update={"connection": connection_name})


def test_default_statement_ids_are_unchanged_and_a_named_connections_are_its_own(tmp_path):
    from chalicelib.delivery.translation import Translator

    settings, _ = settings_with(tmp_path, ACADEMY, LEARNER_DIRECTORY=str(FIXTURES / "directory.csv"))
    translator = Translator(settings)
    namespace = uuid.UUID(DEFAULT_STATEMENT_NAMESPACE)
    default, named = (translator.statements(_credly_event(c), AS_OF)[0] for c in (None, "credly-academy"))
    badge = "9f1e2d3c-4b5a-4697-8877-665544332211"
    assert default["id"] == str(uuid.uuid5(namespace, f"credly|{badge}|issued"))  # as before connections
    assert named["id"] == str(uuid.uuid5(namespace, f"credly/credly-academy|{badge}|issued"))
    extension = f"{EXT}/extensions/connection"
    assert default["context"]["extensions"][extension] == {"name": "credly", "organisation": "Credly"}
    assert named["context"]["extensions"][extension] == {"name": "credly-academy", "organisation": "Academy Ltd"}


def test_a_named_connections_documents_are_read_into_events_that_carry_it(tmp_path):
    from chalicelib.platforms import adapter_for

    settings, _ = settings_with(tmp_path, ACADEMY)
    document = json.loads((FIXTURES / "credly" / "event_badge_created.json").read_text())["data"]
    assert {e.connection for e in adapter_for("credly-academy", settings).parse(document)} == {"credly-academy"}
    assert {e.connection for e in adapter_for("credly", settings).parse(document)} == {None}


def test_a_message_queued_before_connections_is_the_default_connections():
    from chalicelib.queue import QueueMessage

    old = {
        "id": "m1",
        "source": "credly",
        "kind": "notification",
        "body": {"id": "e1"},
        "event_id": "e1",
        "received_at": "2026-11-20T14:03:11.000+00:00",
    }
    assert QueueMessage.model_validate(old).source == "credly"


def test_the_access_log_hides_a_named_connections_webhook_token():
    import app
    from chalicelib.localserver import Redactor

    redactor = Redactor(frozenset(p.strip("/").split("/")[-1] for p in app.SECRET_PATHS))
    line = redactor.line("POST /webhooks/credly/credly-academy/s3cr3t-path-token HTTP/1.1")
    assert "s3cr3t-path-token" not in line and line.startswith("POST /webhooks/credly/")


def test_the_report_keeps_one_organisations_credentials_with_organisation(tmp_path):
    from datetime import datetime

    from chalicelib.delivery.translation import Translator
    from chalicelib.report.cli_options import add_arguments, more_from
    from chalicelib.report.facts import StatementReader
    from chalicelib.report.ledger import Ledger, Window
    from chalicelib.xapi.vocabulary import DeploymentVocabulary

    settings, _ = settings_with(tmp_path, ACADEMY, LEARNER_DIRECTORY=str(FIXTURES / "directory.csv"))
    translator = Translator(settings)
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    ledger = Ledger(StatementReader(DeploymentVocabulary(EXT)), window)
    for name, learner in ((None, "ada@example.com"), ("credly-academy", "grace@example.com")):
        earned = translator.statements(_credly_event(name), AS_OF)[0]
        ledger.add({**earned, "actor": {"mbox": f"mailto:{learner}"}, "stored": "2026-11-21T00:00:00Z"})
    # A statement from before connections: no extension, its platform only.
    before = translator.statements(_credly_event(None), AS_OF)[0]
    del before["context"]["extensions"][f"{EXT}/extensions/connection"]
    ledger.add(
        {
            **before,
            "id": str(uuid.uuid4()),
            "actor": {"mbox": "mailto:old@example.com"},
            "stored": "2026-11-21T00:00:00Z",
        }
    )

    def kept(*options: str) -> set[tuple[str, ...]]:
        parser = __import__("argparse").ArgumentParser()
        add_arguments(parser)
        restricted = more_from(parser.parse_args(list(options))).filters.restrict(ledger, None)
        return {c.organisations for earnings in restricted.earnings.values() for c in earnings.values()}

    assert kept("--organisation", "academy LTD") == {("Academy Ltd", "credly-academy", "Credly")}
    assert kept("--organisation", "credly-academy") == {("Academy Ltd", "credly-academy", "Credly")}
    assert kept("--organisation", "Credly") == {
        ("Credly", "credly", "Credly"),
        ("Academy Ltd", "credly-academy", "Credly"),
        ("Credly",),
    }
    assert len(kept()) == 3
