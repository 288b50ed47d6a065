"""The delivered-statement log: what the LRS acknowledged is not POSTed to it again.

Statement ids are deterministic, so a statement the LRS stored (or answered it already held) would
only be answered "already stored" again; an import of the same credentials from a CSV export
makes every batch of a later pull such a conflict, which costs a look-up per statement. The log
(DeliveredStatements, per LRS endpoint) spares those requests:

  prepare   the ids of a batch the log holds are set aside (the drainer thread: it has the store)
  check     one of them, chosen at random, is looked up in the LRS (the sender thread: LRS only).
            Held: the set-aside statements count as already stored and are not sent. Not held:
            the LRS lost what it held (an in-memory LRS restarted, an LRS wiped), the batch goes
            in full and the endpoint's log is forgotten. No answer by id (the LRS ignores or
            refuses the filter): the batch goes in full, the log is kept but no longer read
  settle    what the LRS acknowledged is recorded (after the forgetting, when the log was lost)

`reconcile` forgets the log before sending anything again (pull/reconcile.py): it found the LRS
lacks a statement, which the log may claim it holds. docs/statements.md has the rule.
"""

from __future__ import annotations

import logging
import random
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConnectorError
from ..observability import log
from ..store import DeliveredStatements
from ..xapi.lrs import DeliveryReport, FilterIgnored, LrsAuthError, LrsClient, LrsUnavailable

Verdict = Literal["held", "lost", "unknown"]


def endpoint_key(base_url: str) -> str:
    """The LRS endpoint the log is kept for: LRS_ENDPOINT normalised, without user or password."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2].lower(), parts.path, "", ""))


class DeliveredLog:
    def __init__(self, store: DeliveredStatements, lrs: LrsClient, choose: random.Random | None = None) -> None:
        self.store = store
        self.lrs = lrs
        self.endpoint = endpoint_key(lrs.base_url)
        self._random = choose or random.Random()
        self.readable = True  # False once the LRS showed it cannot answer a look-up by id
        # Moves each time the log is forgotten. Batches are pipelined: the next one reads the log
        # before this one is settled, so it may find the same loss; it must not forget what this
        # one recorded after forgetting.
        self.generation = 0

    def known(self, ids: list[str]) -> set[str]:
        """The ids of `ids` the log says the LRS acknowledged."""
        return self.store.delivered_ids(self.endpoint, ids) if self.readable and ids else set()

    def check(self, ids: list[str]) -> Verdict:
        """Does the LRS still hold one of `ids` (chosen at random, stored or voided since)?"""
        statement_id = self._random.choice(sorted(ids))
        try:
            held = self.lrs.look_up(statement_id, False) or self.lrs.look_up(statement_id, True)
        except FilterIgnored:
            self.readable = False
            log("delivered_log_unreadable", level=logging.WARNING, reason="the LRS ignores statementId")
            return "unknown"
        except (LrsUnavailable, LrsAuthError):
            raise  # the batch is retried, or stops on the configuration, as a POST's failure
        except ConnectorError as error:
            log("delivered_log_unreadable", level=logging.WARNING, reason=str(error)[:300])
            return "unknown"
        if held is None:
            log("delivered_log_lost", level=logging.WARNING, statement_id=statement_id, statements=len(ids))
            return "lost"
        return "held"

    def record(self, report: DeliveryReport, skipped: list[str], lost: bool, read_in: int) -> None:
        """Record what the LRS acknowledged in a batch (the skipped ids are recorded already);
        lost: the log was found stale for this LRS, forgotten first, unless it has been forgotten
        since the batch read it (read_in: the generation then)."""
        if lost and read_in == self.generation:
            self.forget()
        settled = set(skipped)
        acknowledged = [i for i in [*report.delivered, *report.already_stored] if i not in settled]
        if acknowledged:
            self.store.record_delivered(self.endpoint, acknowledged)

    def forget(self) -> None:
        self.store.forget_delivered(self.endpoint)
        self.generation += 1
        log("delivered_log_forgotten")
