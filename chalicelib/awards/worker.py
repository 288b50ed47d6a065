"""The award worker: LAP evidence -> rule progress -> ledger claim -> platform award, exactly once.

Every hop may repeat (forwarding retries, queue redelivery, replays): progress merges
idempotently, and the ledger's conditional claim lets one caller through per (learner,
credential). A claim left behind by a crash between claim and call stays `claimed`: the
message is retried while the claim is fresh and dead-lettered once it is stale, so an operator
checks the platform and runs `python -m chalicelib awards release KEY` before replaying.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .. import metrics
from ..deadletters import DeadLettering, DeadLetters
from ..errors import ConnectorError, PlatformAuthError
from ..httpretry import TransientFailure
from ..identity import DirectoryEntry, LearnerDirectory
from ..observability import bound, log
from ..platforms.awarding import AwardClient, AwardRejected, Recipient
from ..processing import BatchResult, auth_flag, clear_flag, settled_alone
from ..queue import Queue, QueueMessage
from ..store import AwardLedger
from ..timeutil import optional_time
from .evaluate import Match, RuleOutcome, apply_matches, report_row_matches, statement_matches
from .rules import Rule, RuleSet

STALE_CLAIM = timedelta(minutes=15)


class AwardState(AwardLedger, DeadLettering, Protocol):
    """The award ledger and rule progress, the dead letters, the counters and auth flags."""


class AwardWorker:
    def __init__(
        self,
        rules: RuleSet,
        store: AwardState,
        directory: LearnerDirectory,
        client_for: Callable[[str], AwardClient],
        queue: Queue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.rules = rules
        self.store = store
        self.directory = directory
        self.client_for = client_for
        self.queue = queue  # where an award's issued event goes when its platform sends no webhook
        self.dead_letters = DeadLetters(store)
        self.clock = clock

    def process(self, messages: list[QueueMessage]) -> BatchResult:
        result = BatchResult()
        for message in messages:
            before = Counter(result.counts)
            with (
                bound(correlation_id=message.correlation_id),
                settled_alone(message, result, self.dead_letters, self.store),
            ):
                self._process(message, result)
            # dead letters count themselves (deadletters.py)
            metrics.count_all(result.counts - before, message.source, skip=("dead_lettered",))
        self.store.increment({k: v for k, v in result.counts.items() if v})
        metrics.flush()
        return result

    # -- one message ---------------------------------------------------------------------------

    def _process(self, message: QueueMessage, result: BatchResult) -> None:
        now = self.clock()
        matches, agent = self._evidence(message, now)
        if not matches:
            result.counts["lap_no_rule_matched"] += 1
            return
        learner = self._learner(agent)
        stored = {m.rule_id: self.store.progress(learner.employee_id, m.rule_id) for m in matches}
        for outcome in apply_matches(self.rules, matches, stored, now):
            self._save_progress(learner, outcome)
            if outcome.fired:
                self._award(outcome.rule, learner, now, message, result)

    def _evidence(self, message: QueueMessage, now: datetime) -> tuple[list[Match], dict]:
        body = message.body
        if message.source == "lap":
            return statement_matches(self.rules, body, now), body.get("actor") or {}
        report, row = body.get("report") or {}, body.get("row") or {}
        at = optional_time(report.get("generated_at"), "report.generated_at") or now
        learner = row.get("learner") or {}
        agent = {"account": learner.get("account") or {"name": learner.get("employee_id")}, "mbox": None}
        if learner.get("email") and not (learner.get("account") or learner.get("employee_id")):
            agent = {"mbox": f"mailto:{learner['email']}"}
        return report_row_matches(self.rules, report.get("id"), row, at), agent

    def _learner(self, agent: dict) -> DirectoryEntry:
        entry = self.directory.find_agent(agent)
        if entry is None:
            raise ConnectorError("LAP learner not found in the learner directory (LEARNER_DIRECTORY): no award")
        return entry

    def _save_progress(self, learner: DirectoryEntry, outcome: RuleOutcome) -> None:
        if outcome.changed:
            for key, at in outcome.progress.items():
                self.store.add_progress(learner.employee_id, outcome.rule.id, key, at.isoformat())

    # -- the award, through the ledger ---------------------------------------------------------

    def _award(
        self, rule: Rule, learner: DirectoryEntry, now: datetime, message: QueueMessage, result: BatchResult
    ) -> None:
        key = ledger_key(rule, learner)
        account = rule.awarded_by  # the connection that awards: its own client, flag and issued messages
        client = self.client_for(account)  # before the claim: a missing setting must not leave one
        if not self.store.claim_award(key):
            self._claimed_elsewhere(key, account, now, message, result)
            return
        try:
            award = client.award(rule.credential.id, recipient(learner), now, credential_name=rule.name)
        except TransientFailure:
            self.store.release_award(key)  # nothing was issued: a later retry may claim again
            raise
        except PlatformAuthError as error:
            self.store.release_award(key)  # the flag is set where the message is settled
            error.platform = account  # a named connection's refusal is its own, not the default account's
            raise
        except AwardRejected as error:
            self.store.fail_award(key, str(error))
            raise
        clear_flag(self.store, auth_flag(account))
        detail: dict = {"response": award.response}
        if award.issued_document is not None:
            detail["issued_document"] = award.issued_document  # kept in the ledger until it is queued
        self.store.complete_award(key, award.vendor_id, detail)
        result.counts["already_awarded" if award.already_awarded else "awarded"] += 1
        log(
            "awarded",
            rule=rule.id,
            platform=rule.credential.platform,
            connection=account,
            vendor_id=award.vendor_id,
            already=award.already_awarded,
        )
        self._queue_issued(key, account, award.vendor_id, detail)

    def _queue_issued(self, key: str, account: str, vendor_id: str, detail: dict) -> None:
        """A platform without webhooks never reports the award: its answer is queued as the issued
        event. It is in the ledger first, so a crash or a failed send is made good by the retry."""
        document = detail.get("issued_document")
        if document is None:
            return
        self.queue.send(QueueMessage(source=account, body=document))
        queued = {name: value for name, value in detail.items() if name != "issued_document"}
        self.store.complete_award(key, vendor_id, {**queued, "issued_queued": True})

    def _claimed_elsewhere(
        self, key: str, account: str, now: datetime, message: QueueMessage, result: BatchResult
    ) -> None:
        record = self.store.award(key) or {}
        if record.get("state") == "awarded":
            result.counts["already_awarded"] += 1
            self._queue_issued(key, account, str(record.get("vendor_id") or ""), record.get("detail") or {})
            return
        claimed_at = optional_time(record.get("updated_at"), "ledger.updated_at") or now
        if now - claimed_at < STALE_CLAIM:
            result.failed[message.id] = f"award {key} is being made by another worker"
            return
        raise ConnectorError(
            f"award {key} was claimed at {record.get('updated_at')} without a result: check the platform, "
            f"then `python -m chalicelib awards release {key}` and replay"
        )


def ledger_key(rule: Rule, learner: DirectoryEntry) -> str:
    """platform|credential|learner; a named connection's platform/connection|...: the same
    credential id on two accounts is two awards (the default connection keeps the keys it had)."""
    platform = rule.credential.platform
    account = platform if rule.awarded_by == platform else f"{platform}/{rule.awarded_by}"
    return f"{account}|{rule.credential.id}|{learner.employee_id}"


def recipient(learner: DirectoryEntry) -> Recipient:
    first, _, last = (learner.name or learner.email).partition(" ")
    return Recipient(
        email=learner.email,
        name=learner.name or learner.email,
        first_name=first,
        last_name=last or first,
        earner_id=learner.employee_id,
    )
