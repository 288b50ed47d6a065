"""Award rules: which learning evidence earns which credential (the AWARD_RULES TOML file).

Shape (see examples/award_rules.toml, commented):

    [aliases]                                  # alias name -> the activity IRIs it stands for
    python-301-final-exam = ["https://lms.example.com/courses/python-301/final-exam",
                             "https://lxp.example.com/activities/py301-exam"]

    [[rules]]
    id = "python-expert"                       # unique slug: progress and the award ledger use it
    name = "Python Expert"
    match = "all"                              # "all" (default) or "any" of the criteria
    credential = { platform = "credly", id = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b" }
    connection = "credly-academy"              # optional: the named connection that awards (CONNECTIONS)

    [[rules.statements]]                       # xAPI statement criteria ...
    verb = "passed"                            # an IRI or a short name (VERB_SHORT_NAMES)
    activity = "alias:python-301-final-exam"   # an IRI or alias:<name>; omitted: any activity
    min_score = 0.8                            # result.score.scaled >= 0.8 (0..1)
    success = true                             # result.success must be true
    within_days = 365                          # no older than 365 days when the rule is judged

    [[rules.report]]                           # ... or report-row criteria (not both in one rule)
    report = "python-readiness"                # the report id; omitted: any report
    field = "courses_completed"                # values[field] of the row
    min = 3                                    # and/or max = ...; or equals = ... alone

Each criterion has a key that progress is stored under: its explicit `key`, else `s<n>` /
`r<n>` by position (0-based). Give explicit keys to criteria of a rule you may edit while
learners have progress: positional keys shift when a criterion is inserted before them.

The models are the one validation: RuleSet reports every problem of the parsed TOML at once,
field errors and the checks across fields alike, each at its location. `load_rules` /
`parse_rules` word them as RulesError.issues, each naming its rule (id, or #n = the n-th [[rules]]
table, 1-based) and field path; `validate_command` is the `python -m chalicelib rules validate
FILE` command.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ..connections import award_connection
from ..errors import ConnectorError, SettingsError
from ..platforms import award_credential_id, awarding_platforms
from ..settings import Settings
from ..xapi.validate import IRI_FORBIDDEN, IRI_SCHEME

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
# Short names an admin may write instead of a verb IRI: the ADL verbs LMSs and LXPs send.
VERB_SHORT_NAMES: dict[str, str] = {
    name: ADL_VERBS + name for name in ("passed", "completed", "mastered", "scored", "attended")
}
VERB_VOIDED = ADL_VERBS + "voided"
PLATFORMS = awarding_platforms()
AwardPlatform = Literal[PLATFORMS]  # type: ignore[valid-type]
ALIAS_PREFIX = "alias:"

# Rule ids and alias names: lower-case slugs (they end up in store keys and log lines).
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


# --- checks of the raw TOML values, reported with the field errors -------------------------

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]  # (location under the validated value, message)
_PROBLEM = "rules_problem"  # the error type of the problems below, printed as they are


def iri_problem(value: str) -> str | None:
    """Why `value` is not an absolute IRI, or None."""
    if not IRI_SCHEME.match(value):
        return f"not an absolute IRI (it needs a scheme such as https://): {value!r}"
    if IRI_FORBIDDEN.search(value):
        return f"not an IRI (spaces or forbidden characters): {value!r}"
    scheme, _, rest = value.partition(":")
    if scheme.lower() in ("http", "https") and (not rest.startswith("//") or len(rest) <= 2 or rest[2] == "/"):
        return f"not an absolute http(s) IRI (expected {scheme}://host/...): {value!r}"
    if scheme.lower() == "alias":
        return f"an alias reference is not an activity IRI: {value!r}"
    return None


def _platform_id(platform: str, value: str) -> str:
    """The credential id as the platform writes it; ValueError says why it is not one."""
    if value.startswith(("http://", "https://")):
        raise ValueError(f"write the {platform} id itself, not a URL: {value!r}")
    return award_credential_id(platform, value)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _report_criterion_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Cross-field problems of one raw report criterion: its thresholds."""
    given = [name for name in ("min", "max", "equals") if raw.get(name) is not None]
    if not given:
        return [((), "give a threshold: min, max (or both) or equals")]
    if "equals" in given and len(given) > 1:
        return [((), "equals cannot be combined with min or max")]
    low, high = raw.get("min"), raw.get("max")
    if _is_number(low) and _is_number(high) and low > high:
        return [((), f"min ({low}) is greater than max ({high}): no value can match")]
    return []


def _rule_kind_problem(has_statements: bool, has_report: bool) -> str | None:
    if has_statements and has_report:
        return "has both statements and report criteria: a rule has one kind (split it in two rules)"
    if not has_statements and not has_report:
        return "has no criteria: add [[rules.statements]] or [[rules.report]]"
    return None


def _rule_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Cross-field problems of one raw rule: its kind and its criterion keys."""
    problems: list[Problem] = []
    statements, report = raw.get("statements"), raw.get("report")
    kind = _rule_kind_problem(bool(statements), bool(report))
    if kind:
        problems.append(((), kind))
    seen: dict[str, str] = {}
    for field, prefix, items in (("statements", "s", statements), ("report", "r", report)):
        for n, item in enumerate(items if isinstance(items, list) else ()):
            key = item.get("key", f"{prefix}{n}") if isinstance(item, dict) else None
            if not isinstance(key, str):
                continue
            if key in seen:
                problems.append(((field, n, "key"), f"duplicate criterion key {key!r} (also {seen[key]})"))
            else:
                seen[key] = f"{field}[{n}]"
    return problems


def _alias_problems(aliases: object) -> list[Problem]:
    """Every problem of the raw [aliases] table."""
    if not isinstance(aliases, Mapping):
        return [((), 'must be a table: [aliases] with name = ["IRI", ...]')]
    problems: list[Problem] = []
    for name, iris in aliases.items():
        if not _SLUG.match(name):
            problems.append(((name,), "alias names are lower-case letters, digits, '-' and '_'"))
        if isinstance(iris, str):
            iris = [iris]
        if not isinstance(iris, (list, tuple)) or not iris:
            problems.append(((name,), "must be a non-empty list of activity IRIs"))
            continue
        for n, iri in enumerate(iris):
            problem = iri_problem(iri) if isinstance(iri, str) else f"must be an IRI (text), not {iri!r}"
            if problem:
                problems.append(((name, n), problem))
    return problems


def _ruleset_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Problems across the raw rules: none at all, duplicate ids, alias references."""
    rules = raw.get("rules")
    if rules == []:
        return [(("rules",), "no [[rules]]: nothing would ever be awarded")]
    aliases = raw.get("aliases", {})
    known = set(aliases) if isinstance(aliases, Mapping) else set()
    problems: list[Problem] = []
    first_by_id: dict[str, int] = {}
    for n, rule in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(rule, dict):
            continue
        rule_id = rule.get("id")
        if isinstance(rule_id, str) and rule_id in first_by_id:
            problems.append(
                (("rules", n, "id"), f"duplicate rule id {rule_id!r} (first used by rule #{first_by_id[rule_id]})")
            )
        elif isinstance(rule_id, str):
            first_by_id[rule_id] = n + 1
        problems += [(("rules", n, *loc), message) for loc, message in _unknown_aliases(rule, known)]
    return problems


def _unknown_aliases(rule: Mapping[str, Any], known: set[str]) -> list[Problem]:
    statements = rule.get("statements")
    problems: list[Problem] = []
    for n, item in enumerate(statements if isinstance(statements, list) else ()):
        activity = item.get("activity") if isinstance(item, dict) else None
        if isinstance(activity, str) and activity.strip().startswith(ALIAS_PREFIX):
            name = activity.strip()[len(ALIAS_PREFIX) :].strip()
            if name not in known:
                defined = ", ".join(sorted(known)) or "none"
                problems.append(
                    (("statements", n, "activity"), f"unknown alias {name!r} (defined in [aliases]: {defined})")
                )
    return problems


def _again(error: Mapping[str, Any]) -> InitErrorDetails:
    """A field error, to be raised again next to the raw-value problems."""
    if error["type"] == _PROBLEM:
        return InitErrorDetails(
            type=PydanticCustomError(_PROBLEM, error["msg"]), loc=error["loc"], input=error["input"]
        )
    return InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"], ctx=error.get("ctx", {}))


def _with_problems(data: Any, handler: ValidatorFunctionWrapHandler, problems: list[Problem]) -> Any:
    """Validate with `handler`, raising its field errors and `problems` (found on the raw values)
    together: an admin sees every problem of a file in one pass."""
    if not problems:
        return handler(data)
    try:
        handler(data)
        errors: list[InitErrorDetails] = []
    except ValidationError as error:
        errors = [_again(e) for e in error.errors(include_url=False)]
    raise ValidationError.from_exception_data("rules", errors + _problem_errors(problems, data))


def _problem_errors(problems: list[Problem], data: Any) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(type=PydanticCustomError(_PROBLEM, message), loc=loc, input=data) for loc, message in problems
    ]


# --- models ---------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _criterion_key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError(f"letters, digits, '-' and '_' only (at most 64): {value!r}")
    return value


class Credential(_Model):
    """The credential a rule awards: a Credly badge template id, a Certifier group id, a Badgr
    (Canvas Credentials) badge class entity id or an Accredible group id."""

    platform: AwardPlatform
    id: str = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        # Accredible group ids are numbers: `id = 771001` is as good as `id = "771001"`.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("id")
    @classmethod
    def _platform_format(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")  # absent when the platform itself is invalid
        return _platform_id(platform, value) if platform else value


class StatementCriterion(_Model):
    """An xAPI statement condition. All given conditions must hold for one statement."""

    key: str
    verb: str
    activity: str | None = None
    min_score: float | None = Field(default=None, ge=0, le=1, strict=True)
    success: StrictBool | None = None
    completion: StrictBool | None = None
    within_days: int | None = Field(default=None, ge=1, strict=True)

    _key = field_validator("key")(_criterion_key)

    @field_validator("verb")
    @classmethod
    def _verb(cls, value: str) -> str:
        if ":" not in value:
            if value.lower() in VERB_SHORT_NAMES:
                return VERB_SHORT_NAMES[value.lower()]
            names = ", ".join(VERB_SHORT_NAMES)
            raise ValueError(f"unknown verb {value!r}: write its IRI or one of {names}")
        problem = iri_problem(value)
        if problem:
            raise ValueError(problem)
        if value == VERB_VOIDED:
            raise ValueError("voiding statements never match a criterion: use another verb")
        return value

    @field_validator("activity")
    @classmethod
    def _activity(cls, value: str) -> str:
        if value.startswith(ALIAS_PREFIX):  # whether [aliases] defines it: RuleSet checks
            return ALIAS_PREFIX + value[len(ALIAS_PREFIX) :].strip()
        problem = iri_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def alias(self) -> str | None:
        if self.activity and self.activity.startswith(ALIAS_PREFIX):
            return self.activity[len(ALIAS_PREFIX) :]
        return None


class ReportCriterion(_Model):
    """A report-row condition: the row's values[field] against min/max or equals."""

    key: str
    report: str | None = Field(default=None, min_length=1)
    field: str = Field(min_length=1)
    min: float | None = Field(default=None, strict=True)
    max: float | None = Field(default=None, strict=True)
    equals: Any = None

    _key = field_validator("key")(_criterion_key)

    @field_validator("equals")
    @classmethod
    def _equals(cls, value: object) -> object:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValueError(f"must be a number, text or true/false, not {type(value).__name__}")

    @model_validator(mode="wrap")
    @classmethod
    def _thresholds(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ReportCriterion:
        problems = _report_criterion_problems(data) if isinstance(data, dict) else []
        return _with_problems(data, handler, problems)


class Rule(_Model):
    id: str
    name: str = Field(min_length=1)
    description: str | None = None
    credential: Credential
    # The named connection (account) that awards; None: the platform's default connection. Checked
    # against the configured connections when the award worker starts (connections.award_connection).
    connection: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    match: Literal["all", "any"] = "all"
    statements: tuple[StatementCriterion, ...] = ()
    report: tuple[ReportCriterion, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _positional_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            for kind, prefix in (("statements", "s"), ("report", "r")):
                items = data.get(kind)
                if isinstance(items, (list, tuple)):
                    data[kind] = [
                        {"key": f"{prefix}{n}", **item} if isinstance(item, dict) and "key" not in item else item
                        for n, item in enumerate(items)
                    ]
        return data

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"lower-case letters, digits, '-' and '_' (a slug, at most 64): {value!r}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _one_kind(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Rule:
        return _with_problems(data, handler, _rule_problems(data) if isinstance(data, dict) else [])

    @property
    def criteria(self) -> tuple[StatementCriterion, ...] | tuple[ReportCriterion, ...]:
        return self.statements or self.report

    @property
    def kind(self) -> Literal["statements", "report"]:
        return "statements" if self.statements else "report"

    def criterion(self, key: str) -> StatementCriterion | ReportCriterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    @property
    def awarded_by(self) -> str:
        """The connection that awards: the named one, or the platform's default (its name)."""
        return self.connection or self.credential.platform


class RuleSet(_Model):
    aliases: dict[str, tuple[str, ...]] = {}
    rules: tuple[Rule, ...]

    _by_id: dict[str, Rule] = PrivateAttr(default_factory=dict)
    _activities: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)
    _index: Any = PrivateAttr(default=None)  # evaluate.RuleIndex, built on first use

    @field_validator("aliases", mode="before")
    @classmethod
    def _alias_lists(cls, value: object) -> object:
        problems = _alias_problems(value)
        if problems or not isinstance(value, Mapping):  # a value that is no Mapping has a problem already
            raise ValidationError.from_exception_data("aliases", _problem_errors(problems, value))
        return {k: [v] if isinstance(v, str) else v for k, v in value.items()}

    @model_validator(mode="wrap")
    @classmethod
    def _consistent(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> RuleSet:
        return _with_problems(data, handler, _ruleset_problems(data) if isinstance(data, Mapping) else [])

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {rule.id: rule for rule in self.rules}
        self._activities = {name: frozenset(iris) for name, iris in self.aliases.items()}

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError if none)."""
        return self._by_id[rule_id]

    def get(self, rule_id: str) -> Rule | None:
        return self._by_id.get(rule_id)

    def criteria(self) -> Iterator[tuple[Rule, StatementCriterion | ReportCriterion]]:
        for rule in self.rules:
            for criterion in rule.criteria:
                yield rule, criterion

    def verbs(self) -> list[str]:
        """The verb IRIs the statement criteria use, sorted (to query the LRS history by verb)."""
        return sorted({c.verb for rule in self.rules for c in rule.statements})

    def activities_of(self, criterion: StatementCriterion) -> frozenset[str] | None:
        """The activity IRIs a criterion accepts (its alias expanded); None: any activity."""
        if criterion.activity is None:
            return None
        if criterion.alias is not None:
            return self._activities.get(criterion.alias, frozenset())
        return frozenset((criterion.activity,))

    def report_ids(self) -> list[str]:
        """The report ids the report criteria name, sorted (criteria without one match any report)."""
        return sorted({c.report for rule in self.rules for c in rule.report if c.report})


# --- loading with every problem collected ----------------------------------------------------


@dataclass(frozen=True)
class RuleIssue:
    """One problem of a rules file: `rule` is the rule's id or #n (None: file level)."""

    rule: str | None
    field: str
    message: str

    def __str__(self) -> str:
        parts = [f"rule {self.rule}"] if self.rule else []
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class RulesError(ConnectorError):
    """The rules file cannot be used; `issues` lists every problem found."""

    def __init__(self, source: str, issues: list[RuleIssue]) -> None:
        self.source = source
        self.issues = issues
        count = f"{len(issues)} problem{'s' if len(issues) != 1 else ''}"
        super().__init__(f"{source}: {count}: " + "; ".join(map(str, issues)))


class RulesFileUnreadable(ConnectorError):
    """The rules file does not exist or cannot be read."""


_MODEL_OF: dict[str, type[BaseModel]] = {
    "": Rule,
    "credential": Credential,
    "statements": StatementCriterion,
    "report": ReportCriterion,
}


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _message(error: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    """An error of the rule at `loc` (its location in the rule) in the words of the rules file."""
    kind = error["type"]
    if kind == _PROBLEM:
        return str(error["msg"])
    if kind == "extra_forbidden":
        model = _MODEL_OF.get(str(loc[0]) if len(loc) > 1 else "", Rule)
        return f"unknown key (expected one of: {', '.join(model.model_fields)})"
    if kind == "missing":
        return "missing"
    if kind in ("tuple_type", "list_type") and loc and loc[-1] in ("statements", "report"):
        return f"must be an array of tables: write [[rules.{loc[-1]}]]"
    if kind == "model_type" and not loc:
        return "must be a table: write [[rules]]"
    if kind == "literal_error":
        return f"must be {error['ctx']['expected']}, not {error['input']!r}"
    message = str(error["msg"])
    bounds = {"less_than_equal": ("le", "at most"), "greater_than_equal": ("ge", "at least")}
    if kind in bounds:
        name, words = bounds[kind]
        bound = error["ctx"][name]
        message = f"must be {words} {bound:g}" if _is_number(bound) else f"must be {words} {bound}"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if isinstance(error.get("input"), (str, int, float, bool)):
        message += f" (got {error['input']!r})"
    return message[:1].lower() + message[1:]


def _file_message(error: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    """An error outside the rules (the file's keys, [aliases], [[rules]] itself)."""
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        return "unknown key (expected: [aliases] and [[rules]])"
    if loc == ("rules",) and error["type"] == "missing":
        return "no [[rules]]: nothing would ever be awarded"
    if loc == ("rules",) and error["type"] in ("tuple_type", "list_type"):
        return "must be an array of tables: write [[rules]]"
    return _message(error, loc)


def _rule_labels(rules: object) -> list[str]:
    """How issues name each rule: its id, or #n (1-based) when the id is invalid or a duplicate."""
    labels: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate(rules if isinstance(rules, list) else (), 1):
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rule_id, str) and _SLUG.match(rule_id) and rule_id not in seen:
            labels.append(rule_id)
        else:
            labels.append(f"#{number}")
        if isinstance(rule_id, str):
            seen.add(rule_id)
    return labels


def _issues(error: ValidationError, data: Mapping[str, Any]) -> list[RuleIssue]:
    """Every error as a RuleIssue: file-level ones first, then rule by rule in file order."""
    labels = _rule_labels(data.get("rules"))
    ranked: list[tuple[int, RuleIssue]] = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        if loc[:1] == ("rules",) and len(loc) > 1 and isinstance(loc[1], int):
            inner = loc[2:]
            ranked.append((loc[1], RuleIssue(labels[loc[1]], _field_path(inner), _message(detail, inner))))
        else:
            ranked.append((-1, RuleIssue(None, _field_path(loc), _file_message(detail, loc))))
    return [issue for _, issue in sorted(ranked, key=lambda pair: pair[0])]


def check_rules(data: Mapping[str, Any]) -> tuple[RuleSet | None, list[RuleIssue]]:
    """Validate parsed TOML: the RuleSet, or None and every problem found."""
    try:
        return RuleSet.model_validate(dict(data)), []
    except ValidationError as error:
        return None, _issues(error, data)


def _toml_issue(error: tomllib.TOMLDecodeError) -> RuleIssue:
    text = str(error)
    found = re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", text)
    if found:
        return RuleIssue(None, f"line {found[2]}, column {found[3]}", f"invalid TOML: {found[1]}")
    return RuleIssue(None, "", f"invalid TOML: {text}")


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Rules from TOML text; RulesError lists every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(source, [_toml_issue(error)]) from None
    ruleset, issues = check_rules(data)
    if ruleset is None:
        raise RulesError(source, issues)
    return ruleset


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileUnreadable(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise RulesFileUnreadable(f"{path}: not UTF-8 text") from None


def load_rules(path: str | Path) -> RuleSet:
    """Rules from a TOML file (setting AWARD_RULES).

    RulesFileUnreadable when it cannot be read; RulesError (with `issues`) when it is invalid.
    """
    return parse_rules(_read(path), str(path))


def configured_rules(settings: Settings) -> RuleSet:
    """The rules the award worker runs (AWARD_RULES), each rule's connection one that exists and is
    of its credential's platform: SettingsError otherwise, so no evidence is judged by half a setup."""
    if not settings.award_rules:
        raise SettingsError("AWARD_RULES is not set: LAP evidence cannot award anything")
    rules = load_rules(settings.award_rules)
    for rule in rules.rules:
        award_connection(settings, rule.credential.platform, rule.connection, rule.id)
    return rules


def summary(ruleset: RuleSet) -> str:
    def count(n: int, word: str, plural: str) -> str:
        return f"{n} {word if n == 1 else plural}"

    criteria = sum(len(rule.criteria) for rule in ruleset.rules)
    return (
        ", ".join(
            (
                count(len(ruleset.rules), "rule", "rules"),
                count(criteria, "criterion", "criteria"),
                count(len(ruleset.aliases), "alias", "aliases"),
            )
        )
        + ": OK"
    )


def validate_command(path: str | Path) -> tuple[int, list[str]]:
    """`rules validate FILE`: (0, [summary]) when valid; (1, one line per problem + a count);
    (2, [reason]) when the file cannot be read. Lines go to standard output as they are."""
    try:
        text = _read(path)
    except RulesFileUnreadable as error:
        return 2, [f"error: {error}"]
    try:
        ruleset = parse_rules(text, str(path))
    except RulesError as error:
        n = len(error.issues)
        return 1, [*map(str, error.issues), f"{path}: {n} problem{'s' if n != 1 else ''}"]
    return 0, [summary(ruleset)]
