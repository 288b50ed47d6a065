"""The Credly webhook token never reaches `chalice local`'s access log, however the request line
is written: raw request lines sent over a socket to a real `chalice local`, its stderr read back."""

from __future__ import annotations

import secrets
import socket
import time
from urllib.parse import unquote

import pytest

from devstack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

OLD = "old-" + secrets.token_urlsafe(12)  # a token no setting holds (rotated out): hidden by where it stands


def encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def request_lines(token: str) -> list[str]:
    return [
        f"POST /webhooks/credly/{token} HTTP/1.1",
        f"POST /webhooks/credly//{token} HTTP/1.1",
        f"POST /webhooks%2Fcredly/{token} HTTP/1.1",
        f"POST /webhooks%252Fcredly%252F{token} HTTP/1.1",
        f"POST /webhooks/CREDLY/{token} HTTP/1.1",
        f"POST /webhooks/%63redly/{token} HTTP/1.1",
        f"POST /webhooks/credly/{encoded(token)} HTTP/1.1",
        f"POST /webhooks/credly?t={token} HTTP/1.1",
        f"POST /webhooks/credly/x?t={token} HTTP/1.1",
        f"POST /health?t={token} HTTP/1.1",
        f"POST /webhooks/credly/ {token} HTTP/1.1",  # malformed: four words
        f"POST /webhooks/credly/{token} HTTP/1.1 x",
        f"POST /webhooks/credly/{token} HTTP/9.9",
        f"POST /webhooks/credly/{token}",  # HTTP/0.9 style
        f"{token} /webhooks/credly HTTP/1.1",
        f"POST /x/{token}/y HTTP/1.1",
        f"POST /webhooks/credly/{OLD} HTTP/1.1",
        f"POST /webhooks/credly\\{OLD} HTTP/1.1",
        f"POST /webhooks/credly;v=1/{OLD} HTTP/1.1",
        f"GET /health?key={OLD} HTTP/1.1",
    ]


@pytest.fixture(scope="module")
def stack():
    with Stack() as running:
        yield running


def send(stack: Stack, line: str) -> bytes:
    """The raw request line with a small body; the whole answer, read until the server closes."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as connection:
        connection.sendall(line.encode() + b"\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def decoded(text: str) -> str:
    for _ in range(4):
        text = unquote(text)
    return text


def test_no_request_line_puts_the_token_in_the_access_log(stack):
    token = stack.secrets["CREDLY_WEBHOOK_TOKEN"]
    lines = request_lines(token)
    before = len(stack.log_path.read_text(errors="replace").splitlines())
    for line in lines:
        assert send(stack, line), line  # answered, whatever the status
    time.sleep(0.3)
    log = stack.log_path.read_text(errors="replace").splitlines()[before:]
    access = [entry for entry in log if entry.startswith("127.0.0.1 - - [")]
    assert len([entry for entry in access if " code " not in entry]) == len(lines)  # each request was logged
    for entry in log:
        for secret in (token, OLD):
            assert secret not in entry and secret not in decoded(entry), entry
    assert any('"POST /webhooks/credly/<secret> HTTP/1.1" 403' in entry for entry in access)  # the route still shows
    assert any('"POST /health?<secret> HTTP/1.1"' in entry for entry in access)
