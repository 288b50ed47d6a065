from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lrs_process import XAPI_VERSION, LrsProcess  # tools/ is on sys.path via pytest.ini


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
