"""Dead letters: list them, and replay them through the worker (deterministic ids make it safe)."""

from __future__ import annotations

from dataclasses import dataclass

from .queue import QueueMessage
from .runtime import Services
from .store import DeadLetter


@dataclass
class ReplayOutcome:
    letter_id: str
    result: str  # delivered | dead-lettered again | retry later


def replay(services: Services, letters: list[DeadLetter]) -> list[ReplayOutcome]:
    """Send each dead letter's message through Worker.process; remove the letters that went."""
    outcomes = []
    store = services.store
    for letter in letters:
        message = QueueMessage.model_validate(letter.message)
        before = letter.attempts
        result = services.process([message])  # LAP evidence goes to the award worker
        after = store.dead_letter(letter.id)
        if message.id in result.failed:
            outcomes.append(ReplayOutcome(letter.id, f"retry later: {result.failed[message.id]}"))
        elif after is not None and after.attempts > before:
            outcomes.append(ReplayOutcome(letter.id, f"dead-lettered again: {after.reason}"))
        else:
            store.delete_dead_letter(letter.id)
            outcomes.append(ReplayOutcome(letter.id, "delivered"))
    return outcomes
