"""The skills vocabulary (setting SKILLS_FILE): one name per skill, whatever each platform calls it.

Platforms name skills their own way (Credly skills, Open Badges tags and alignments, CSV
columns): `python`, `Python programming` and `programming` would be three skills. The skills
file is a CSV file (UTF-8) with the header `skill,aliases,framework_id` (examples/skills.csv):

    skill,aliases,framework_id
    Python,python programming; programming,http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d
    SQL,structured query language,15-1242.00

- `skill`: the canonical name, what statements and the report show; it is its own alias.
- `aliases`: the other names of the skill, separated by `;`.
- `framework_id` (optional): the skill's id in a framework, e.g. an ESCO URI or an O*NET code.

Empty rows and rows whose first cell starts with `#` are skipped. Names match folded: case,
Unicode forms (NFKC), spaces and punctuation do not count (`Node.js` = `node js` = `NODE-JS`),
except `+` and `#`, which tell C, C++ and C# apart.

A file is refused whole, with every problem named by its line: an empty name, a name two
skills claim (an alias given to two canonical skills, or a skill defined twice), a framework
id with spaces. `SkillsFile` reads the file again when it changes and keeps the last good
vocabulary while a changed file is refused.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import SettingsError
from .observability import log

COLUMNS = ("skill", "aliases", "framework_id")
ALIAS_SEPARATOR = ";"
MAX_PROBLEMS_SHOWN = 5  # the error is one line: the first problems, and how many more
_NOT_KEPT = re.compile(r"[^\w+#]+|_+")  # what folding turns into one space: all but letters, digits, + and #


def fold(name: str) -> str:
    """The form names are compared in: `Python-Programming ` and `python programming` are one."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(_NOT_KEPT.sub(" ", text).split())


@dataclass(frozen=True)
class Skill:
    name: str
    framework_id: str | None = None
    line: int = 0  # where the file defines it, for error messages


@dataclass(frozen=True)
class SkillNames:
    """One statement's skills: the canonical names found, and the names nothing maps."""

    mapped: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(sorted({*self.mapped, *self.unmapped}))


@dataclass(frozen=True)
class SkillsVocabulary:
    by_key: Mapping[str, Skill] = field(default_factory=dict)  # folded name -> its skill

    def __len__(self) -> int:
        return len({skill.name for skill in self.by_key.values()})

    def lookup(self, name: str) -> Skill | None:
        return self.by_key.get(fold(name))

    def extension(self, names: Iterable[str]) -> list[dict]:
        """The canonical skills of a credential's skill names, as the statements' extension
        carries them: each with its framework id and the names it was found under, in the order
        of the names."""
        found: dict[Skill, list[str]] = {}
        for name in names:
            skill = self.lookup(name)
            if skill is not None and name not in found.setdefault(skill, []):
                found[skill].append(name)
        return [_entry(skill, sources) for skill, sources in found.items()]


def _entry(skill: Skill, sources: list[str]) -> dict:
    entry: dict = {"name": skill.name}
    if skill.framework_id:
        entry["framework_id"] = skill.framework_id
    entry["from"] = sources
    return entry


def statement_skills(
    raw: object, canonical: object, vocabulary: SkillsVocabulary | None, label: Callable[[object], str | None]
) -> SkillNames:
    """A statement's skills (the platform's names in `raw`, the canonical extension in
    `canonical`, both as read from the LRS, so of any shape) in canonical names: the extension's
    mapping first, as the statement was sent; names it does not cover through `vocabulary`,
    which also counts statements sent before there was a skills file. `label` cleans a name
    read from the LRS (None: not a name)."""
    mapped: set[str] = set()
    covered: set[str | None] = set()
    for entry in canonical if isinstance(canonical, list) else ():
        name = label(entry.get("name")) if isinstance(entry, Mapping) else None
        if name:
            mapped.add(name)
            sources = entry.get("from")
            covered.update(map(label, sources if isinstance(sources, list) else ()))
    unmapped: set[str] = set()
    for name in map(label, raw if isinstance(raw, list) else ()):
        if not name or name in covered:
            continue
        skill = vocabulary.lookup(name) if vocabulary else None
        (mapped if skill else unmapped).add(skill.name if skill else name)
    return SkillNames(tuple(sorted(mapped)), tuple(sorted(unmapped)))


# -- reading the file ---------------------------------------------------------------------------


class SkillsFileError(SettingsError):
    """The skills file is refused: every problem, each naming its line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        super().__init__(f"SKILLS_FILE {path}: {shown}" + (f" (and {more} more)" if more > 0 else ""))


def load_skills(path: str) -> SkillsVocabulary:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise SettingsError(f"SKILLS_FILE {path}: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SkillsFileError(path, [f"not UTF-8 text (byte {error.start})"]) from None
    return parse_skills(text, path)


def parse_skills(text: str, path: str = "(skills)") -> SkillsVocabulary:
    problems: list[str] = []
    by_key: dict[str, Skill] = {}
    rows = _rows(text, problems)
    for line, row in rows:
        skill = _skill(line, row, problems)
        if skill is not None:
            _claim(skill, row.get("aliases", ""), by_key, problems)
    if problems:
        raise SkillsFileError(path, problems)
    return SkillsVocabulary(by_key)


def _rows(text: str, problems: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, cells by column) of each row that defines a skill; the line is where the row starts."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    unknown = [name for name in header if name not in COLUMNS]
    if "skill" not in header or unknown:
        problems.append(
            f"line 1: the header must be {','.join(COLUMNS)} (skill required"
            + (f"; unknown column(s) {', '.join(map(repr, unknown))})" if unknown else ")")
        )
        return
    end = reader.line_num
    for row in reader:
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(header):
            problems.append(
                f"line {line}: {len(row)} cells for {len(header)} columns (quote a cell that holds a comma)"
            )
            continue
        yield line, {name: cell.strip() for name, cell in zip(header, row, strict=False)}


def _skill(line: int, row: dict[str, str], problems: list[str]) -> Skill | None:
    name, framework_id = row.get("skill", ""), row.get("framework_id", "")
    if not fold(name):
        problems.append(f"line {line}: empty skill name" + (f" ({name!r} has no letter or digit)" if name else ""))
        return None
    if any(ch.isspace() for ch in framework_id):
        problems.append(f"line {line}: framework_id {framework_id!r} has spaces (one URI or code)")
        return None
    return Skill(name, framework_id or None, line)


def _claim(skill: Skill, aliases: str, by_key: dict[str, Skill], problems: list[str]) -> None:
    """Give the skill its name and aliases; a name another skill has is a problem of this line."""
    owner = by_key.get(fold(skill.name))
    if owner is not None:
        what = "skill" if fold(owner.name) == fold(skill.name) else "an alias of skill"
        problems.append(f"line {skill.line}: skill {skill.name!r} is already {what} {owner.name!r} (line {owner.line})")
        return
    by_key[fold(skill.name)] = skill
    names = aliases.split(ALIAS_SEPARATOR) if aliases else []
    for alias in (a.strip() for a in names):
        key = fold(alias)
        if not key:
            problems.append(
                f"line {skill.line}: empty alias of {skill.name!r}"
                + (f" ({alias!r} has no letter or digit)" if alias else " (';' with no name beside it)")
            )
        elif by_key.setdefault(key, skill) is not skill:
            owner = by_key[key]
            what = "skill" if fold(owner.name) == key else "an alias of skill"
            problems.append(
                f"line {skill.line}: alias {alias!r} of {skill.name!r} is already "
                f"{what} {owner.name!r} (line {owner.line})"
            )


class SkillsFile:
    """SKILLS_FILE as it stands now: read again when it changes (its size or modification time);
    a changed file that is refused, or gone, leaves the last good vocabulary in force. A file
    refused at the start is a configuration error: there is nothing good to keep."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp = self._stat()
        self._vocabulary = load_skills(path)

    def current(self) -> SkillsVocabulary:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp  # one warning per change, not one per event
            try:
                self._vocabulary = load_skills(self.path)
                log("skills_file_loaded", skills=len(self._vocabulary))
            except SettingsError as error:
                log("skills_file_refused", level=logging.WARNING, reason=str(error), kept_skills=len(self._vocabulary))
        return self._vocabulary

    def _stat(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size
