"""requirements.txt is the lock of pyproject.toml's dependencies (`make lock`): every package the
Lambda zip bundles, pinned, with the hashes chalice's download checks."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .stages import ROOT
from .test_package import STAGE, deployment_zip, offline_env, packaged, project_copy  # noqa: F401 (fixture)

BIN = Path(sys.executable).parent
SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


def locked(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes), read as pip reads the file: continuation lines joined."""
    pins = {}
    for line in text.replace("\\\n", " ").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        requirement, *options = words
        name, equals, version = requirement.partition("==")
        assert equals and Version(version), f"not pinned: {line}"
        hashes = [option.removeprefix("--hash=") for option in options]
        assert all(option.startswith("--hash=") for option in options), f"not a hash: {line}"
        pins[canonicalize_name(name)] = (version, hashes)
    return pins


def lock() -> dict[str, tuple[str, list[str]]]:
    return locked((ROOT / "requirements.txt").read_text())


def versions(pins: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    return {name: version for name, (version, _) in pins.items()}


def dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, read from the installed packages' metadata
    (make venv installs the lock)."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo.extend(Requirement(spec) for spec in distribution(name).requires or [])
    return seen


def test_every_locked_package_is_pinned_with_sha256_hashes():
    pins = lock()
    assert pins
    for name, (_, hashes) in pins.items():
        assert hashes and all(SHA256.fullmatch(h) for h in hashes), name


def test_the_lock_satisfies_every_dependency_range():
    pins = lock()
    for requirement in dependencies():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name}: in pyproject.toml, not in the lock (make lock)"
        assert requirement.specifier.contains(pins[name][0]), f"{name} {pins[name][0]}: outside {requirement}"


def test_the_lock_holds_the_dependencies_and_what_they_need_nothing_else():
    assert set(lock()) == closure(dependencies())


def test_the_zip_bundles_exactly_the_locked_versions(packaged):
    with zipfile.ZipFile(deployment_zip(packaged)) as archive:
        tops = {entry.split("/", 1)[0] for entry in archive.namelist()}
    named = (top.removesuffix(".dist-info").rsplit("-", 1) for top in tops if top.endswith(".dist-info"))
    assert {canonicalize_name(name): version for name, version in named} == versions(lock())


def test_a_downloaded_file_not_matching_its_hash_stops_the_packaging(tmp_path):
    project = project_copy(tmp_path)
    pins = lock()
    name = "idna"
    text = (project / "requirements.txt").read_text()
    for digest in pins[name][1]:
        text = text.replace(digest, "sha256:" + "0" * 64)
    (project / "requirements.txt").write_text(text)
    result = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", STAGE, str(tmp_path / "dist")],
        cwd=project,
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stdout + result.stderr
    assert not (tmp_path / "dist" / "deployment.zip").exists()


def test_make_venv_holds_the_dev_tools_to_the_locked_versions():
    """The constraints make venv derives from the lock: each locked version, no hash (pip takes
    no hashes in constraints unless every requirement has them)."""
    command = re.search(
        r"^\tsed (.*) requirements\.txt > \$\(VENV\)/runtime-pins\.txt$", (ROOT / "Makefile").read_text(), re.M
    )
    assert command, "make venv no longer derives its constraints from the lock"
    pins = subprocess.run(
        f"sed {command.group(1).replace('$$', '$')} requirements.txt",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line.strip() for line in pins.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    constraints = dict(line.split("==") for line in lines)
    assert {canonicalize_name(name): version for name, version in constraints.items()} == versions(lock())
