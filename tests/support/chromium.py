"""Headless Chromium for the report's page: found, or installed with apt-get, never skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# This machine's network is closed: without these, Chromium waits on updates, sync and QUIC.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def executable() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    apt = ["apt-get"] if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo", "-n", "apt-get"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    answers = [
        subprocess.run([*apt, *step], env=env, capture_output=True, text=True, timeout=900)
        for step in (["update"], ["install", "-y", "chromium"])
    ]
    found = shutil.which("chromium")
    if not found:
        tail = (answers[-1].stderr or answers[-1].stdout).strip()[-400:]
        pytest.fail(
            f"headless Chromium is needed to check the report page, and `apt-get install -y chromium` failed: {tail}"
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        try:
            return subprocess.run(
                [executable(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired:  # e.g. a dialog opened by a script that should never have run
            pytest.fail(f"Chromium did not finish within 60 s: {' '.join(args)}")


def dump_dom(page: Path) -> str:
    answer = run("--dump-dom", page.resolve().as_uri())
    assert answer.returncode == 0, answer.stderr[-2000:]
    return answer.stdout


def screenshot(page: Path, png: Path, width: int, height: int) -> Path:
    answer = run(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri())
    assert answer.returncode == 0 and png.exists(), answer.stderr[-2000:]
    return png
