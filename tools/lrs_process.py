"""Run the in-memory xAPI LRS (Learning Locker's xapi-statements, in tools/lrs) as a subprocess.

Used by the test suite (tests/conftest.py) and by `make lrs` / `make run`:

    python tools/lrs_process.py --port 8081
"""

from __future__ import annotations

import argparse
import base64
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import requests

LRS_DIR = Path(__file__).resolve().parent / "lrs"
SERVER_JS = LRS_DIR / "node_modules" / "xapi-statements" / "dist" / "server.js"
# Runs SERVER_JS listening on 127.0.0.1 only (the server has no setting for its address).
LOOPBACK_JS = LRS_DIR / "loopback-server.js"
XAPI_VERSION = "1.0.3"


class LrsError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    # A connect probe rather than a bind probe: the server's own TIME_WAIT
    # sockets after a restart would make a bind probe fail spuriously.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class LrsProcess:
    """The LRS as a child process; `start()` may be called again after `stop()` (same port)."""

    def __init__(
        self, port: int | None = None, startup_timeout: float = 30.0, credentials: tuple[str, str] | None = None
    ) -> None:
        """credentials: the Basic auth the LRS requires (it asks a client-info endpoint of ours,
        as Learning Locker does); None: any request is accepted."""
        self.port: int = port or free_port()
        self.credentials = credentials
        self._clients: _ClientInfo | None = None
        self.startup_timeout = startup_timeout
        self.endpoint = f"http://127.0.0.1:{self.port}/xAPI/"
        self.statements_url = self.endpoint + "statements"
        self.about_url = self.endpoint + "about"
        self._tmpdir: Path | None = None  # created on first start(), kept across restarts
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise LrsError("the LRS is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path | None:
        return self._tmpdir / "lrs.log" if self._tmpdir else None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return "(no log)"
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> LrsProcess:
        if self.running:
            return self
        if not SERVER_JS.is_file():
            raise LrsError(
                f"{SERVER_JS} not found: the test LRS is not installed; "
                "run `make test` or `make lrs-install` (npm ci in tools/lrs)"
            )
        if shutil.which("node") is None:
            raise LrsError("`node` is not on PATH; the test LRS needs Node.js")
        # The server exits quietly on EADDRINUSE, while /about would be answered by whoever
        # holds the port: refuse up front.
        if _port_taken(self.port):
            raise LrsError(f"port {self.port} is already in use; cannot start the LRS there")
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="connector-lrs-"))

        env = {
            **os.environ,
            "EXPRESS_PORT": str(self.port),
            **self._auth_env(),
            "EVENTS_REPO": "test",
            "MODELS_REPO": "memory",
            "STORAGE_REPO": "memory",
            "SERVICE_AWAIT_UPDATES": "true",
            # Otherwise it writes access logs/attachments under tools/lrs/storage.
            "EXPRESS_MORGAN_DIRECTORY": str(self._tmpdir / "accessLogs"),
            "FS_LOCAL_STORAGE_DIR": str(self._tmpdir / "storage"),
        }
        with open(self._tmpdir / "lrs.log", "ab") as log:  # closed here: the child holds its own copy
            self._proc = subprocess.Popen(
                ["node", str(LOOPBACK_JS)],
                cwd=LRS_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        return self

    def _auth_env(self) -> dict[str, str]:
        if self.credentials is None:
            return {"AUTH_REPO": "test"}
        if self._clients is None:
            self._clients = _ClientInfo(self.credentials)
        return {"AUTH_REPO": "fetch", "LL_CLIENT_INFO_ENDPOINT": self._clients.url}

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        headers = {"X-Experience-API-Version": XAPI_VERSION}
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise LrsError(f"LRS exited during startup (code {code}); log tail:\n{self.log_tail()}")
            try:
                if requests.get(self.about_url, headers=headers, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise LrsError(
            f"LRS not answering {self.about_url} after {self.startup_timeout:g}s; log tail:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def close(self) -> None:
        """stop() and remove the temp dir (log included)."""
        self.stop()
        if self._clients is not None:
            self._clients.close()
            self._clients = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> LrsProcess:
        try:
            return self.start()
        except BaseException:
            self.close()  # __exit__ won't run; the error already carries the log tail
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# Learning Locker's client record, as its client-info endpoint answers it (xapi-statements' test client).
_CLIENT = {
    "_id": "58fe13e34effd3c26a7fc4b7",
    "title": "connector tests",
    "isTrusted": True,
    "authority": {"objectType": "Agent", "mbox": "mailto:client@example.org"},
    "lrs_id": "58fe13e34effd3c26a7fc4b7",
    "organisation": "58fe13e34effd3c26a7fc4b6",
    "scopes": ["all"],
}


class _ClientInfo:
    """The client-info endpoint the LRS asks with each request's Authorization header: the
    client for the right Basic credentials, 404 otherwise (which the LRS answers with 401)."""

    def __init__(self, credentials: tuple[str, str]) -> None:
        expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                known = self.headers.get("Authorization", "") == expected
                body = json.dumps(_CLIENT).encode() if known else b"{}"
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/auth"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the in-memory test LRS in the foreground.")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    # SIGTERM (e.g. from a supervisor) should also run the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lrs = LrsProcess(port=args.port)
    try:
        lrs.start()
    except LrsError as e:
        lrs.close()
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"LRS ready: {lrs.statements_url} (X-Experience-API-Version: {XAPI_VERSION}); log: {lrs.log_path}")
    print("Ctrl-C to stop.", flush=True)
    try:
        while lrs.running:
            time.sleep(0.5)
        print(f"LRS exited unexpectedly; log tail:\n{lrs.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        lrs.close()


if __name__ == "__main__":
    sys.exit(main())
