"""boto3 clients, created on first use and kept for the container's life.

Every Lambda function imports app.py, so boto3 is imported here only when a client is first
needed. Timeouts are short: a webhook may be waiting on the call, and failing within seconds
lets the platform retry.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[tuple[str, str | None], Any] = {}
_lock = threading.Lock()  # boto3's default session is not safe to create clients from concurrently


def aws_client(service: str, region: str | None = None) -> Any:
    with _lock:
        key = (service, region)
        if key not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
            _clients[key] = boto3.client(service, region_name=region, config=config)
        return _clients[key]


def forget_clients() -> None:
    """Drop cached clients (tests switching between mocked AWS accounts)."""
    with _lock:
        _clients.clear()
