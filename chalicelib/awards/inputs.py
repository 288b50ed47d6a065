"""What the learning analytics side sends: forwarded xAPI statements and report rows (JSON or CSV)."""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError
from ..platforms.common import require_queueable
from ..timeutil import optional_time, parse_time
from ..xapi.validate import is_absolute_iri
from ..xapi.vocabulary import IFI_KEYS

LEARNER_COLUMNS = ("email", "name", "employee_id", "account_name", "account_homepage")

# -- a forwarded statement, as GET /openapi.json documents it ------------------------------------
# check_statement is the check; these models say the same for the document, and the api tests hold
# the two to each other (what the schema refuses, check_statement refuses, and the reverse).

# xapi.validate.is_absolute_iri as a JSON Schema regex: a scheme, then no whitespace, no control
# character (C0, DEL, C1: Python's \s names \x1c-\x1f and \x85 too, JSON Schema's does not) nor any
# other character an IRI forbids.
ABSOLUTE_IRI = r'^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f<>"{}|\\^`]+$'
# Text with a character other than whitespace (str.strip() leaves something: Python also strips
# \x1c-\x1f and \x85, which JSON Schema's \s does not name).
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
MAILTO = r"^[Mm][Aa][Ii][Ll][Tt][Oo]:"
_NotBlank = Annotated[str, Field(pattern=NOT_BLANK)]


class StatementAccount(BaseModel):
    model_config = ConfigDict(extra="allow")

    homePage: str | None = None
    name: _NotBlank


class StatementActor(BaseModel):
    """The learner: an agent identified by one of mbox, mbox_sha1sum, openid, account (looked up
    in the learner directory)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "anyOf": [
                {"required": [ifi], "properties": {ifi: {"type": "object" if ifi == "account" else "string"}}}
                for ifi in IFI_KEYS
            ]
        },
    )

    mbox: Annotated[str, Field(pattern=MAILTO)] | None = Field(None, examples=["mailto:ada@example.com"])
    mbox_sha1sum: _NotBlank | None = None
    openid: _NotBlank | None = None
    account: StatementAccount | None = None


class StatementVerb(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(json_schema_extra={"pattern": ABSOLUTE_IRI}, description="an absolute IRI")


class StatementObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Annotated[str, Field(min_length=1)]


class StatementScore(BaseModel):
    model_config = ConfigDict(extra="allow")

    scaled: Any = Field(
        None,
        json_schema_extra={"minimum": -1, "maximum": 1},
        description="a number from -1 to 1 (anything else is read as no score)",
    )


class StatementResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    score: StatementScore | None = None


class ForwardedStatement(BaseModel):
    """An xAPI statement as an LRS forwards it: only what the award rules read is checked
    (authority, version, context... are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    actor: StatementActor
    verb: StatementVerb
    object: StatementObject
    result: StatementResult | None = None
    timestamp: datetime | None = None
    stored: datetime | None = None


# What POST /lap/statements reads: one statement or a non-empty array.
LapStatements = ForwardedStatement | Annotated[list[ForwardedStatement], Field(min_length=1)]


def check_statement(statement: Any, where: str = "") -> dict:
    """The parts of a forwarded statement the award rules read; InputError names what is missing
    or what could never be used.

    Incoming statements come from an LRS (with stored, authority, version...): only what the
    rules need is checked, not the connector's strict outgoing contract. Checked too is what
    would otherwise fail later, in the award worker, as a dead letter: the actor's identifiers
    (the learner directory looks them up), the times (`timestamp`, `stored`: the rules' windows),
    and the scaled score. (What the queue could not carry, lone surrogates or too deep nesting,
    the route has refused already, for the whole body: intake.http.read_json.)
    """

    def at(field: str) -> str:
        return f"{where}.{field}" if where else field

    if not isinstance(statement, dict):
        raise InputError(where or "(body)", "expected an xAPI statement object")
    actor = statement.get("actor")
    if not isinstance(actor, dict) or not any(actor.get(ifi) for ifi in IFI_KEYS):
        raise InputError(at("actor"), "needs an agent with mbox, mbox_sha1sum, openid or account")
    _check_identifiers(actor, at)
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not is_absolute_iri(verb.get("id")):
        raise InputError(at("verb.id"), "missing or not an absolute IRI")
    target = statement.get("object")
    if not isinstance(target, dict) or not isinstance(target.get("id"), str) or not target["id"]:
        raise InputError(at("object.id"), "missing")
    for key in ("timestamp", "stored"):
        if statement.get(key) is not None:
            # parse_time: InputError for text that is no date-time, or out of range in UTC
            parse_time(statement[key], at(key))
    _check_scaled_score(statement.get("result"), at)
    return statement


def _check_identifiers(actor: dict, at: Callable[[str], str]) -> None:
    """Each identifier the actor gives (null counts as not given) must be usable as one: text
    that is not blank, the mbox a mailto: IRI, the account an object whose name is such text; so
    that looking the learner up never fails on a type, and never looks up what cannot match."""
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        value = actor.get(ifi)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InputError(at(f"actor.{ifi}"), "must be a non-empty string")
    mbox = actor.get("mbox")
    if mbox is not None and not mbox.lower().startswith("mailto:"):
        raise InputError(at("actor.mbox"), "must be a mailto: IRI")
    account = actor.get("account")
    if account is None:
        return
    if not isinstance(account, dict):
        raise InputError(at("actor.account"), "must be an object with homePage and name")
    name = account.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(at("actor.account.name"), "must be a non-empty string")
    home = account.get("homePage")
    if home is not None and not isinstance(home, str):
        raise InputError(at("actor.account.homePage"), "must be a string")


def _check_scaled_score(result: Any, at: Callable[[str], str]) -> None:
    """result.score.scaled, when it is a number, must be one xAPI allows (-1 to 1): a number
    beyond that cannot even be compared with a rule's min_score (an int of 400 digits is no
    float). Other values (text, booleans) are kept: the rules treat them as no score."""
    score = result.get("score") if isinstance(result, dict) else None
    scaled = score.get("scaled") if isinstance(score, dict) else None
    if isinstance(scaled, (int, float)) and not isinstance(scaled, bool) and not -1 <= scaled <= 1:
        raise InputError(at("result.score.scaled"), "must be a number from -1 to 1")


class ReportAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    homePage: str | None = None
    name: str


class ReportLearner(BaseModel):
    # The schema says what _identified checks, which the fields alone cannot.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "anyOf": [
                {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
                {"required": ["employee_id"], "properties": {"employee_id": {"type": "string", "minLength": 1}}},
                {"required": ["account"], "properties": {"account": {"type": "object"}}},
            ]
        },
    )
    email: str | None = None
    name: str | None = None
    employee_id: str | None = None
    account: ReportAccount | None = None

    @model_validator(mode="after")
    def _identified(self) -> ReportLearner:
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
        report = Report.model_validate(data)
    except ValidationError as error:
        raise InputError.from_validation(error, whole="(body)") from None
    optional_time(report.report.generated_at, "report.generated_at")
    for index, row in enumerate(report.rows):
        for name, value in row.values.items():
            # nan and inf are kept: the rules read them as no number (the queue as null)
            if isinstance(value, int) and not _fits_float(value):
                raise InputError(f"rows[{index}].values.{name}", "number too large (beyond a float)")
    return report


def parse_report_csv(text: str, report_id: str | None) -> Report:
    """CSV with a header row: learner columns (email, name, employee_id, account_name,
    account_homepage) and one column per value; numbers become numbers.

    A row shorter than the header has empty cells; InputError names the line ("line N") of a
    row without a learner or of text that is not CSV (e.g. a field over the csv module's limit)."""
    if not report_id:
        raise InputError("report", "a CSV report needs ?report=<report id> in the URL")
    require_queueable(report_id, "report")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[dict] = []
    lines: list[int] = []
    try:
        header = reader.fieldnames or []
        if not set(header) & {"email", "employee_id", "account_name"}:
            raise InputError("(header)", "needs an email, employee_id or account_name column")
        for record in reader:
            rows.append(_report_row(record))
            lines.append(reader.line_num)  # where the record ends: its line, unless quoted text spans lines
    except csv.Error as error:
        # DictReader.line_num is only updated by a record read whole: its reader's is current
        raise InputError(f"line {max(reader.reader.line_num, 1)}", f"not readable as CSV: {error}") from None
    try:
        return Report.model_validate({"report": {"id": report_id}, "rows": rows})
    except ValidationError as error:
        loc = error.errors()[0]["loc"]
        index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        raise InputError(
            f"line {lines[index] if lines else 1}", "learner needs email, employee_id or account_name"
        ) from None


def _report_row(record: dict[str | None, Any]) -> dict:
    """One CSV record as a report row; cells missing from a short row (None) count as empty, and
    cells beyond the header (under the key None) are ignored."""

    def cell(column: str) -> str:
        value = record.get(column)
        return value.strip() if isinstance(value, str) else ""

    learner: dict[str, Any] = {k: cell(k) for k in ("email", "name", "employee_id") if cell(k)}
    if cell("account_name"):
        learner["account"] = {"name": cell("account_name"), "homePage": cell("account_homepage") or None}
    values = {
        k: _number(v) for k, v in record.items() if k and k not in LEARNER_COLUMNS and isinstance(v, str) and v != ""
    }
    return {"learner": learner, "values": values}


def _number(text: str) -> float | int | str:
    """A cell holding a number, as that number; anything else (a number too large for a float,
    nan, inf) as its text."""
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if _fits_float(number) else text.strip()
    return text.strip()


def _fits_float(value: object) -> bool:
    """Not a number, or one the rules can compare: a finite float, or an int within float range."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max
    if isinstance(value, float):
        return math.isfinite(value)
    return True
