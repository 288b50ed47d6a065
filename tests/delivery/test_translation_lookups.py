"""An event's learner is looked up in the directory once, though it is both counted (mapped or
not) and resolved; the next event's learner is looked up afresh."""

from __future__ import annotations

from chalicelib.events import Learner
from tests.support.helpers import AS_OF, fixture, make_translator


def counting_finds(translator) -> list[tuple[Learner, str | None]]:
    directory = translator.resolver.directory
    original = directory.find
    calls: list[tuple[Learner, str | None]] = []

    def find(learner: Learner, platform: str | None = None):
        calls.append((learner, platform))
        return original(learner, platform)

    directory.find = find
    return calls


def test_one_directory_lookup_per_event_counted_and_resolved():
    translator = make_translator(directory=True)
    calls = counting_finds(translator)

    translation = translator.translate("credly", fixture("credly/event_badge_created.json"), AS_OF)

    assert len(translation.events) == 1
    assert len(calls) == 1
    [statement] = translation.statements
    assert statement["actor"]["mbox"] == "mailto:ada.lovelace@example.com"


def test_each_event_looks_its_own_learner_up():
    translator = make_translator(directory=True)
    calls = counting_finds(translator)
    first = fixture("credly/event_badge_created.json")
    second = fixture("credly/event_badge_created.json")
    second["data"]["badge"]["recipient_email"] = "grace.hopper@example.com"
    second["data"]["badge"]["user"]["email"] = "grace.hopper@example.com"

    actors = [
        s["actor"].get("mbox") for d in (first, second) for s in translator.translate("credly", d, AS_OF).statements
    ]

    assert actors == ["mailto:ada.lovelace@example.com", "mailto:grace.hopper@example.com"]
    assert len(calls) == 2
