from __future__ import annotations

from pathlib import Path

import pytest

import lrs_process
from lrs_process import LrsError, LrsProcess


def test_missing_node_modules_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(lrs_process, "SERVER_JS", tmp_path / "missing" / "server.js")
    with pytest.raises(LrsError, match="make lrs-install"):
        LrsProcess().start()
