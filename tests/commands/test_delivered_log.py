"""`python -m chalicelib delivered-log show|forget`: after a pull the log holds the statement ids;
forgetting it makes the next pull POST them to the real LRS again. The endpoint key is the one
the worker uses (credentials and case left out); another endpoint's log is left alone; DynamoDB
says "not counted" rather than scanning the table; a bad --endpoint is a usage error."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.delivery.test_delivered_lrs import BADGES, counted, imported, own_lrs, posted_ids  # noqa: F401

CONFIGURED, OTHER = "https://lrs.example/xAPI/", "https://other-lrs.example/xAPI/"


def cli(capsys, *argv: str) -> tuple[int, str]:
    from chalicelib.cli import main

    code = main(list(argv))
    return code, capsys.readouterr().out


def cli_json(capsys, *argv: str) -> dict:
    code, out = cli(capsys, *argv, "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def configured(tmp_path, monkeypatch) -> Iterator[None]:
    """LRS_ENDPOINT written with a user, a password and an upper-case host, state in SQLite."""
    from chalicelib.runtime import services

    monkeypatch.setenv("LRS_ENDPOINT", "https://conn:s3cret@LRS.Example/xAPI/")
    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    monkeypatch.delenv("DELIVERY_LOG", raising=False)
    services.cache_clear()
    yield
    services.cache_clear()


def record(ids: dict[str, list[str]]) -> None:
    from chalicelib.runtime import services

    for endpoint, statement_ids in ids.items():
        services().store.record_delivered(endpoint, statement_ids)


@pytest.mark.integration
def test_forget_empties_the_log_so_the_next_pull_posts_the_statements_again(connector, imported, counted, capsys):
    from chalicelib.cli import main

    assert main(["backfill", "credly", "--json"]) == 0 and posted_ids(counted) == set()  # all skipped
    capsys.readouterr()
    assert cli_json(capsys, "delivered-log", "show")["recorded"] == 2 * BADGES

    assert cli_json(capsys, "delivered-log", "forget")["forgotten"] == 2 * BADGES
    assert cli_json(capsys, "delivered-log", "show")["recorded"] == 0
    assert main(["backfill", "credly", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert posted_ids(counted) == imported  # each POSTed again, answered "already stored"
    assert (summary["already_stored"], summary["dead_letters"]) == (2 * BADGES, 0)
    assert cli_json(capsys, "delivered-log", "show")["recorded"] == 2 * BADGES  # refilled by that pull


def test_show_names_the_endpoint_key_the_count_and_whether_the_log_is_on(configured, capsys, monkeypatch):
    from chalicelib.runtime import services

    record({CONFIGURED: ["s1", "s2", "s1", "s3"], OTHER: ["s9"]})
    code, out = cli(capsys, "delivered-log", "show")

    assert code == 0 and "s3cret" not in out and "conn" not in out
    assert out.splitlines() == [
        f"endpoint      {CONFIGURED}",
        "recorded      3 statement id(s)",
        "DELIVERY_LOG  on (the default with STATE_BACKEND=sqlite)",
    ]
    monkeypatch.setenv("DELIVERY_LOG", "false")
    services.cache_clear()
    assert cli_json(capsys, "delivered-log", "show") == {"endpoint": CONFIGURED, "recorded": 3, "delivery_log": False}


def test_forget_takes_the_configured_endpoint_or_another_and_leaves_the_rest(configured, capsys):
    from chalicelib.runtime import services

    record({CONFIGURED: ["s1", "s2"], OTHER: ["s1", "s9"]})
    code, out = cli(capsys, "delivered-log", "forget", "--endpoint", "https://someone:pw@OTHER-LRS.example/xAPI/")

    assert code == 0 and out.startswith(f"delivered-log: forgot 2 statement id(s) for {OTHER}")
    store = services().store
    assert (store.delivered_ids(OTHER, ["s1", "s9"]), store.delivered_ids(CONFIGURED, ["s1", "s2"])) == (
        set(),
        {"s1", "s2"},
    )
    assert cli(capsys, "delivered-log", "forget") == (
        0,
        f"delivered-log: forgot 2 statement id(s) for {CONFIGURED}: the next deliveries send those statements again\n",
    )
    assert store.delivered_ids(CONFIGURED, ["s1", "s2"]) == set()
    assert cli(capsys, "delivered-log", "forget") == (0, f"delivered-log: nothing recorded for {CONFIGURED}\n")


@pytest.mark.parametrize("endpoint", ["lrs.example/xAPI/", "ftp://lrs.example/", "https://user@/xAPI/", ""])
def test_a_bad_endpoint_is_a_usage_error_and_forgets_nothing(configured, capsys, endpoint):
    from chalicelib.runtime import services

    record({CONFIGURED: ["s1"]})
    with pytest.raises(SystemExit) as stopped:
        cli(capsys, "delivered-log", "forget", "--endpoint", endpoint)

    assert stopped.value.code == 2 and "expected an http(s) URL" in capsys.readouterr().err
    assert services().store.count_delivered(CONFIGURED) == 1


def test_on_dynamodb_the_log_is_not_counted_by_a_scan(mocked_aws, monkeypatch, capsys):
    from chalicelib.runtime import services
    from tests.support.stores import TABLE, create_table

    create_table(TABLE)
    for name, value in {"STATE_BACKEND": "dynamodb", "TABLE_NAME": TABLE, "LRS_ENDPOINT": CONFIGURED}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DELIVERY_LOG", raising=False)
    services.cache_clear()
    record({CONFIGURED: ["s1", "s2"]})
    operations: Counter = Counter()
    count = lambda model, **_: operations.update([model.name])  # noqa: E731
    services().store.client.meta.events.register("before-call.dynamodb", count)

    code, out = cli(capsys, "delivered-log", "show")
    assert code == 0 and out.splitlines()[1:] == [
        "recorded      not counted: DynamoDB would scan the table",
        "DELIVERY_LOG  off (the default with STATE_BACKEND=dynamodb)",
    ]
    assert cli_json(capsys, "delivered-log", "forget") == {"endpoint": CONFIGURED, "forgotten": None}
    assert cli_json(capsys, "delivered-log", "show")["recorded"] == 0
    assert services().store.delivered_ids(CONFIGURED, ["s1", "s2"]) == set()
    assert "Scan" not in operations and operations["GetItem"] >= 3
    services.cache_clear()
