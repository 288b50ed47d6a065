"""The connector's version has one place, chalicelib.__version__: the command line, GET /health,
the OpenAPI document and the package metadata all show it, and the changelog has its section."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

from packaging.version import Version

from chalicelib import __version__

from .stages import ROOT


def test_the_version_is_a_release_version():
    assert str(Version(__version__)) == __version__  # normalized PEP 440, as the metadata needs it


def test_the_command_line_prints_it():
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == __version__


def test_get_health_answers_it(monkeypatch, tmp_path):
    from chalice.test import Client

    import app as chalice_app

    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    monkeypatch.setenv("LRS_ENDPOINT", "http://127.0.0.1:9/xAPI/")  # discard port: down, answered at once
    answer = Client(chalice_app.app, stage_name="test").http.get("/health")
    assert json.loads(answer.body)["version"] == __version__


def test_the_openapi_document_gives_it_as_the_api_version():
    from chalicelib.openapi import document

    assert document()["info"]["version"] == __version__


def test_the_package_metadata_reads_it_from_chalicelib():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "chalicelib.__version__"}


def test_the_changelog_has_unreleased_on_top_then_this_version():
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings[:2] == ["Unreleased", __version__]
