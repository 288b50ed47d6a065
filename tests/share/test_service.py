"""Tracked share links: token signing and forgery, LinkedIn's URL, crawler detection, the events."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from chalicelib.share import tokens
from chalicelib.share.clicks import Window, client_hash, view_id
from chalicelib.share.crawlers import is_crawler
from chalicelib.share.linkedin import add_to_profile_url

SECRET = "s3cret-for-tests"


# -- tokens ---------------------------------------------------------------------------------------


def test_a_signed_token_gives_back_its_link_id_and_carries_nothing_else():
    link_id = tokens.new_link_id()
    token = tokens.sign(link_id, SECRET)
    assert len(token) == 32 and token.isascii() and "=" not in token
    assert tokens.link_id_of(token, [SECRET]) == link_id
    raw = base64.urlsafe_b64decode(token)
    assert len(raw) == 24 and raw[:12] == base64.urlsafe_b64decode(link_id)  # 96-bit id + 96-bit MAC


def test_link_ids_are_random():
    assert len({tokens.new_link_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("position", range(32))
def test_any_changed_character_is_refused(position):
    token = tokens.sign(tokens.new_link_id(), SECRET)
    replacement = "A" if token[position] != "A" else "B"
    tampered = token[:position] + replacement + token[position + 1 :]
    assert tokens.link_id_of(tampered, [SECRET]) is None


def test_a_token_signed_with_another_secret_is_refused():
    link_id = tokens.new_link_id()
    assert tokens.link_id_of(tokens.sign(link_id, "another"), [SECRET]) is None


def test_an_id_with_a_forged_mac_is_refused():
    link_id = tokens.new_link_id()
    raw = base64.urlsafe_b64decode(link_id) + bytes(12)
    assert tokens.link_id_of(base64.urlsafe_b64encode(raw).decode(), [SECRET]) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "A" * 31,
        "A" * 33,
        "A" * 32,
        "é" * 32,
        "+" * 32,
        "/" * 32,
        "%41" * 10 + "AA",
        "\ud800" * 32,
        "AAAA====" * 4,
    ],
)
def test_malformed_tokens_are_refused_without_error(token):
    assert tokens.link_id_of(token, [SECRET]) is None


def test_the_previous_secret_still_opens_links_made_before_a_rotation():
    link_id = tokens.new_link_id()
    old = tokens.sign(link_id, "old-secret")
    assert tokens.link_id_of(old, [SECRET, "old-secret"]) == link_id
    assert tokens.link_id_of(old, [SECRET]) is None


# -- LinkedIn -------------------------------------------------------------------------------------


def test_linkedin_url_encodes_every_parameter():
    url = add_to_profile_url(
        name="Données & IA: niveau 2 #1",
        cert_url="https://c.example/s/ab-_CD?x=1&y=2",
        cert_id="id/1 2",
        organization_id="1337",
        issued_at=datetime(2026, 3, 4, tzinfo=UTC),
        expires_at=datetime(2029, 11, 30, tzinfo=UTC),
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert " " not in url and "#" not in url and url.count("?") == 1
    assert parse_qsl(parts.query) == [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", "Données & IA: niveau 2 #1"),
        ("organizationId", "1337"),
        ("issueYear", "2026"),
        ("issueMonth", "3"),
        ("expirationYear", "2029"),
        ("expirationMonth", "11"),
        ("certUrl", "https://c.example/s/ab-_CD?x=1&y=2"),
        ("certId", "id/1 2"),
    ]


def test_linkedin_url_leaves_out_what_is_not_known():
    url = add_to_profile_url(name="Badge", cert_url="https://c.example/s/t", cert_id="c1")
    assert [key for key, _ in parse_qsl(urlsplit(url).query)] == ["startTask", "name", "certUrl", "certId"]


# -- crawlers -------------------------------------------------------------------------------------

CRAWLERS = [
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Facebot",
    "Twitterbot/1.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "SomeCompanyCrawler/3.0",
    "my-spider",
    "LinkPreview/1.0",
    "python-requests/2.32.0",
    "curl/8.5.0",
    "",
    None,
]
PEOPLE = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 "
    "[LinkedInApp]/9.29",
]


@pytest.mark.parametrize("agent", CRAWLERS)
def test_link_preview_crawlers_are_recognised(agent):
    assert is_crawler(agent)


@pytest.mark.parametrize("agent", PEOPLE)
def test_browsers_are_people(agent):
    assert not is_crawler(agent)


# -- clicks ---------------------------------------------------------------------------------------


def test_the_client_hash_is_keyed_and_stable_and_holds_no_address():
    first = client_hash(SECRET, "203.0.113.7", "Firefox")
    assert first == client_hash(SECRET, "203.0.113.7", "Firefox")
    assert first != client_hash(SECRET, "203.0.113.8", "Firefox") != client_hash(SECRET, "203.0.113.7", "Chrome")
    assert first != client_hash("other", "203.0.113.7", "Firefox")
    assert "203" not in first and len(first) == 32


def test_clicks_share_a_window_until_it_ends():
    start = 1_800_000_000 - 1_800_000_000 % 1800
    assert Window.at(start, 1800) == Window.at(start + 1799.9, 1800) != Window.at(start + 1800, 1800)
    assert Window.at(start + 5, 1800).start == datetime.fromtimestamp(start, UTC)
    assert view_id("L", "c", Window.at(start, 1800)) != view_id("L", "c", Window.at(start, 900))


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("PUBLIC_BASE_URL", "connector.example.edu"),
        ("PUBLIC_BASE_URL", "https://c.example/api?x=1"),
        ("LINKEDIN_ORGANIZATION_ID", "acme"),
        ("SHARE_CLICK_WINDOW_SECONDS", "0"),
    ],
)
def test_share_settings_are_checked_and_name_the_setting(name, value):
    from chalicelib.errors import SettingsError
    from chalicelib.settings import load_settings

    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_the_public_base_url_loses_its_trailing_slash():
    from chalicelib.settings import load_settings

    assert load_settings({"PUBLIC_BASE_URL": "https://c.example/api/"}).public_base_url == "https://c.example/api"


def test_a_view_is_never_dated_before_its_share():
    from chalicelib.events import Credential, CredentialEvent, Kind, Learner
    from chalicelib.share.events import shared_event, viewed_event

    credential = CredentialEvent(
        platform="openbadges",
        kind=Kind.ISSUED,
        learner=Learner(email="a@example.com"),
        credential=Credential(id="c-1", template_iri="https://b.example/c", name="C"),
    )
    made = datetime(2026, 12, 2, 2, 27, 35, tzinfo=UTC)
    shared = shared_event(credential, "link-1", "linkedin", made)
    window = Window.at(made.timestamp() + 60, 1800)  # clicked a minute later: the window began before the share
    assert window.start < made
    assert viewed_event(shared, "v-1", window.start, "https://x.example").occurred_at == made
    later = Window.at(made.timestamp() + 3600, 1800)  # a later window: its start, for racing clicks to agree
    assert viewed_event(shared, "v-2", later.start, "https://x.example").occurred_at == later.start


def test_the_link_cache_keeps_the_links_clicked_most_recently(monkeypatch):
    import chalicelib.share.service as service
    from chalicelib.store import ShareLink

    reads: list[str] = []

    class Store:
        def share_link(self, link_id):
            reads.append(link_id)
            return ShareLink(link_id, "email", "https://b.example/c", "2026-12-02T00:00:00.000Z", {})

    monkeypatch.setattr(service, "LINK_CACHE", 2)
    links = service.ShareLinks(settings=None, store=Store(), queue=None, credentials=lambda: None)
    for link_id in ("popular", "b", "popular", "c", "popular"):  # "popular" is clicked between the others
        links._link(link_id)
    assert reads == ["popular", "b", "c"]  # never read again: "b", the least recent, made room for "c"
