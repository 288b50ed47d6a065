"""Storms between the worker and the real LRS: a proxy in front of it answers 429 (with
Retry-After) and 503 in bursts, and holds some answers past the read timeout after the LRS has
stored the batch. Every statement still ends in the LRS once, none is dead-lettered."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.delivery.test_worker_faults import count_by_activity, enqueue, make_services, ob3_documents

pytestmark = pytest.mark.integration


class StormyProxy:
    """Forwards to the LRS, except where `weather` (one entry per POST, then fair) says otherwise:
    ("429", seconds) / ("503", 0) answer without forwarding; ("slow", seconds) forwards, then
    answers after `seconds` (the client has given up: the LRS holds what it was sent)."""

    def __init__(self, origin: str, weather: list[tuple[str, float]]) -> None:
        self.upstream = origin  # scheme://host:port: requests keep their path
        self.weather = iter(weather)
        self.posts = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward(b"", ("fair", 0))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.posts += 1
                    weather = next(proxy.weather, ("fair", 0))
                if weather[0] in ("429", "503"):
                    headers = {"Retry-After": str(int(weather[1]))} if weather[0] == "429" else {}
                    return self._answer(int(weather[0]), b"{}", headers)
                self._forward(body, weather)

            def _forward(self, body: bytes, weather: tuple[str, float]) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, data=body or None, headers=headers, timeout=10
                )
                if weather[0] == "slow":
                    time.sleep(weather[1])
                self._answer(answer.status_code, answer.content, {})

            def _answer(self, status: int, body: bytes, headers: dict) -> None:
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/xAPI/"

    def __enter__(self) -> StormyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def storm() -> list[tuple[str, float]]:
    """Bursts of refusals and timeouts between fair spells, longer than one message's retries."""
    bursts = [
        [("429", 0)] * 6,
        [("fair", 0)] * 2,
        [("503", 0)] * 5,
        [("slow", 0.6)] * 3,
        [("fair", 0)] * 1,
        [("429", 0), ("503", 0), ("slow", 0.6)] * 3,
    ]
    return list(itertools.chain.from_iterable(bursts))


def test_statements_reach_the_lrs_once_through_429_503_and_timeout_storms(monkeypatch, tmp_path, lrs, lrs_session):
    with StormyProxy(f"http://127.0.0.1:{lrs.port}", storm()) as proxy:
        services = make_services(
            monkeypatch,
            tmp_path,
            proxy.endpoint,
            LRS_READ_TIMEOUT="0.3",
            LRS_CONNECT_TIMEOUT="0.5",
            HTTP_MAX_ATTEMPTS="3",
            LRS_BATCH_SIZE="5",
            WORKER_BATCH_SIZE="10",
            QUEUE_MAX_ATTEMPTS="20",
        )
        activity = f"https://credentials.example.edu/achievements/storm-{uuid.uuid4()}"
        enqueue(services, ob3_documents(60, activity))
        drainer = services.drainer()
        drainer.backoff_base, drainer.backoff_cap = 0.05, 0.2
        drainer.run_until_idle(timeout=120)

        stormy = sum(1 for kind, _ in storm() if kind != "fair")
        assert proxy.posts >= stormy + 60 // 5  # every refusal and timeout was met, then 12 batches went
        assert services.queue.depth() == 0
        assert services.store.count_dead_letters() == 0
        assert count_by_activity(lrs, lrs_session, activity) == 60
