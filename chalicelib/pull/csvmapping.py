"""import-csv --mapping: any CSV layout read through a declarative table of conversions.

A mapping file (JSON) lists, for each canonical field, where its value comes from: a column, a
constant, or a template of columns; optionally translated (`map`), split (`split`, for skills)
or read as a time in a given format (`date_format`). It is validated whole before any row is
read: unknown fields, a missing required field, a source that is not exactly one of column /
value / template, a transformer on a field it cannot apply to. Which columns it names must be in
the file's header (checked against the file, see csvimport.Columns). Format: docs/csv-import.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ..errors import ConnectorError, InputError
from ..events import Credential, CredentialEvent, Issuer, Kind, Learner, Skipped
from ..platforms.common import absolute_iri, email_address, identifier, missing
from ..timeutil import parse_time, utc
from .csvfile import open_regular

TIME_FIELDS = frozenset({"issued_at", "expires_at", "status_at"})
# Canonical field -> what it is (the documentation's table is made of the same words).
FIELDS: dict[str, str] = {
    "platform": "the source's name: part of the statement ids (a registry name gives that platform's ids)",
    "credential_id": "the source's own credential id: the key of the statement ids",
    "name": "the credential's (badge class's) name",
    "template_iri": "the badge class's absolute IRI: the statements' activity id",
    "status": "issued (default), accepted, rejected, revoked, or skip (the row is counted, not sent)",
    "learner_email": "the learner's email address",
    "learner_name": "the learner's name",
    "employee_id": "the organisation's own learner id",
    "platform_user_id": "the learner's id on the source platform",
    "template_id": "the badge class's id on the source",
    "url": "the learner's credential page (assertion URL)",
    "description": "the credential's description",
    "image": "the badge image URL",
    "issuer_name": "the issuer's name",
    "issuer_url": "the issuer's web page",
    "skills": "skills, one cell split by `split`",
    "issued_at": "when it was issued",
    "expires_at": "when it expires",
    "status_at": "when it reached its status (accepted, rejected, revoked); default issued_at",
    "reason": "the revocation reason",
}
REQUIRED = ("platform", "credential_id", "name", "template_iri")
# Fields that identify (besides learner_email, template_iri and url, read as what they are):
# a control character in one makes the row bad.
IDENTIFIERS = ("credential_id", "employee_id", "platform_user_id", "template_id", "image", "issuer_url")
STATUSES = {"issued": None, "accepted": Kind.ACCEPTED, "rejected": Kind.REJECTED, "revoked": Kind.REVOKED, "skip": None}
PLATFORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
MAX_MAPPING_BYTES = 1024 * 1024  # a mapping is a few lines: anything far larger is another file


class Conversion(BaseModel):
    """One line of the table: dest field <- source (column | value | template), transformed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    column: str | None = None
    value: str | None = None
    template: str | None = None
    map: dict[str, str] | None = None
    split: str | None = None
    date_format: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Conversion:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field {self.field!r}; one of: {', '.join(FIELDS)}")
        if sum(source is not None for source in (self.column, self.value, self.template)) != 1:
            raise ValueError("needs exactly one of column, value, template")
        if self.split is not None and self.field != "skills":
            raise ValueError("split applies to skills only")
        if self.date_format is not None and self.field not in TIME_FIELDS:
            raise ValueError(f"date_format applies to {', '.join(sorted(TIME_FIELDS))} only")
        if self.template is not None and not PLACEHOLDER.search(self.template):
            raise ValueError("a template names its columns in braces: https://example.org/{Column}")
        return self

    @cached_property
    def _columns(self) -> tuple[str, ...]:
        if self.column is not None:
            return (self.column,)
        return tuple(PLACEHOLDER.findall(self.template)) if self.template is not None else ()

    @cached_property
    def _folded_map(self) -> dict[str, str]:
        """The map with its keys as cells are compared: built once, read for every row."""
        return {key.strip().lower(): value for key, value in (self.map or {}).items()}

    def columns(self) -> list[str]:
        return list(self._columns)

    def text(self, cells: dict[str, str]) -> str | None:
        """The converted text of the row (None: no value); InputError naming the field."""
        if self.value is not None:
            raw: str | None = self.value
        elif self.column is not None:
            raw = cells.get(self.column)
        else:
            parts = {name: cells.get(name) for name in self._columns}
            raw = (
                None
                if None in parts.values()
                else PLACEHOLDER.sub(lambda m: parts[m.group(1)] or "", self.template or "")
            )
        raw = raw if raw is not None else self.default
        if raw is None or self.map is None:
            return raw
        mapped = self._folded_map.get(raw.strip().lower())
        if mapped is None:
            raise InputError(self.field, f"a value the mapping's map does not list ({len(self.map)} listed)")
        return mapped


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = "CSV file"
    platform: str | None = None  # shorthand for {"field": "platform", "value": ...}
    fields: list[Conversion]

    @model_validator(mode="after")
    def _complete(self) -> Mapping:
        named = [c.field for c in self.fields] + (["platform"] if self.platform is not None else [])
        twice = sorted(f for f, count in Counter(named).items() if count > 1)
        if twice:
            raise ValueError(f"field {twice[0]!r} is mapped more than once")
        absent = [f for f in REQUIRED if f not in named]
        if absent:
            raise ValueError(f"required field(s) not mapped: {', '.join(absent)}")
        if not {"learner_email", "employee_id"} & set(named):
            raise ValueError("the learner needs learner_email or employee_id")
        statuses = [c for c in self.fields if c.field == "status"]
        for status in statuses:
            outputs = [status.value, status.default, *(status.map or {}).values()]
            wrong = [o for o in outputs if o is not None and o not in STATUSES]
            if wrong:
                raise ValueError(f"status {wrong[0]!r} is none of: {', '.join(STATUSES)}")
        if self.platform is not None and not PLATFORM_NAME.match(self.platform):
            raise ValueError("platform: lower-case letters, digits, - and _ (it is part of statement ids)")
        return self


def load_mapping(path: Path) -> MappingRows:
    """The mapping file, validated; ConnectorError (one line) naming the first problem."""
    source = _mapping_bytes(path)
    try:
        data = json.loads(source.decode("utf-8"))
    except RecursionError:
        raise ConnectorError(f"{path}: not a JSON mapping: nested too deep") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConnectorError(f"{path}: not a JSON mapping: {error}") from None
    if not isinstance(data, dict):
        raise ConnectorError(f"{path}: not a JSON mapping: an object is expected, the file holds {_json_kind(data)}")
    try:
        return MappingRows(Mapping.model_validate(data), source)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(mapping)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConnectorError(f"{path}: {where}: {message}") from None


def _mapping_bytes(path: Path) -> bytes:
    with open_regular(path) as stream:
        source = stream.read(MAX_MAPPING_BYTES + 1)
    if len(source) > MAX_MAPPING_BYTES:
        raise ConnectorError(f"{path}: not a JSON mapping: larger than {MAX_MAPPING_BYTES // (1024 * 1024)} MiB")
    return source


def _json_kind(data: object) -> str:
    return "an array" if isinstance(data, list) else "text" if isinstance(data, str) else "a single value"


class MappingRows:
    """A mapping as a csvimport.RowReader."""

    def __init__(self, mapping: Mapping, source: bytes) -> None:
        self.mapping = mapping
        self.title = mapping.title
        self.key = source.decode("utf-8", "replace")  # an edited mapping gives other events: another cursor
        constant = [Conversion(field="platform", value=mapping.platform)] if mapping.platform else []
        self.by_field = {c.field: c for c in [*mapping.fields, *constant]}

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {name: (name,) for c in self.by_field.values() for name in c.columns()}

    def required(self) -> set[str]:
        return set(self.columns())

    def column(self, field: str) -> str | None:
        conversion = self.by_field.get(field)
        return conversion.column if conversion is not None else None

    def events(self, cells: dict[str, str]) -> list[CredentialEvent | Skipped]:
        values = {field: c.text(cells) for field, c in self.by_field.items()}
        platform = values["platform"] or missing("platform")
        if self.mapping.platform is None and not PLATFORM_NAME.match(platform):  # a constant one was checked once
            raise InputError("platform", "lower-case letters, digits, - and _ only")
        status = (values.get("status") or "issued").strip().lower()
        if status not in STATUSES:
            raise InputError("status", f"none of: {', '.join(STATUSES)}")
        if status == "skip":
            return [Skipped(platform=platform, rule="import-csv mapping status skip")]
        issued = self._issued(platform, values)
        kind = STATUSES[status]
        if kind is None:
            return [issued]
        at = self._time("status_at", values) or issued.occurred_at
        return [issued, issued.model_copy(update={"kind": kind, "occurred_at": at, "reason": values.get("reason")})]

    def _issued(self, platform: str, values: dict[str, str | None]) -> CredentialEvent:
        for field in IDENTIFIERS:
            if value := values.get(field):
                identifier(value, field)
        url = values.get("url")
        issued_at = self._time("issued_at", values)
        issuer = (
            Issuer(name=values.get("issuer_name"), url=values.get("issuer_url"))
            if values.get("issuer_name") or values.get("issuer_url")
            else None
        )
        split = self.by_field["skills"].split if "skills" in self.by_field else None
        skills = tuple(s.strip() for s in (values.get("skills") or "").split(split or ";") if s.strip())
        try:
            credential = Credential(
                id=values["credential_id"] or missing("credential_id"),
                assertion_url=absolute_iri(url, "url") if url else None,
                template_id=values.get("template_id"),
                template_iri=absolute_iri(values["template_iri"] or missing("template_iri"), "template_iri"),
                name=values["name"] or missing("name"),
                description=values.get("description"),
                image=values.get("image"),
                issuer=issuer,
                skills=skills,
                issued_at=issued_at,
                expires_at=self._time("expires_at", values),
            )
            learner = Learner(
                name=values.get("learner_name"),
                email=email_address(values.get("learner_email"), "learner_email"),
                earner_id=values.get("employee_id"),
                platform_user_id=values.get("platform_user_id"),
            )
        except ValidationError as error:
            raise InputError.from_validation(error) from None
        if not (learner.email or learner.earner_id):
            raise InputError("learner_email", "missing (nor employee_id)")
        return CredentialEvent(
            platform=platform, kind=Kind.ISSUED, learner=learner, credential=credential, occurred_at=issued_at
        )

    def _time(self, field: str, values: dict[str, str | None]) -> datetime | None:
        text = values.get(field)
        if not text:
            return None
        conversion = self.by_field[field]
        if conversion.date_format is None:
            return parse_time(text, field)
        try:
            return utc(datetime.strptime(text, conversion.date_format))
        except ValueError:
            raise InputError(field, f"not a time in the format {conversion.date_format!r}") from None


def describe_fields() -> list[str]:
    """The canonical fields, one line each (for --help)."""
    return [f"{name}{' (required)' if name in REQUIRED else ''}: {text}" for name, text in FIELDS.items()]
