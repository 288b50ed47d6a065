"""Typed settings from the environment, validated once at start-up.

Every setting has a documented default (README, "Settings") except secrets, which have none.
Secrets are SecretStr: they never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from .errors import SettingsError

# Fixed so that statement ids are the same across installs that keep the default.
DEFAULT_STATEMENT_NAMESPACE = "9b0bd7c4-6b1e-5a52-9d0e-3a4c1f6b8e21"
DEFAULT_EXTENSION_BASE = "https://credential-connector.dev/xapi"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    lrs_endpoint: str = "http://127.0.0.1:8081/xAPI/"
    lrs_username: str | None = None
    lrs_password: SecretStr | None = None
    lrs_xapi_version: Literal["1.0.3", "2.0.0"] = "1.0.3"
    lrs_batch_size: int = 50
    lrs_connect_timeout: float = 3.05
    lrs_read_timeout: float = 20.0
    http_max_attempts: int = 5
    http_backoff_base: float = 0.5
    http_backoff_cap: float = 30.0
    # One try of an outbound request, from connecting to its last byte, and the body it may bring.
    http_request_deadline: float = 60.0
    http_max_body_bytes: int = 16 * 1024 * 1024
    # A pull stops (exit 3) after this many pages in a row that the platform answered empty while
    # announcing more; PULL_MAX_PAGES bounds the pages of one run (0: no bound).
    pull_max_empty_pages: int = 10
    pull_max_pages: int = 0

    identity_ifi: Literal["mbox", "mbox_sha1sum", "account"] = "mbox"
    identity_homepage: str | None = None
    learner_directory: str | None = None  # a path, s3://bucket/key or an http(s) URL (identity/sources.py)
    # How often a running process checks LEARNER_DIRECTORY for a new version; 0: at every use.
    learner_directory_refresh_seconds: float = 300.0
    skills_file: str | None = None  # path of the skills vocabulary CSV (chalicelib/skills.py)

    xapi_extension_base: str = DEFAULT_EXTENSION_BASE
    xapi_language: str = "en"
    statement_id_namespace: uuid.UUID = uuid.UUID(DEFAULT_STATEMENT_NAMESPACE)
    revocation_policy: Literal["void", "revoke", "both"] = "both"

    credly_api_base: str = "https://api.credly.com/v1/"
    credly_org_id: str | None = None
    credly_token: SecretStr | None = None
    credly_webhook_token: SecretStr | None = None
    credly_high_volume: bool = False  # pulls list badges with high_volume_issued_badge_search
    certifier_api_base: str = "https://api.certifier.io/v1"
    certifier_public_base: str = "https://credsverse.com/credentials/"
    certifier_group_base: str = "https://app.certifier.io/groups/"
    certifier_token: SecretStr | None = None
    certifier_webhook_secret: SecretStr | None = None
    openbadges_ingest_token: SecretStr | None = None
    badgr_api_base: str = "https://api.badgr.io"
    badgr_username: str | None = None
    badgr_password: SecretStr | None = None
    badgr_notify: bool | None = None  # sent as the awards' `notify`; unset: the platform's default
    accredible_api_base: str = "https://api.accredible.com"
    accredible_api_key: SecretStr | None = None
    # Accredible allows 2,000 requests per 5 minutes per IP: 6/s with bursts of 10 stays under it.
    accredible_requests_per_second: float = 6.0
    lap_token: SecretStr | None = None
    award_rules: str | None = None  # path of the award rules TOML file
    connections: str | None = None  # path of the named connections TOML file (chalicelib/connections.py)
    # Bearer token of the operators' routes (GET /status, GET /health/details).
    status_token: SecretStr | None = None
    # Tracked share links (chalicelib/share): who may create them, what signs their tokens (the
    # previous secret still opens links made before a rotation), where they point from.
    share_links_token: SecretStr | None = None
    share_link_secret: SecretStr | None = None
    share_link_previous_secret: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"  # what `chalice local` serves by default
    linkedin_organization_id: str | None = None
    # Clicks of one client on one link within this long count as one view.
    share_click_window_seconds: int = 1800

    state_backend: Literal["sqlite", "dynamodb"] = "sqlite"
    state_path: str = "var/connector.sqlite"
    table_name: str | None = None
    queue_backend: Literal["local", "sqs"] = "local"
    queue_url: str | None = None
    # The SQS queue the worker function reads (its event source, fixed when packaging).
    queue_name: str = "credential-connector-events"
    # Secrets named by reference (secretsmanager:..., ssm:...) are re-read after this long.
    secrets_ttl_seconds: int = 300
    # Credly redelivers for up to 25 days: remember event ids a little longer.
    dedupe_ttl_seconds: int = 30 * 24 * 3600
    queue_max_attempts: int = 10
    # Messages the local drainer takes at once; unset, LRS_BATCH_SIZE, so that a POST is full when
    # the outbox holds that many (an SQS batch is fixed by app.py's event source instead).
    worker_batch_size: int = Field(default_factory=lambda data: data.get("lrs_batch_size", 50))
    local_worker: bool = False  # chalice local starts a worker process that drains the local outbox
    # A local batch not settled within this long (its process died) is delivered again.
    local_lease_seconds: float = 60.0
    # GET /health asks the LRS at most this often (it is unauthenticated); 0: on every request.
    health_lrs_check_seconds: float = 30.0
    # Skip statements the LRS acknowledged before (delivery/delivered.py); unset: on with SQLite,
    # off with DynamoDB (a write per statement: docs/cost.md).
    delivery_log: bool | None = None

    @property
    def delivery_log_on(self) -> bool:
        return self.delivery_log if self.delivery_log is not None else self.state_backend == "sqlite"

    @field_validator("xapi_extension_base", "certifier_public_base", "certifier_group_base", "public_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("xapi_extension_base", "public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("public_base_url")
    @classmethod
    def _no_query_or_fragment(cls, value: str) -> str:
        if any(c in value for c in "?#\x20"):
            raise ValueError("must be an absolute http(s) URL without query or fragment")
        return value

    @field_validator("linkedin_organization_id")
    @classmethod
    def _numeric_organization(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().isdigit():
            raise ValueError("must be LinkedIn's numeric organization id (the number in the company page's admin URL)")
        return value.strip() if value else value

    @field_validator("share_click_window_seconds")
    @classmethod
    def _window(cls, value: int) -> int:
        if not 1 <= value <= 7 * 24 * 3600:
            raise ValueError("must be between 1 and 604800 (a week)")
        return value

    @field_validator(
        "lrs_batch_size",
        "http_max_attempts",
        "queue_max_attempts",
        "worker_batch_size",
        "http_max_body_bytes",
        "pull_max_empty_pages",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("http_request_deadline")
    @classmethod
    def _some_time(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be more than 0 seconds")
        return value

    @field_validator("learner_directory_refresh_seconds")
    @classmethod
    def _refresh_period(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be 0 (check at every use) or more seconds")
        return value

    @field_validator("pull_max_pages")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (no bound) or more")
        return value

    @model_validator(mode="after")
    def _account_needs_homepage(self) -> Settings:
        if self.identity_ifi == "account" and not self.identity_homepage:
            raise ValueError("IDENTITY_IFI=account needs IDENTITY_HOMEPAGE (the organisation's URL)")
        if self.queue_backend == "sqs" and not self.queue_url:
            raise ValueError("QUEUE_BACKEND=sqs needs QUEUE_URL")
        if self.state_backend == "dynamodb" and not self.table_name:
            raise ValueError("STATE_BACKEND=dynamodb needs TABLE_NAME")
        return self


# Under `chalice local` a stage's environment_variables overwrite the environment's: a stage sets
# <NAME>_DEFAULT for these instead (.chalice/config.json), so that <NAME> given by the user still wins.
STAGE_DEFAULTS = ("local_worker",)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from environment variables (upper-case field names); empty means unset."""
    env = os.environ if environ is None else environ
    values = {name: env[name.upper()] for name in Settings.model_fields if env.get(name.upper(), "").strip() != ""}
    for name in STAGE_DEFAULTS:
        if name not in values and env.get(f"{name.upper()}_DEFAULT", "").strip():
            values[name] = env[f"{name.upper()}_DEFAULT"]
    try:
        # Validated from the raw strings (pydantic converts them): the typed constructor would not accept str.
        return Settings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part).upper() for part in first["loc"]) or "settings"
        raise SettingsError(f"{where}: {first['msg']}") from None
