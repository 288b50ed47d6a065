"""What the learning analytics side sends: forwarded xAPI statements and report rows (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError
from ..xapi.validate import is_absolute_iri

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
LEARNER_COLUMNS = ("email", "name", "employee_id", "account_name", "account_homepage")


def check_statement(statement: Any, where: str = "") -> dict:
    """The parts of a forwarded statement the award rules read; InputError names what is missing.

    Incoming statements come from an LRS (with stored, authority, version...): only what the
    rules need is checked, not the connector's strict outgoing contract.
    """
    at = (lambda field: f"{where}.{field}" if where else field)
    if not isinstance(statement, dict):
        raise InputError(where or "(body)", "expected an xAPI statement object")
    actor = statement.get("actor")
    if not isinstance(actor, dict) or not any(actor.get(ifi) for ifi in _IFIS):
        raise InputError(at("actor"), "needs an agent with mbox, mbox_sha1sum, openid or account")
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not is_absolute_iri(verb.get("id")):
        raise InputError(at("verb.id"), "missing or not an absolute IRI")
    target = statement.get("object")
    if not isinstance(target, dict) or not isinstance(target.get("id"), str) or not target["id"]:
        raise InputError(at("object.id"), "missing")
    return statement


class ReportAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    homePage: str | None = None
    name: str


class ReportLearner(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str | None = None
    name: str | None = None
    employee_id: str | None = None
    account: ReportAccount | None = None

    @model_validator(mode="after")
    def _identified(self) -> "ReportLearner":
        if not (self.email or self.employee_id or self.account):
            raise ValueError("needs email, employee_id or account")
        return self


class ReportRow(BaseModel):
    model_config = ConfigDict(extra="ignore")
    learner: ReportLearner
    values: dict[str, float | int | str | bool] = Field(default_factory=dict)


class ReportInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str | None = None
    generated_at: str | None = None


class Report(BaseModel):
    model_config = ConfigDict(extra="ignore")
    report: ReportInfo
    rows: list[ReportRow]


def parse_report_json(data: Any) -> Report:
    try:
        return Report.model_validate(data)
    except ValidationError as error:
        raise InputError.from_validation(error, whole="(body)") from None


def parse_report_csv(text: str, report_id: str | None) -> Report:
    """CSV with a header row: learner columns (email, name, employee_id, account_name,
    account_homepage) and one column per value; numbers become numbers."""
    if not report_id:
        raise InputError("report", "a CSV report needs ?report=<report id> in the URL")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if not set(header) & {"email", "employee_id", "account_name"}:
        raise InputError("(header)", "needs an email, employee_id or account_name column")
    rows = []
    for number, record in enumerate(reader, start=2):
        learner = {k: record[k].strip() for k in ("email", "name", "employee_id") if record.get(k, "").strip()}
        if record.get("account_name", "").strip():
            learner["account"] = {"name": record["account_name"].strip(), "homePage": record.get("account_homepage") or None}
        values = {k: _number(v) for k, v in record.items() if k not in LEARNER_COLUMNS and k and v not in (None, "")}
        rows.append({"learner": learner, "values": values, "_line": number})
    try:
        return Report(report={"id": report_id}, rows=rows)
    except ValidationError as error:
        index = error.errors()[0]["loc"][1]
        raise InputError(f"line {rows[int(index)]['_line']}", "learner needs email, employee_id or account_name") from None


def _number(text: str) -> float | int | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()
