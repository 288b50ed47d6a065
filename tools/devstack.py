"""The local stack: the in-memory LRS, a fake Credly API and the connector under `chalice local`.

    python tools/devstack.py run    # start everything, write var/local.env, wait for Ctrl-C (or SIGTERM, SIGHUP)
    python tools/devstack.py demo   # start, send every fixture webhook, show what reached the LRS, stop

Used by `make run` / `make demo` and by the end-to-end tests.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import hmac
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from chalicelib.settings import Settings  # noqa: E402
from fakes.credly_api import FakeCredly  # noqa: E402
from lrs_process import LrsProcess, free_port  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
LOCAL_ENV = ROOT / "var" / "local.env"  # `make run`'s settings, for the commands of a second terminal
# How long a stopping stack waits for each of its processes before killing it.
STOP_SECONDS = 10.0
CREDLY_ORG = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45"  # the organisation of the sample payloads


class Stack:
    def __init__(
        self, *, port: int = 0, lrs_port: int = 0, credly_port: int = 0, state_path: str | None = None
    ) -> None:
        self.port = port or free_port()
        self.lrs = LrsProcess(port=lrs_port or None)
        self.secrets = {
            "CREDLY_TOKEN": "local-" + secrets.token_hex(8),
            "CREDLY_WEBHOOK_TOKEN": secrets.token_urlsafe(16),
            "CERTIFIER_WEBHOOK_SECRET": secrets.token_hex(16),
            "OPENBADGES_INGEST_TOKEN": secrets.token_urlsafe(16),
            "LAP_TOKEN": secrets.token_urlsafe(16),
            "SHARE_LINKS_TOKEN": secrets.token_urlsafe(16),
            "SHARE_LINK_SECRET": secrets.token_hex(32),
            "STATUS_TOKEN": secrets.token_urlsafe(16),
        }
        self.credly = FakeCredly(org_id=CREDLY_ORG, token=self.secrets["CREDLY_TOKEN"], port=credly_port)
        self._tmp = tempfile.TemporaryDirectory(prefix="connector-stack-")
        self.state_path = state_path or str(Path(self._tmp.name) / "state.sqlite")
        self.log_path = Path(self._tmp.name) / "connector.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> Stack:
        self.lrs.start()
        self.credly.start()
        self.credly.load_events_dir(FIXTURES / "credly")
        return self.start_connector(timeout)

    def start_connector(self, timeout: float = 60.0, **extra_env: str) -> Stack:
        """`chalice local` with this stack's settings (state included: a restart goes on from it)."""
        env = {**os.environ, **self.env(), **extra_env}
        chalice = Path(sys.executable).with_name("chalice")
        command = [str(chalice), "local", "--stage", "local", "--no-autoreload", "--port", str(self.port)]
        # Kept on the stack, open, for as long as chalice local writes to it.
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self._proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_up(timeout)
        return self

    def kill_connector(self, worker_too: bool = True) -> None:
        """SIGKILL: the process dies wherever it is, as on a crash or an out-of-memory kill; its
        worker process too (a machine's crash), unless worker_too is False."""
        if self._proc and self._proc.poll() is None:
            workers = self.worker_pids() if worker_too else []
            self._proc.kill()
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._proc.wait()

    def worker_pids(self) -> list[int]:
        """The local worker processes chalice local started (children of its process)."""
        return children_of(self._proc.pid) if self._proc else []

    def env(self) -> dict[str, str]:
        return {
            "LRS_ENDPOINT": self.lrs.endpoint,
            "STATE_PATH": self.state_path,
            "LEARNER_DIRECTORY": str(FIXTURES / "directory.csv"),
            "CREDLY_API_BASE": self.credly.base_url,
            "CREDLY_ORG_ID": CREDLY_ORG,
            "PUBLIC_BASE_URL": self.url,  # share links point at this stack
            **self.secrets,
        }

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc and self._proc.poll() is not None:
                raise RuntimeError(f"chalice local exited ({self._proc.returncode}):\n{self.log_tail()}")
            try:
                requests.get(self.url + "/health", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"chalice local did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """chalice local, then its worker processes (which follow their parent by themselves:
        waited for, killed past STOP_SECONDS), the fake Credly API and the LRS. SIGTERM, not
        SIGINT: a stack started in the background (`make run &`, nohup) passes on an ignored SIGINT."""
        if self._proc and self._proc.poll() is None:
            workers = self.worker_pids()
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            end_processes(workers, STOP_SECONDS)
        self.credly.stop()
        self.lrs.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:  # a failed or interrupted start: __exit__ will not run
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    # -- talking to it -----------------------------------------------------------------------

    def health(self) -> dict:
        """The health report with its details (queue depth, dead letters, counters, LRS)."""
        authorization = {"Authorization": f"Bearer {self.secrets['STATUS_TOKEN']}"}
        return requests.get(self.url + "/health/details", headers=authorization, timeout=5).json()

    def wait_until_drained(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health["checks"]["queue_depth"] == 0:
                return health
            time.sleep(0.2)
        raise RuntimeError(f"the outbox did not drain within {timeout:.0f} s:\n{self.log_tail()}")

    def send_credly(self, notification: dict) -> requests.Response:
        url = f"{self.url}/webhooks/credly/{self.secrets['CREDLY_WEBHOOK_TOKEN']}"
        return requests.post(url, json=notification, timeout=10)

    def send_certifier(self, body: dict) -> requests.Response:
        raw = json.dumps(body).encode()
        key = self.secrets["CERTIFIER_WEBHOOK_SECRET"].encode()
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Signature": hmac.new(key, raw, hashlib.sha256).hexdigest(),
        }
        return requests.post(f"{self.url}/webhooks/certifier", data=raw, headers=headers, timeout=10)

    def send_openbadges(self, document: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.secrets['OPENBADGES_INGEST_TOKEN']}"}
        return requests.post(f"{self.url}/ingest/openbadges", json=document, headers=headers, timeout=10)

    def lrs_statements(self, **params: str) -> Iterator[dict]:
        headers = {"X-Experience-API-Version": "1.0.3"}
        url: str | None = self.lrs.statements_url
        query: dict | None = params
        while url:
            page = requests.get(url, params=query, headers=headers, timeout=10).json()
            yield from page["statements"]
            more = page.get("more")
            url, query = (f"http://127.0.0.1:{self.lrs.port}{more}" if more else None), None


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid`, by their parent in /proc/<child>/stat (a thread's children
    file forgets a child whose creating thread ended: chalice local spawns from request threads)."""
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def end_processes(pids: list[int], timeout: float) -> None:
    """Wait for each process to end, SIGKILL those still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in filter(running, pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits for init to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def default_state_path(environ: Mapping[str, str]) -> Path:
    """STATE_PATH, else the connector's own default: the stack and `python -m chalicelib` run in a
    second terminal then read the same file, sourced settings or not."""
    configured = environ.get("STATE_PATH", "").strip() or Settings.model_fields["state_path"].default
    return ROOT / configured


@contextlib.contextmanager
def env_file(path: Path, values: Mapping[str, str]) -> Iterator[None]:
    """The settings file while the stack runs; removed after it, as its secrets are of this run."""
    write_env_file(path, values)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """`export NAME=value` lines, readable by their owner only: they carry this run's secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# the local stack's settings (tools/devstack.py run), valid while it runs: . {_shown(path)}\n"]
    lines += [f"export {name}={shlex.quote(value)}\n" for name, value in values.items()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file left by an earlier run keeps its mode through os.open
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.writelines(lines)


def _shown(path: Path) -> str:
    """A path as typed from the project's folder (where `make run` is started)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """SIGTERM (a supervisor, `kill`) and SIGHUP (a closed terminal) end the stack as Ctrl-C does,
    through its cleanup: by default Python dies of them at once and orphans every child. A second
    signal during the cleanup is ignored so that the cleanup finishes."""

    def interrupt(*_: object) -> None:
        for signum in handled:
            signal.signal(signum, signal.SIG_IGN)
        raise KeyboardInterrupt

    handled = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, interrupt) for signum in handled}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def fixture_deliveries() -> list[tuple[str, dict]]:
    """Every sample webhook, as the platforms would send it (Credly: thin notifications)."""
    deliveries: list[tuple[str, dict]] = []
    for path in sorted((FIXTURES / "credly").glob("event_*.json")):
        detail = json.loads(path.read_text())["data"]
        keys = ("id", "organization_id", "event_type", "occurred_at")
        deliveries.append(("credly", {k: detail[k] for k in keys}))
    deliveries.append(("credly", json.loads((FIXTURES / "credly" / "webhook_badge_created.json").read_text())))
    for path in sorted((FIXTURES / "certifier").glob("*.json")):
        deliveries.append(("certifier", json.loads(path.read_text())))
    for path in sorted((FIXTURES / "openbadges").glob("*.json")):
        deliveries.append(("openbadges", json.loads(path.read_text())))
    return deliveries


# -- commands ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    state = default_state_path(os.environ)
    stack = Stack(port=args.port, lrs_port=args.lrs_port, credly_port=args.credly_port, state_path=str(state))
    try:
        with stopped_by_signals(), stack, env_file(args.env_file, stack.env()):
            _print_banner(stack, args.env_file)
            return _wait_for_connector(stack)
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
        return 0


def _wait_for_connector(stack: Stack) -> int:
    while stack._proc and stack._proc.poll() is None:
        time.sleep(0.5)
    print(f"chalice local stopped:\n{stack.log_tail()}", file=sys.stderr)
    return 1


def _print_banner(stack: Stack, env_file: Path) -> None:
    s, state = stack.secrets, stack.state_path
    print(
        f"""
Credential connector running (Ctrl-C, SIGTERM or SIGHUP stops everything)

  connector     {stack.url}            health: {stack.url}/health
  LRS           {stack.lrs.statements_url}   (in memory)
  fake Credly   {stack.credly.base_url}   organisation {CREDLY_ORG}, token {s["CREDLY_TOKEN"]}
  state         {state}

Webhook URLs and the secrets generated for this run:
  Credly        POST {stack.url}/webhooks/credly/{s["CREDLY_WEBHOOK_TOKEN"]}
  Certifier     POST {stack.url}/webhooks/certifier   X-Webhook-Signature: \
HMAC-SHA256 with {s["CERTIFIER_WEBHOOK_SECRET"]}
  Open Badges   POST {stack.url}/ingest/openbadges     Authorization: Bearer {s["OPENBADGES_INGEST_TOKEN"]}
  Share links   POST {stack.url}/share-links           Authorization: Bearer {s["SHARE_LINKS_TOKEN"]}   \
(docs/sharing.md)
  LAP           POST {stack.url}/lap/statements        Authorization: Bearer {s["LAP_TOKEN"]}   (docs/awarding.md)
  Health        GET  {stack.url}/health/details        Authorization: Bearer {s["STATUS_TOKEN"]}   (the counts)

Every URL, path and secret above, for the commands of another terminal (removed when this stops):
  . {_shown(env_file)}
  .venv/bin/python -m chalicelib backfill credly
  .venv/bin/python -m chalicelib deadletters list

Try: make demo   (in another terminal it starts its own stack on free ports)
""",
        flush=True,
    )


def demo(args: argparse.Namespace) -> int:
    with stopped_by_signals(), Stack() as stack:
        deliveries = fixture_deliveries()
        senders = {"credly": stack.send_credly, "certifier": stack.send_certifier, "openbadges": stack.send_openbadges}
        for index, (source, body) in enumerate(deliveries, 1):
            answer = senders[source](body)
            print(
                f"[{index}/{len(deliveries)}] {source:<10} -> "
                f"{answer.status_code} {answer.json().get('status', answer.text)}"
            )
        stack.wait_until_drained()
        print("\nbackfill: the fake Credly's badge history, pulled page by page")
        for badge in demo_history():
            stack.credly.add_badge(badge)
        backfill = subprocess.run(
            [sys.executable, "-m", "chalicelib", "backfill", "credly"],
            cwd=ROOT,
            env={**os.environ, **stack.env(), "LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        print(backfill.stdout.strip() or backfill.stderr.strip()[-500:])
        stack.wait_until_drained()
        demo_share(stack)
        demo_csv(stack)
        demo_lms_activities(stack)
        health = stack.wait_until_drained()
        rows = [_row(s) for s in stack.lrs_statements()]
        _print_table(rows)
        counters = health["checks"]["counters"]
        print(
            f"\ndelivered {counters.get('delivered', 0)} / already stored {counters.get('already_stored', 0)}"
            f" / duplicates {counters.get('duplicate_deliveries', 0)} / skipped {counters.get('skipped', 0)}"
            f" / dead letters {health['checks']['dead_letters']}"
        )
        demo_report(stack, args.report)
    return 0


SHARED_CREDENTIAL = "https://badges.example.org/assertions/4a1d5c9e-0001"  # Katherine's Data Literacy (Open Badges)


def demo_share(stack: Stack) -> None:
    """A tracked LinkedIn share link for one credential, followed by a person and by LinkedIn's
    preview crawler: one shared and one viewed statement (the crawler is not counted)."""
    print("\nshare link: POST /share-links, then the link followed by a browser and by LinkedIn's crawler")
    made = requests.post(
        f"{stack.url}/share-links",
        json={"credential_url": SHARED_CREDENTIAL, "channel": "linkedin"},
        headers={"Authorization": f"Bearer {stack.secrets['SHARE_LINKS_TOKEN']}"},
        timeout=30,
    )
    if made.status_code != 201:
        print(f"share link refused: {made.status_code} {made.text[:300]}")
        return
    link = made.json()
    print(f"  {link['url']}  (LinkedIn add-to-profile: {link['linkedin_url'][:80]}...)")
    for agent in ("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "LinkedInBot/1.0 (compatible; Mozilla/5.0)"):
        click = requests.get(link["url"], headers={"User-Agent": agent}, allow_redirects=False, timeout=10)
        print(f"  {agent.split('/')[0]:<12} -> {click.status_code} {click.headers.get('Location')}")


def demo_csv(stack: Stack) -> None:
    """Plan B: a Credly badge export (two good rows, one broken) through import-csv."""
    sys.path.insert(0, str(ROOT / "bench"))
    from credly_badges import EXPORT_HEADER, export_row

    badges = demo_history()
    for index, badge in enumerate(badges[:2]):
        badge_id = f"c5v0{index:04d}-0000-4000-8000-00000000000{index}"
        badge.update(
            id=badge_id,
            badge_url=f"https://www.credly.com/badges/{badge_id}",
            issued_at=f"2026-0{7 + index}-01T09:00:00.000Z",
            expires_at="2027-01-15T00:00:00.000Z",
        )
    rows = [export_row(b) for b in badges[:2]]
    rows.append([*rows[0][:3], "", *rows[0][4:]])  # no Earner Badge ID: a bad row, named by its line
    path = Path(stack.state_path).with_name("credly-export.csv")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(rows)
    print("\nimport-csv: a Credly badge export (plan B when the API is out of reach)")
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib", "import-csv", "--platform", "credly", str(path)],
        cwd=ROOT,
        env={**os.environ, **stack.env(), "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    bad = [line for line in done.stderr.splitlines() if line.startswith("line ")]
    print("\n".join(["  " + line for line in [*bad, *done.stdout.strip().splitlines()[-1:]]]))


def demo_lms_activities(stack: Stack) -> None:
    """What an LMS writes to the same LRS (not through the connector): courses completed before
    the credentials, for the report's "activities before earning"."""
    learners = {
        "katherine.johnson@example.com": "2026-09-20",
        "grace.hopper@example.com": "2026-11-10",
        "alan.turing@example.com": "2026-04-01",
    }
    statements = [
        {
            "actor": {"objectType": "Agent", "mbox": f"mailto:{email}"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
            "object": {
                "id": f"https://lms.example.org/courses/{course}",
                "objectType": "Activity",
                "definition": {"name": {"en-US": title}},
            },
            "timestamp": f"{day}T1{hour}:00:00.000Z",
        }
        for email, day in learners.items()
        for hour, (course, title) in enumerate([("data-101", "Data Basics"), ("python-201", "Python in Practice")])
    ]
    answer = requests.post(
        stack.lrs.statements_url, json=statements, timeout=10, headers={"X-Experience-API-Version": "1.0.3"}
    )
    print(f"\nLMS: {len(statements)} completed courses written to the LRS directly -> {answer.status_code}")


def demo_report(stack: Stack, page: Path) -> None:
    """`python -m chalicelib report` over what the demo delivered: its first table here, every
    answer with its chart in one HTML page. A failure is shown, not raised: the demo's own
    summary and exit code stay those of the delivery."""
    answer = subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", "--html", str(page)],
        cwd=ROOT,
        env={**os.environ, **stack.env(), "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if answer.returncode != 0:
        print(f"\nreport failed: {answer.stderr.strip()[-500:]}")
        return
    first = answer.stdout.split("\n\n")[1]  # after the range: the credentials held per team and job role
    print(f"\n{first.strip()}\n\nreport with charts (skills, share funnel, activities, expiries): {page}")


def demo_history() -> list[dict]:
    """Credly badges of the sample learners: one accepted, one still pending, one expired."""
    template = json.loads((FIXTURES / "credly" / "badges_page_1.json").read_text())["data"][0]
    learners = [
        ("grace.hopper@example.com", "Grace", "Hopper"),
        ("alan.turing@example.com", "Alan", "Turing"),
        ("katherine.johnson@example.com", "Katherine", "Johnson"),
    ]
    badges = []
    for index, ((email, first, last), state, expires) in enumerate(
        zip(learners, ["accepted", "pending", "accepted"], [None, None, "2026-06-30T00:00:00.000Z"], strict=True)
    ):
        badge = json.loads(json.dumps(template))
        badge_id = f"d3m0{index:04d}-0000-4000-8000-00000000000{index}"
        # Its own page: the template's badge_url is another learner's (revoked) badge.
        badge.update(
            id=badge_id,
            badge_url=f"https://www.credly.com/badges/{badge_id}",
            state=state,
            recipient_email=email,
            issued_to=f"{first} {last}",
            issued_to_first_name=first,
            issued_to_last_name=last,
            issued_at=f"2026-0{3 + index}-15T09:00:00.000Z",
            expires_at=expires,
            issuer_earner_id=None,
        )
        badge["user"] = {
            **(badge.get("user") or {}),
            "id": f"u-d3m0{index}",
            "email": email,
            "first_name": first,
            "last_name": last,
            "url": f"https://www.credly.com/users/{first.lower()}-{last.lower()}",
        }
        badges.append(badge)
    return badges


def _row(statement: dict) -> tuple[str, str, str, str]:
    actor = statement["actor"]
    learner = actor.get("name") or actor.get("account", {}).get("name") or actor.get("mbox", "?")
    verb = next(iter(statement["verb"].get("display", {}).values()), statement["verb"]["id"])
    obj = statement["object"]
    name = obj.get("definition", {}).get("name", {})
    credential = next(iter(name.values()), obj.get("id", ""))
    return learner, verb, credential, statement.get("timestamp", "")


def _print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("learner", "verb", "credential", "time")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *sorted(rows, key=lambda r: r[3])]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the local stack and wait")
    run_parser.add_argument("--port", type=int, default=8000)
    run_parser.add_argument("--lrs-port", type=int, default=8081)
    run_parser.add_argument("--credly-port", type=int, default=8082)
    run_parser.add_argument(
        "--env-file",
        type=Path,
        default=LOCAL_ENV,
        help=f"where the stack's settings are written (default: {_shown(LOCAL_ENV)})",
    )
    run_parser.set_defaults(handler=run)
    demo_parser = commands.add_parser("demo", help="send every sample webhook and show the LRS")
    demo_parser.add_argument(
        "--report",
        type=Path,
        default=ROOT / "dist" / "demo-report.html",
        help="where the report page is written (default: dist/demo-report.html)",
    )
    demo_parser.set_defaults(handler=demo)
    args = parser.parse_args()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
