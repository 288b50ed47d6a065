"""How settings are read from the environment: the contract any rewrite of load_settings must keep."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr, ValidationError

from chalicelib.errors import SettingsError
from chalicelib.settings import DEFAULT_EXTENSION_BASE, DEFAULT_STATEMENT_NAMESPACE, Settings, load_settings


@pytest.fixture
def process_env(monkeypatch):
    """Settings in the process environment that an explicit mapping must not see."""
    for name, value in {
        "LRS_BATCH_SIZE": "99",
        "CREDLY_TOKEN": "from-process",
        "QUEUE_URL": "https://sqs.test/q",
    }.items():
        monkeypatch.setenv(name, value)


def test_defaults_from_an_empty_mapping():
    settings = load_settings({})
    assert settings.lrs_batch_size == 50
    assert settings.credly_token is None
    assert settings.xapi_extension_base == DEFAULT_EXTENSION_BASE
    assert settings.statement_id_namespace == uuid.UUID(DEFAULT_STATEMENT_NAMESPACE)


def test_upper_case_field_names_are_read():
    settings = load_settings(
        {"LRS_BATCH_SIZE": "7", "LOCAL_WORKER": "true", "XAPI_EXTENSION_BASE": "https://x.test/y/"}
    )
    assert settings.lrs_batch_size == 7
    assert settings.local_worker is True
    assert settings.xapi_extension_base == "https://x.test/y"


@pytest.mark.parametrize("name", ["lrs_batch_size", "Lrs_Batch_Size"])
def test_only_upper_case_names_are_settings(name):
    assert load_settings({name: "7"}).lrs_batch_size == 50


@pytest.mark.parametrize("blank", ["", " ", "\t \n"])
def test_empty_or_whitespace_only_means_unset(blank):
    settings = load_settings({"LRS_BATCH_SIZE": blank, "CREDLY_TOKEN": blank, "XAPI_LANGUAGE": blank})
    assert settings.lrs_batch_size == 50
    assert settings.credly_token is None
    assert settings.xapi_language == "en"


def test_variables_that_are_not_settings_are_ignored():
    settings = load_settings({"AWS_REGION": "eu-west-1", "PATH": "/bin", "MODEL_CONFIG": "x", "LRS_BATCH_SIZE": "3"})
    assert settings.lrs_batch_size == 3
    assert not hasattr(settings, "aws_region")


@pytest.mark.usefixtures("process_env")
def test_an_explicit_mapping_replaces_the_process_environment():
    settings = load_settings({"LRS_USERNAME": "bob"})
    assert settings.lrs_username == "bob"
    assert settings.lrs_batch_size == 50
    assert settings.credly_token is None
    assert settings.queue_url is None


@pytest.mark.usefixtures("process_env")
def test_no_mapping_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("XAPI_LANGUAGE", "   ")
    settings = load_settings()
    assert settings.lrs_batch_size == 99
    assert settings.credly_token.get_secret_value() == "from-process"
    assert settings.xapi_language == "en"


@pytest.mark.usefixtures("process_env")
def test_settings_built_directly_do_not_read_the_environment():
    assert Settings().lrs_batch_size == 50
    assert Settings(lrs_batch_size=3).credly_token is None


def test_secrets_are_secret_str_and_stay_out_of_repr():
    settings = load_settings({"CREDLY_TOKEN": "hunter2", "LRS_PASSWORD": "hunter3"})
    assert isinstance(settings.credly_token, SecretStr)
    assert settings.credly_token.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter3" not in str(settings)


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(ValidationError, match="frozen"):
        settings.lrs_batch_size = 1


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LRS_BATCH_SIZE": "0"}, "LRS_BATCH_SIZE: Value error, must be at least 1"),
        ({"LRS_BATCH_SIZE": "lots"}, "LRS_BATCH_SIZE: Input should be a valid integer"),
        ({"IDENTITY_IFI": "email"}, "IDENTITY_IFI: Input should be 'mbox', 'mbox_sha1sum' or 'account'"),
        ({"CERTIFIER_PUBLIC_BASE": "ftp://x"}, "CERTIFIER_PUBLIC_BASE: Value error, must be an absolute http(s) URL"),
        ({"IDENTITY_IFI": "account"}, "settings: Value error, IDENTITY_IFI=account needs IDENTITY_HOMEPAGE"),
        ({"QUEUE_BACKEND": "sqs"}, "settings: Value error, QUEUE_BACKEND=sqs needs QUEUE_URL"),
    ],
)
def test_errors_name_the_variable(environ, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    assert str(raised.value).startswith(message)


def test_errors_never_show_a_secret():
    with pytest.raises(SettingsError) as raised:
        load_settings({"CREDLY_TOKEN": "hunter2", "LRS_BATCH_SIZE": "0"})
    assert "hunter2" not in str(raised.value)
