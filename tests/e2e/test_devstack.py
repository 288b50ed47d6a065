"""`make run` and `make demo` as a new user meets them: the settings file a second terminal
sources, the stack stopping with every process it started on any stop signal, a test LRS that
answers on loopback only, and the demo printing the figures the README quotes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from chalicelib.settings import load_settings
from devstack import CREDLY_ORG, ROOT, STOP_SECONDS, children_of, default_state_path, demo_history, running
from lrs_process import LrsProcess, free_port

pytestmark = pytest.mark.integration

DEVSTACK = ROOT / "tools" / "devstack.py"
STACK_SETTINGS = {
    "LRS_ENDPOINT",
    "STATE_PATH",
    "LEARNER_DIRECTORY",
    "CREDLY_API_BASE",
    "CREDLY_ORG_ID",
    "CREDLY_TOKEN",
    "CREDLY_WEBHOOK_TOKEN",
    "CERTIFIER_WEBHOOK_SECRET",
    "OPENBADGES_INGEST_TOKEN",
    "LAP_TOKEN",
    "SHARE_LINKS_TOKEN",
    "SHARE_LINK_SECRET",
    "STATUS_TOKEN",
    "PUBLIC_BASE_URL",
}
SUMMARY = re.compile(r"delivered \d+ / already stored \d+ / duplicates \d+ / skipped \d+ / dead letters \d+")


def _wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def _descendants(pid: int) -> list[int]:
    found = children_of(pid)
    return found + [grandchild for child in found for grandchild in _descendants(child)]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RunningStack:
    """`tools/devstack.py run` as `make run &` starts it (SIGINT ignored, as for any background
    job of a script), on free ports, its state and settings file in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.ports = dict(zip(("--port", "--lrs-port", "--credly-port"), _distinct_free_ports(3), strict=True))
        self.env_file = folder / "local.env"
        self.state_path = folder / "state.sqlite"
        self.output = folder / "devstack.out"
        arguments = [str(part) for pair in self.ports.items() for part in pair]
        command = [sys.executable, str(DEVSTACK), "run", *arguments, "--env-file", str(self.env_file)]
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, "STATE_PATH": str(self.state_path)},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
            )
        self.url = f"http://127.0.0.1:{self.ports['--port']}"
        self.seen: set[int] = set()  # every process of the stack seen so far, for close()

    def wait_until_up(self) -> None:
        up = _wait_for(lambda: self.env_file.exists() or self.process.poll() is not None, timeout=120)
        assert up and self.process.poll() is None, self.output.read_text(errors="replace")

    def settings(self) -> dict[str, str]:
        script = f". {self.env_file} && env -0"
        dumped = subprocess.run(["bash", "-c", script], env=_without_stack_settings(), capture_output=True, check=True)
        pairs = (item.split("=", 1) for item in dumped.stdout.decode().split("\0") if "=" in item)
        return {name: value for name, value in pairs if name in STACK_SETTINGS}

    def second_terminal(self, *command: str) -> subprocess.CompletedProcess[str]:
        """`. local.env` then a connector command, as typed in another terminal of the project folder."""
        script = f". {self.env_file} && exec {sys.executable} -m chalicelib {' '.join(command)}"
        return subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=_without_stack_settings(), capture_output=True, text=True, timeout=120
        )

    def processes(self) -> list[int]:
        """The stack's processes once chalice local has started its worker (on its first request)."""
        requests.get(self.url + "/health", timeout=10)
        assert _wait_for(lambda: len(_descendants(self.process.pid)) >= 3, timeout=30), _descendants(self.process.pid)
        found = _descendants(self.process.pid)
        self.seen.update(found)
        return found

    def close(self) -> None:
        """Whatever a failed test left running (orphans included): the stack's own stop, then
        SIGKILL by pid."""
        if self.process.poll() is None:
            self.seen.update(_descendants(self.process.pid))
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)
        for pid in [self.process.pid, *self.seen]:
            if running(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.process.wait(10)


def _details(url: str, settings: dict[str, str]) -> dict:
    """GET /health/details's checks, with the stack's STATUS_TOKEN."""
    authorization = {"Authorization": f"Bearer {settings['STATUS_TOKEN']}"}
    return requests.get(url + "/health/details", headers=authorization, timeout=10).json()["checks"]


def _without_stack_settings() -> dict[str, str]:
    """This environment less the stack's settings: what the second terminal has comes from the file."""
    return {name: value for name, value in os.environ.items() if name not in STACK_SETTINGS}


@pytest.fixture
def run_stack(tmp_path: Path) -> Iterator[RunningStack]:
    stack = RunningStack(tmp_path)
    try:
        stack.wait_until_up()
        yield stack
    finally:
        stack.close()


def test_make_run_writes_every_setting_of_the_stack_for_a_second_terminal(run_stack: RunningStack):
    mode = stat.S_IMODE(run_stack.env_file.stat().st_mode)
    assert mode == 0o600, oct(mode)  # it carries this run's secrets
    settings = run_stack.settings()
    assert set(settings) == STACK_SETTINGS
    assert settings["STATE_PATH"] == str(run_stack.state_path)
    assert settings["LRS_ENDPOINT"] == f"http://127.0.0.1:{run_stack.ports['--lrs-port']}/xAPI/"
    assert settings["PUBLIC_BASE_URL"] == run_stack.url
    assert f". {run_stack.env_file}" in run_stack.output.read_text()  # how to source it is printed

    # A Credly event the platform does not know: a dead letter, seen by /health and by the CLI.
    notification = {
        "id": "00000000-0000-4000-8000-00000000dead",
        "organization_id": CREDLY_ORG,
        "event_type": "badge.created",
        "occurred_at": "2026-11-20T14:03:10.000Z",
    }
    token = settings["CREDLY_WEBHOOK_TOKEN"]
    assert requests.post(f"{run_stack.url}/webhooks/credly/{token}", json=notification, timeout=10).status_code == 200
    assert _wait_for(lambda: _details(run_stack.url, settings)["dead_letters"] == 1, timeout=60)

    listed = run_stack.second_terminal("deadletters", "list")
    assert listed.returncode == 0, listed.stderr
    assert "1 dead letter(s)" in listed.stderr and notification["id"] in listed.stdout

    backfill = run_stack.second_terminal("backfill", "credly")  # CREDLY_TOKEN is the fake Credly's
    assert backfill.returncode == 0, backfill.stderr

    lap = requests.post(
        f"{run_stack.url}/lap/statements",
        json=[],
        timeout=10,
        headers={"Authorization": f"Bearer {settings['LAP_TOKEN']}"},
    )
    assert lap.status_code != 503, lap.text  # the LAP routes are configured too


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_every_process_of_the_stack_and_frees_its_ports(
    run_stack: RunningStack, stop_signal: signal.Signals
):
    processes = run_stack.processes()  # the LRS, chalice local and its worker process
    signalled = time.monotonic()
    run_stack.process.send_signal(stop_signal)
    code = run_stack.process.wait(60)
    # Each process stopped when asked, none killed after STOP_SECONDS (chalice local, which
    # inherits the ignored SIGINT, is asked with SIGTERM).
    assert time.monotonic() - signalled < STOP_SECONDS, run_stack.output.read_text(errors="replace")
    assert _wait_for(lambda: not any(running(pid) for pid in processes), timeout=10), [
        pid for pid in processes if running(pid)
    ]
    assert all(_port_free(port) for port in run_stack.ports.values()), run_stack.ports
    assert code == 0, run_stack.output.read_text(errors="replace")
    assert not run_stack.env_file.exists()  # its secrets ended with the stack


def test_the_test_lrs_answers_on_loopback_only():
    """Another address of this machine (127.0.0.2: any loopback address but 127.0.0.1 reaches a
    server listening on every interface) gets no answer; the listening socket is 127.0.0.1's."""
    with LrsProcess() as lrs:
        about = requests.get(lrs.about_url, headers={"X-Experience-API-Version": "1.0.3"}, timeout=5)
        assert about.status_code == 200
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex(("127.0.0.2", lrs.port)) != 0
        assert _listening_addresses(lrs.port) == ["0100007F"]  # 127.0.0.1, and no IPv6 socket


def _listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_the_stack_and_the_command_line_share_one_state_file_by_default():
    assert default_state_path({}) == ROOT / load_settings({}).state_path
    assert default_state_path({"STATE_PATH": "/srv/connector/state.sqlite"}) == Path("/srv/connector/state.sqlite")


def test_the_demo_history_gives_each_badge_its_own_page_and_learner():
    badges = demo_history()
    assert [b["badge_url"] for b in badges] == [f"https://www.credly.com/badges/{b['id']}" for b in badges]
    assert len({b["user"]["id"] for b in badges}) == len({b["user"]["url"] for b in badges}) == len(badges)


def test_the_demo_prints_the_summary_the_readme_quotes(tmp_path: Path):
    readme = " ".join((ROOT / "README.md").read_text().split())
    [quoted] = SUMMARY.findall(readme)
    demo = subprocess.run(
        [sys.executable, str(DEVSTACK), "demo", "--report", str(tmp_path / "report.html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert SUMMARY.findall(demo.stdout) == [quoted], demo.stdout[-3000:]
    assert (tmp_path / "report.html").stat().st_size > 0
