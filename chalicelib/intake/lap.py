"""Evidence from learning analytics for the award rules: forwarded statements and report rows."""

from __future__ import annotations

from ..awards.inputs import check_statement, parse_report_csv, parse_report_json
from ..errors import InputError
from ..queue import QueueMessage
from ..settings import Settings
from .enqueue import Enqueuer, Entry
from .http import Reply, answers_errors, one_or_many, read_json, token_refusal
from .models import Accepted

REFUSED = "missing or wrong LAP_TOKEN (Bearer, or Basic with it as password)"


class LapIntake:
    def __init__(self, settings: Settings, enqueuer: Enqueuer) -> None:
        self.settings = settings
        self.enqueuer = enqueuer

    @answers_errors
    def statements(self, authorization: str | None, raw_body: bytes) -> Reply:
        refusal = self._refusal(authorization)
        if refusal:
            return refusal
        data = read_json(raw_body)
        statements = one_or_many(data)
        for index, statement in enumerate(statements):
            check_statement(statement, f"[{index}]" if isinstance(data, list) else "")
        entries = [Entry(QueueMessage(source="lap", body=s), _lap_key(s)) for s in statements]
        return self.enqueuer.accept(entries, itemised=True)

    @answers_errors
    def reports(self, authorization: str | None, content_type: str, raw_body: bytes, report_id: str | None) -> Reply:
        refusal = self._refusal(authorization, bearer_only=True)
        if refusal:
            return refusal
        if content_type.lower().startswith("text/csv"):
            report = parse_report_csv(_utf8(raw_body), report_id)
        else:
            report = parse_report_json(read_json(raw_body))
        info = report.report.model_dump(exclude_none=True)
        entries = [
            Entry(QueueMessage(source="lap-report", body={"report": info, "row": row.model_dump(exclude_none=True)}))
            for row in report.rows
        ]
        if not entries:
            return Reply(202, Accepted(ids=[]))
        return self.enqueuer.accept(entries)

    def _refusal(self, authorization: str | None, bearer_only: bool = False) -> Reply | None:
        return token_refusal(self.settings, "LAP_TOKEN", authorization, REFUSED, basic_too=not bearer_only)


def _utf8(raw_body: bytes) -> str:
    try:
        return raw_body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("(body)", "CSV must be UTF-8") from None


def _lap_key(statement: dict) -> str | None:
    """Forwarding retries: de-duplicate on the statement id where the LRS gave one."""
    statement_id = statement.get("id")
    return f"lap:{statement_id}" if isinstance(statement_id, str) and statement_id else None
