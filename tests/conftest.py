from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lrs_process import XAPI_VERSION, LrsProcess  # tools/ is on sys.path via pyproject.toml (pytest)

# Fixtures that tests anywhere under tests/ request by name (none is autouse): the connector on the
# real LRS, the store on both backends, the configured API. Test folders mirror chalicelib/, so
# these cannot be scoped by folder any more.
pytest_plugins = ["tests.support.connector", "tests.support.stores", "tests.support.api"]


@pytest.fixture(scope="session")
def lrs() -> Iterator[LrsProcess]:
    """One in-memory LRS for the whole session; data persists across tests (memory mode: lost on restart)."""
    with LrsProcess() as proc:
        yield proc


@pytest.fixture
def lrs_session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["X-Experience-API-Version"] = XAPI_VERSION
        yield s


@pytest.fixture
def mocked_aws(monkeypatch) -> Iterator[None]:
    """moto's AWS, with fake credentials and region so nothing can reach a real account."""
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    from chalicelib.awsclients import forget_clients

    forget_clients()  # clients made for another mocked account must not be reused
    with mock_aws():
        yield
    forget_clients()
