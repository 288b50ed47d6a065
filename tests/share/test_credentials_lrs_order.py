"""A share link's credential is found in an LRS that answers oldest first: the connector searches
only the latest earned statements while it sees them newest first, and all of them otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.delivery.translation import Translator
from chalicelib.events import Kind
from chalicelib.identity import IdentityResolver, LearnerDirectory
from chalicelib.intake.models import ShareLinkRequest
from chalicelib.platforms import platform_titles
from chalicelib.settings import load_settings
from chalicelib.share.credentials import SCAN_LIMIT, CredentialNotFound, CredentialResolver
from chalicelib.xapi import vocabulary as v
from tests.support.paths import FIXTURE_DIR

pytestmark = pytest.mark.hostile

FIXTURES = FIXTURE_DIR


def earned_statements(count: int) -> list[dict]:
    """`count` earned statements of one badge, each its own assertion URL, stored a second apart."""
    settings = load_settings({})
    page = json.loads((FIXTURES / "credly" / "badges_page_1.json").read_text())
    translation = Translator(settings).translate("credly", {"data": page["data"][:1]}, datetime.now(UTC))
    [earned] = [s for s in translation.statements if s["verb"]["id"] == v.VERBS[Kind.ISSUED][0]]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            **earned,
            "id": f"00000000-0000-4000-8000-{index:012d}",
            "stored": (start + timedelta(seconds=index)).isoformat().replace("+00:00", "Z"),
            "result": {"extensions": {v.BADGEASSERTION_EXTENSION: {"@id": f"https://badges.example.org/a/{index}"}}},
        }
        for index in range(count)
    ]


def resolver(answers: list[dict]) -> CredentialResolver:
    settings = load_settings({})
    directory = LearnerDirectory.from_settings(settings)
    return CredentialResolver(
        lambda: lambda **params: iter(answers),
        IdentityResolver("mbox", directory, None),
        directory,
        platform_titles(),
        settings.xapi_extension_base,
    )


def test_the_newest_credential_is_found_when_the_lrs_answers_oldest_first():
    statements = earned_statements(SCAN_LIMIT + 500)
    newest = f"https://badges.example.org/a/{SCAN_LIMIT + 499}"
    event = resolver(statements).event(ShareLinkRequest(credential_url=newest, channel="linkedin"))
    assert event.credential.assertion_url == newest


def test_newest_first_answers_are_searched_only_as_far_as_the_limit():
    statements = list(reversed(earned_statements(SCAN_LIMIT + 10)))
    oldest = "https://badges.example.org/a/0"  # beyond the latest SCAN_LIMIT
    with pytest.raises(CredentialNotFound, match="no earned statement in the LRS"):
        resolver(statements).event(ShareLinkRequest(credential_url=oldest, channel="linkedin"))
