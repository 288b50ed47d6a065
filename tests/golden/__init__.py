"""Golden statement files: what the translator makes of every platform fixture under
tests/fixtures/, one file per fixture (tests/golden/<platform>/<fixture>.json), so that a reader
sees what each payload becomes and a change to the statements shows as a diff.

The translation runs with fixed settings (the defaults, the fixture learner directory) and a
fixed `as_of`, so a golden file changes only when the translation does. tests/fixtures/lap and
lxp have none: they hold award evidence and LRS answers, which the translator does not read. Regenerate them with
`make golden` (python -m tests.golden --update), only for an intended change of the statements,
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.delivery.translation import Translator
from chalicelib.platforms import PLATFORMS as REGISTRY
from chalicelib.settings import load_settings

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
GOLDEN = Path(__file__).resolve().parent
PLATFORMS = tuple(name for name in REGISTRY if (FIXTURES / name).is_dir())  # each platform with fixtures
AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
SETTINGS = {"LEARNER_DIRECTORY": str(FIXTURES / "directory.csv")}


def _fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def _badgr_assertions(page: dict) -> dict:
    """Each assertion with its badge class embedded, as the Badgr pull embeds it."""
    badgeclass = _fixture("badgr/badgeclass.json")["result"][0]
    return {**page, "result": [{**a, "badgeclass": badgeclass} for a in page["result"]]}


def _accredible_analytics(page: dict) -> dict:
    """Each analytics row with its credential embedded, as the Accredible pull embeds it."""
    credentials = {c["id"]: c for c in _fixture("accredible/credentials_search.json")["credentials"]}
    return {
        **page,
        "analytics": [{**row, "credential": credentials[row["credential_id"]]} for row in page["analytics"]],
    }


# Fixtures the translator reads only once the pull (or the worker) has completed them.
COMPLETED: dict[str, Callable[[dict], dict]] = {
    "badgr/assertions_changed": _badgr_assertions,
    "accredible/credential_analytics": _accredible_analytics,
}
# Fixtures that are no payload of their own, and where their content ends up.
COMPANIONS = {
    "badgr/badgeclass": "the badge class embedded in badgr/assertions_changed",
    "credly/webhook_badge_created": "a notification: the worker fetches the event's details "
    "(credly/event_badge_* are such details)",
}


def cases() -> list[str]:
    """Every fixture with a golden file, as <platform>/<name>."""
    found = [f"{p}/{path.stem}" for p in PLATFORMS for path in sorted((FIXTURES / p).glob("*.json"))]
    return [name for name in found if name not in COMPANIONS]


def translation(name: str, translator: Translator | None = None) -> dict[str, Any]:
    """What the translator makes of fixture `name`: its statements and the rules it skipped by."""
    translator = translator or Translator(load_settings(SETTINGS))
    platform = name.split("/")[0]
    document = COMPLETED.get(name, lambda d: d)(_fixture(f"{name}.json"))
    result = translator.translate(platform, document, AS_OF)
    return {"statements": result.statements, "skipped": [s.rule for s in result.skipped]}


def text(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def path_of(name: str) -> Path:
    return GOLDEN / f"{name}.json"


def difference(name: str, translator: Translator | None = None) -> str:
    """A unified diff from the golden file to today's translation; empty when they agree."""
    golden = path_of(name)
    expected = golden.read_text(encoding="utf-8") if golden.exists() else ""
    actual = text(translation(name, translator))
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"{golden.relative_to(TESTS.parent)} (golden)",
            "translation now",
        )
    )


def update() -> list[str]:
    """Writes every golden file anew and removes those of fixtures that are gone; the names changed."""
    translator = Translator(load_settings(SETTINGS))
    changed = []
    for name in cases():
        if difference(name, translator):
            path_of(name).parent.mkdir(parents=True, exist_ok=True)
            path_of(name).write_text(text(translation(name, translator)), encoding="utf-8")
            changed.append(name)
    for stale in sorted(set(GOLDEN.glob("*/*.json")) - {path_of(name) for name in cases()}):
        stale.unlink()
        changed.append(f"{stale.parent.name}/{stale.stem} (removed)")
    return changed
