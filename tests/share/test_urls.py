"""Every credential URL POST /share-links accepts can be clicked: it is refused at creation (400
naming credential_url), or made, and its click is a 302 whose Location is an ASCII URI, the URL
converted (IDNA host, percent-encoded UTF-8, escapes kept). Through the Chalice test client, the
share-link command, and a real `chalice local` for an IDN host."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import idna
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from devstack import Stack
from tests.support.paths import REPO
from tests.support.route_secrets import route_secrets
from tests.support.strategies import fuzz

pytestmark = pytest.mark.hostile

ROOT = REPO
BASE = "https://go.example.edu/api"
BADGE_CLASS = "https://badges.example.com/classes/python-expert"
# RFC 3986 section 3, for http(s) URIs: what a Location may hold.
_ESCAPE = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|{_ESCAPE})"
URI = re.compile(
    rf"https?://(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|{_ESCAPE})+)(?::[0-9]*)?"
    rf"(?:/{_PCHAR}*)*(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)

REFUSED = "refused"
TABLE = [  # (credential_url, the Location its click answers, or REFUSED with what the 400 says)
    ("https://www.credly.com/badges/9f1e2d3c", "https://www.credly.com/badges/9f1e2d3c"),
    ("https://www.credly.com/badges/9f1e2d3c\n", (REFUSED, "control character (U+000A)")),
    ("https://www.credly.com/badges/9f1e2d3c\r\n", (REFUSED, "")),
    ("https://www.credly.com/badges/9f\x00", (REFUSED, "control character (U+0000)")),
    ("https://www.credly.com/badges/9f\x01", (REFUSED, "control character (U+0001)")),
    ("https://www.credly.com/badges/9f\x7f", (REFUSED, "control character (U+007F)")),
    ("https://www.credly.com/badges/9f\x9b", (REFUSED, "control character (U+009B)")),
    ("https://www.credly.com/badges/9f\u2028x", (REFUSED, "")),
    ("https://例え.jp/badges/1", "https://xn--r8jz45g.jp/badges/1"),
    ("https://例え.JP:8443/b", "https://xn--r8jz45g.jp:8443/b"),
    ("https://Bücher.example/ß", "https://xn--bcher-kva.example/%C3%9F"),
    (
        "https://www.example.com/例え/バッジ?名前=値#frag#2",
        "https://www.example.com/%E4%BE%8B%E3%81%88/%E3%83%90%E3%83%83%E3%82%B8?%E5%90%8D%E5%89%8D=%E5%80%A4#frag%232",
    ),
    ("https://www.example.com/a%20b/%E4%BE%8B?q=%2F", "https://www.example.com/a%20b/%E4%BE%8B?q=%2F"),
    ("https://www.example.com/100%/x%zz", "https://www.example.com/100%25/x%25zz"),
    ("https://www.example.com/a[b]", "https://www.example.com/a%5Bb%5D"),
    ("https://xn--r8jz45g.jp/x", "https://xn--r8jz45g.jp/x"),
    ("https://[2001:db8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
    ("HTTPS://WWW.EXAMPLE.COM/Path", "https://WWW.EXAMPLE.COM/Path"),
    ("https://www.credly.com@evil.example/badges/1", (REFUSED, "user name or password")),
    ("https:///badges/1", (REFUSED, "host")),
    ("https://x.example:99999/", (REFUSED, "")),
    ("https://\u202eevil.example/", (REFUSED, "internationalised domain name")),
    ("https://ex\u200dample.com/", (REFUSED, "internationalised domain name")),
    ("https://x.example/" + "例" * 1000, (REFUSED, "once percent-encoded")),
    ("ftp://x.example/", (REFUSED, "absolute http(s) URL")),
    ("https://x.example/a b", (REFUSED, "absolute http(s) URL")),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from chalice.test import Client

    import app as chalice_app
    from chalicelib.runtime import services

    env = {
        "STATE_PATH": str(tmp_path_factory.mktemp("share") / "state.sqlite"),
        "LOCAL_WORKER": "false",
        "PUBLIC_BASE_URL": BASE,
        "LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/",  # the request names all: no LRS read
        **route_secrets(),
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        services.cache_clear()
        with Client(chalice_app.app, stage_name="test") as test_client:
            test_client.env = env
            yield test_client
    services.cache_clear()


def body(credential_url: str) -> dict:
    return {
        "credential_url": credential_url,
        "channel": "copy",
        "platform": "credly",
        "name": "Python Expert",
        "badge_class": BADGE_CLASS,
        "learner": {"email": "ada.lovelace@example.com"},
    }


def create(client, credential_url: str):
    return client.http.post(
        "/share-links",
        body=json.dumps(body(credential_url)).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {client.env['SHARE_LINKS_TOKEN']}"},
    )


def click(client, created) -> tuple[int, str]:
    url = json.loads(created.body)["url"]
    answer = client.http.get(url.removeprefix(BASE), headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    return answer.status_code, answer.headers.get("Location", "")


def assert_refused(created, says: str) -> None:
    assert created.status_code == 400, created.body
    answer = json.loads(created.body)
    assert answer["field"] == "credential_url" and answer["error"].startswith("credential_url: ")
    assert says.lower() in answer["error"].lower()  # pydantic's own messages come lower-cased


@pytest.mark.parametrize("credential_url, expected", TABLE)
def test_every_url_is_refused_or_redirects_to_its_uri(client, credential_url, expected):
    created = create(client, credential_url)
    if isinstance(expected, tuple):
        assert_refused(created, expected[1])
        return
    assert created.status_code == 201, created.body
    status, location = click(client, created)
    assert (status, location) == (302, expected)
    assert location.isascii() and URI.fullmatch(location)


def test_a_link_stored_with_an_unusable_target_answers_404_not_a_broken_redirect(client):
    from chalicelib.runtime import services
    from chalicelib.share import tokens
    from chalicelib.store import ShareLink

    link_id = tokens.new_link_id()  # a link made before targets were checked
    services().store.put_share_link(
        ShareLink(link_id, "copy", "https://www.credly.com/badges/9f\n", "2026-01-01T00:00:00.000Z", {})
    )
    answer = client.http.get(f"/s/{tokens.sign(link_id, client.env['SHARE_LINK_SECRET'])}")
    assert answer.status_code == 404 and "Location" not in answer.headers


HOSTS = st.sampled_from(
    [
        "www.credly.com",
        "例え.jp",
        "Bücher.example",
        "xn--r8jz45g.jp",
        "[::1]",
        "x.example:8080",
        "a\u200db.example",
        "ex%41mple.com",
        "user@x.example",
        "",
    ]
)
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from("%/?#[]@!$&'()*+,;=:"), max_size=30
)
PARTS = st.tuples(_TEXT, st.sampled_from(["", "", "", "", "\n", "\r\n", "\x00", "\x01", "\x7f", "\x85"]), _TEXT).map(
    "".join
)


@fuzz(200)
@given(host=HOSTS, path=PARTS)
def test_any_url_is_refused_or_redirects_to_the_same_resource_as_a_uri(client, host, path):
    credential_url = f"https://{host}/{path}"
    created = create(client, credential_url)
    if created.status_code == 400:
        assert json.loads(created.body)["field"] == "credential_url"
        return
    assert created.status_code == 201, created.body
    status, location = click(client, created)
    assert status == 302 and location.isascii() and URI.fullmatch(location), location
    given_parts, sent = urlsplit(credential_url), urlsplit(location)
    assert sent.hostname == (
        idna.encode(given_parts.hostname, uts46=True).decode()
        if not given_parts.hostname.isascii()
        else given_parts.hostname
    )
    for part in ("path", "query", "fragment"):  # the same text once escapes are read
        assert unquote(getattr(sent, part)) == unquote(getattr(given_parts, part)), part


def run_share_link(credential: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "STATE_PATH": str(tmp_path / "state.sqlite"),
        "PUBLIC_BASE_URL": BASE,
        "SHARE_LINK_SECRET": uuid.uuid4().hex,
        "LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/",
    }
    command = [
        sys.executable,
        "-m",
        "chalicelib",
        "share-link",
        "--credential",
        credential,
        "--channel",
        "copy",
        "--platform",
        "credly",
        "--name",
        "Python Expert",
        "--badge-class",
        BADGE_CLASS,
        "--email",
        "ada.lovelace@example.com",
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60)


@pytest.mark.parametrize(
    "credential, says",
    [
        ("https://www.credly.com/badges/9f1e2d3c\n", "contains a control character (U+000A)"),
        ("https://www.credly.com/badges/9f\x01", "contains a control character (U+0001)"),
        ("https://\u202eevil.example/", "the host is not a valid internationalised domain name"),
    ],
)
def test_the_command_refuses_what_the_route_refuses_in_one_line(tmp_path, credential, says):
    answer = run_share_link(credential, tmp_path)
    assert answer.returncode == 2 and answer.stdout == b""
    assert answer.stderr.decode().splitlines() == [f"error: --credential: {says}"]


def test_the_command_makes_a_link_to_an_idn_credential_that_redirects_to_its_uri(tmp_path, monkeypatch):
    from chalicelib.runtime import services

    answer = run_share_link("https://例え.jp/badges/1", tmp_path)
    assert answer.returncode == 0, answer.stderr
    url = json.loads(answer.stdout)["url"]
    assert url.startswith(f"{BASE}/s/")
    link_id = base64.urlsafe_b64encode(base64.urlsafe_b64decode(url.rsplit("/", 1)[1])[:12]).decode()
    monkeypatch.setenv("STATE_PATH", str(tmp_path / "state.sqlite"))
    services.cache_clear()
    try:
        assert services().store.share_link(link_id).target == "https://xn--r8jz45g.jp/badges/1"
    finally:
        services.cache_clear()


@pytest.mark.integration
def test_chalice_local_redirects_to_an_idn_credential():
    with Stack() as stack:
        headers = {"Authorization": f"Bearer {stack.secrets['SHARE_LINKS_TOKEN']}"}
        created = requests.post(
            f"{stack.url}/share-links", json=body("https://例え.jp/バッジ/1?名=値"), headers=headers, timeout=10
        )
        assert created.status_code == 201, created.text
        clicked = requests.get(
            created.json()["url"],
            allow_redirects=False,
            timeout=10,
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"},
        )
        assert clicked.status_code == 302
        assert clicked.headers["Location"] == "https://xn--r8jz45g.jp/%E3%83%90%E3%83%83%E3%82%B8/1?%E5%90%8D=%E5%80%A4"


def test_an_iri_finds_the_credential_earned_under_its_uri_and_shares_that():
    from chalicelib.identity import LearnerDirectory
    from chalicelib.intake.models import ShareLinkRequest
    from chalicelib.settings import load_settings
    from chalicelib.share.credentials import CredentialResolver
    from chalicelib.xapi import vocabulary as v

    uri = "https://xn--r8jz45g.jp/%E3%83%90%E3%83%83%E3%82%B8/1"
    earned = {
        "actor": {"mbox": "mailto:ada.lovelace@example.com"},
        "context": {"platform": "Credly"},
        "object": {"id": BADGE_CLASS, "definition": {"name": {"en": "Python Expert"}}},
        "result": {"extensions": {v.BADGEASSERTION_EXTENSION: {"@id": uri}}},
    }
    resolver = CredentialResolver.from_settings(load_settings({}), LearnerDirectory())
    resolver.query = lambda: lambda **params: iter([earned])
    request = ShareLinkRequest(credential_url="https://例え.jp/バッジ/1", channel="copy")
    event = resolver.event(request)
    assert event.credential.assertion_url == uri and event.credential.name == "Python Expert"
