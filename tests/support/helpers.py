"""Small helpers shared by the unit tests: fixtures, expected ids, translators.

Expected values in the tests are written literally or computed here independently of the
code under test (statement ids are UUIDv5 over the logical event's keys, docs/statements.md).
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from functools import cache

from chalicelib.delivery.translation import Translation, Translator
from chalicelib.settings import DEFAULT_STATEMENT_NAMESPACE, load_settings
from tests.support.paths import REPO

REPO_ROOT = REPO
FIXTURES = REPO_ROOT / "tests" / "fixtures"
DIRECTORY_CSV = FIXTURES / "directory.csv"

# Every test passes an explicit as_of: nothing depends on today's date.
AS_OF = datetime(2026, 11, 28, tzinfo=UTC)

# The documented default extension base, written out rather than imported.
EXT = "https://credential-connector.dev/xapi"

VERB_EARNED = "http://specification.openbadges.org/xapi/verbs/earned"
VERB_ACCEPT = "http://activitystrea.ms/accept"
VERB_REJECT = "http://activitystrea.ms/reject"
VERB_EXPIRED = "http://id.tincanapi.com/verb/expired"
VERB_SHARED = "http://adlnet.gov/expapi/verbs/shared"
VERB_VIEWED = "http://id.tincanapi.com/verb/viewed"
VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERB_REVOKED = f"{EXT}/verbs/revoked"

BADGE_TYPE = "http://activitystrea.ms/schema/1.0/badge"
BADGECLASS_EXT = "http://specification.openbadges.org/xapi/extensions/badgeclass"
BADGEASSERTION_EXT = "http://specification.openbadges.org/xapi/extensions/badgeassertion"
SHARE_MEDIUM_EXT = "http://id.tincanapi.com/extension/share-medium"
RECIPE = {
    "id": "http://specification.openbadges.org/xapi/recipe/base/0_0_2",
    "definition": {"type": "http://id.tincanapi.com/activitytype/recipe"},
}
CONNECTOR_ACCOUNT = {"homePage": EXT, "name": "credential-connector"}
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


@cache
def _load(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def fixture(relative: str) -> object:
    """A fresh copy of a fixture document (safe to modify)."""
    return copy.deepcopy(json.loads(_load(relative)))


def statement_id(key: str) -> str:
    return str(uuid.uuid5(uuid.UUID(DEFAULT_STATEMENT_NAMESPACE), key))


def make_translator(env: dict[str, str] | None = None, *, directory: bool = False) -> Translator:
    values = dict(env or {})
    if directory:
        values["LEARNER_DIRECTORY"] = str(DIRECTORY_CSV)
    return Translator(load_settings(values))


def translate(
    source: str,
    document: object,
    *,
    as_of: datetime = AS_OF,
    env: dict[str, str] | None = None,
    directory: bool = False,
) -> Translation:
    return make_translator(env, directory=directory).translate(source, document, as_of)


def dumps(statements: list[dict]) -> str:
    return json.dumps(statements)


def verbs(statements: list[dict]) -> list[str]:
    return [s["verb"]["id"] for s in statements]


def only(statements: list[dict], verb: str) -> dict:
    """The single statement with this verb."""
    matching = [s for s in statements if s["verb"]["id"] == verb]
    assert len(matching) == 1, f"expected one {verb} statement, got {verbs(statements)}"
    return matching[0]


def ifis(agent: dict) -> set[str]:
    return set(IFIS) & set(agent)
