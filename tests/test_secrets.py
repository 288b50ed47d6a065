"""Secret settings named by reference resolve from Secrets Manager / SSM, cached with a TTL."""

from __future__ import annotations

import json

import pytest

from chalicelib import secrets
from chalicelib.errors import SettingsError
from chalicelib.settings import load_settings


@pytest.fixture
def aws(mocked_aws):
    secrets.clear_cache()
    yield
    secrets.clear_cache()


def test_plain_values_need_no_aws():
    settings = load_settings({"CREDLY_TOKEN": "plain-token"})
    assert secrets.reveal(settings, "credly_token") == "plain-token"
    assert secrets.reveal(settings, "certifier_token") is None


def test_secrets_manager_reference_and_json_key(aws):
    import boto3

    client = boto3.client("secretsmanager")
    client.create_secret(Name="cc/prod/credly-token", SecretString="from-secrets-manager")
    client.create_secret(Name="cc/prod/keys", SecretString=json.dumps({"certifier": "cert-key"}))
    settings = load_settings(
        {
            "CREDLY_TOKEN": "secretsmanager:cc/prod/credly-token",
            "CERTIFIER_TOKEN": "secretsmanager:cc/prod/keys#certifier",
        }
    )
    assert secrets.reveal(settings, "credly_token") == "from-secrets-manager"
    assert secrets.reveal(settings, "certifier_token") == "cert-key"


def test_ssm_securestring_reference(aws):
    import boto3

    boto3.client("ssm").put_parameter(Name="/cc/prod/lap", Value="lap-secret", Type="SecureString")
    settings = load_settings({"LRS_PASSWORD": "ssm:/cc/prod/lap"})
    assert secrets.reveal(settings, "lrs_password") == "lap-secret"


def test_cached_until_the_ttl_then_read_again(aws, monkeypatch):
    import boto3

    client = boto3.client("secretsmanager")
    client.create_secret(Name="rotating", SecretString="v1")
    clock = [1000.0]
    monkeypatch.setattr(secrets.time, "monotonic", lambda: clock[0])
    settings = load_settings({"CREDLY_TOKEN": "secretsmanager:rotating", "SECRETS_TTL_SECONDS": "60"})
    assert secrets.reveal(settings, "credly_token") == "v1"
    client.put_secret_value(SecretId="rotating", SecretString="v2")
    clock[0] += 59
    assert secrets.reveal(settings, "credly_token") == "v1"  # still cached
    clock[0] += 2
    assert secrets.reveal(settings, "credly_token") == "v2"


def test_missing_secret_names_the_setting_not_a_value(aws):
    settings = load_settings({"CREDLY_TOKEN": "secretsmanager:nope"})
    with pytest.raises(SettingsError, match="CREDLY_TOKEN: cannot read secretsmanager:nope"):
        secrets.reveal(settings, "credly_token")


def test_settings_never_show_secret_values():
    settings = load_settings({"CREDLY_TOKEN": "very-secret", "LRS_PASSWORD": "hunter2"})
    assert "very-secret" not in repr(settings) and "hunter2" not in str(settings)


def test_an_empty_stored_secret_counts_as_unset(aws):
    import boto3

    boto3.client("secretsmanager").create_secret(
        Name="empty", SecretString=json.dumps({"CERTIFIER_WEBHOOK_SECRET": ""})
    )
    settings = load_settings({"CERTIFIER_WEBHOOK_SECRET": "secretsmanager:empty#CERTIFIER_WEBHOOK_SECRET"})
    assert secrets.reveal(settings, "certifier_webhook_secret") is None
