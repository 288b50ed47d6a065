"""Secret settings, given as values (local) or as references to AWS (deployed).

    CREDLY_TOKEN=secretsmanager:credential-connector/prod/credly-token
    CREDLY_TOKEN=secretsmanager:credential-connector/prod/api-keys#credly   (a key of a JSON secret)
    CREDLY_TOKEN=ssm:/credential-connector/prod/credly-token                 (SecureString)

References are fetched once per container and re-read after SECRETS_TTL_SECONDS, so a rotated
secret is picked up without a deployment. Values never appear in errors or logs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from .awsclients import aws_client, forget_clients
from .errors import SettingsError
from .settings import Settings

SECRETS_MANAGER = "secretsmanager:"
SSM = "ssm:"

_cache: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


def reveal(settings: Settings, field: str) -> str | None:
    """The secret value of a setting (None when unset), resolving AWS references."""
    secret = getattr(settings, field)
    if secret is None:
        return None
    value = secret.get_secret_value()
    if not value.startswith((SECRETS_MANAGER, SSM)):
        return value or None
    # An empty stored value is "unset", never an empty key that anyone could sign with.
    return _cached(value, settings.secrets_ttl_seconds, lambda: _fetch(value, field.upper())) or None


def clear_cache() -> None:
    with _lock:
        _cache.clear()
    forget_clients()


def _cached(reference: str, ttl: float, fetch: Callable[[], str]) -> str:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(reference)
    if hit and hit[1] > now:
        return hit[0]
    value = fetch()
    with _lock:
        _cache[reference] = (value, now + ttl)
    return value


def _fetch(reference: str, setting: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if reference.startswith(SSM):
            answer = aws_client("ssm").get_parameter(Name=reference[len(SSM) :], WithDecryption=True)
            return answer["Parameter"]["Value"]
        name, _, key = reference[len(SECRETS_MANAGER) :].partition("#")
        text = aws_client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        return _json_key(text, key, setting) if key else text
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SettingsError(f"{setting}: cannot read {reference} ({code})") from None
    except BotoCoreError as error:
        raise SettingsError(f"{setting}: cannot read {reference} ({type(error).__name__})") from None


def _json_key(text: str, key: str, setting: str) -> str:
    try:
        value = json.loads(text)[key]
    except (ValueError, KeyError, TypeError):
        raise SettingsError(f"{setting}: the secret has no JSON key {key!r}") from None
    return str(value)
