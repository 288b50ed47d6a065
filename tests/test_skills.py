"""The skills file (SKILLS_FILE): loading, folding, refusals naming their lines, the last good file
kept, and a statement's skills in canonical names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chalicelib import skills as skills_module
from chalicelib.errors import SettingsError
from chalicelib.report.facts import text_of
from chalicelib.skills import SkillsFile, SkillsFileError, fold, load_skills, parse_skills, statement_skills
from tests.support.paths import REPO

ROOT = REPO
HEADER = "skill,aliases,framework_id\n"
GOOD = HEADER + (
    "# the canonical name first, then its aliases\n"
    "Python,Python programming; programming,http://data.europa.eu/esco/skill/ccd0a1d9\n"
    "\n"
    "C++,cpp,\n"
    "C,,\n"
    "C#,c sharp,\n"
    "Node.js,,\n"
    '"SQL","structured query language; ""SQL"" databases",15-1242.00\n'
)


def problems(text: str) -> list[str]:
    """What a refused file's error lists, one problem per entry."""
    with pytest.raises(SkillsFileError) as refused:
        parse_skills(text)
    return refused.value.problems


def test_aliases_and_the_canonical_name_map_to_one_skill_with_its_framework_id():
    vocabulary = parse_skills(GOOD)
    assert len(vocabulary) == 6
    for name in ("python", "Python", "Python programming", "programming"):
        skill = vocabulary.lookup(name)
        assert skill is not None and (skill.name, skill.framework_id) == (
            "Python",
            "http://data.europa.eu/esco/skill/ccd0a1d9",
        )
    assert vocabulary.lookup('"SQL" databases').name == "SQL"
    assert vocabulary.lookup("structured query language").framework_id == "15-1242.00"
    assert vocabulary.lookup("C++").framework_id is None
    assert vocabulary.lookup("Java") is None


@pytest.mark.parametrize(
    ("written", "skill"),
    [
        ("  PYTHON-Programming ", "Python"),
        ("python_programming", "Python"),
        ("Python (programming)!", "Python"),
        ("ｐｙｔｈｏｎ", "Python"),
        ("node js", "Node.js"),
        ("NODE-JS", "Node.js"),
        ("c++", "C++"),
        ("C", "C"),
        ("c#", "C#"),
        ("C-Sharp", "C#"),
    ],
)
def test_names_match_whatever_their_case_spaces_and_punctuation_but_plus_and_hash_count(written, skill):
    assert parse_skills(GOOD).lookup(written).name == skill


def test_fold_keeps_letters_digits_plus_and_hash_only():
    assert fold("  Data--Analytics / Python 3.11 ") == "data analytics python 3 11"
    assert fold("C++") != fold("C") != fold("C#")
    assert fold("...") == ""


def test_an_alias_given_to_two_skills_is_refused_naming_both_lines():
    text = HEADER + "Python,programming,\nJava,coding,\nSoftware engineering,Coding; PROGRAMMING,\n"
    with pytest.raises(SkillsFileError) as refused:
        parse_skills(text, "skills.csv")
    assert refused.value.problems == [
        "line 4: alias 'Coding' of 'Software engineering' is already an alias of skill 'Java' (line 3)",
        "line 4: alias 'PROGRAMMING' of 'Software engineering' is already an alias of skill 'Python' (line 2)",
    ]
    assert str(refused.value).startswith("SKILLS_FILE skills.csv: line 4: alias 'Coding'")


def test_a_skill_defined_twice_or_named_as_another_skills_alias_is_refused():
    text = HEADER + "Python,py,\nSQL,,\n" + "python!,,\n" + "Py,,\n"
    assert problems(text) == [
        "line 4: skill 'python!' is already skill 'Python' (line 2)",
        "line 5: skill 'Py' is already an alias of skill 'Python' (line 2)",
    ]


def test_empty_names_are_refused_with_their_line():
    text = HEADER + ",orphan alias,\nPython,programming;;py,\n---,,\nSQL,sql;!!,\n"
    assert problems(text) == [
        "line 2: empty skill name",
        "line 3: empty alias of 'Python' (';' with no name beside it)",
        "line 4: empty skill name ('---' has no letter or digit)",
        "line 5: empty alias of 'SQL' ('!!' has no letter or digit)",
    ]


def test_the_line_is_where_a_row_starts_even_after_a_quoted_line_break():
    text = HEADER + 'Python,"programming;\ncoding",\nJava,coding,\n'
    assert problems(text) == ["line 4: alias 'coding' of 'Java' is already an alias of skill 'Python' (line 2)"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "line 1: the header must be skill,aliases,framework_id (skill required)"),
        (
            "name,aliases\nPython,py\n",
            "line 1: the header must be skill,aliases,framework_id (skill required; unknown column(s) 'name')",
        ),
        (HEADER + "Python,py,esco skill 1\n", "line 2: framework_id 'esco skill 1' has spaces (one URI or code)"),
        (HEADER + "Python,py,x,extra\n", "line 2: 4 cells for 3 columns (quote a cell that holds a comma)"),
    ],
)
def test_a_malformed_file_is_refused_saying_why(text, problem):
    assert problems(text) == [problem]


def test_the_error_is_one_line_with_the_first_problems_and_how_many_more():
    text = HEADER + "".join(f",alias {n},\n" for n in range(8))
    with pytest.raises(SkillsFileError) as refused:
        parse_skills(text, "s.csv")
    message = str(refused.value)
    assert "\n" not in message and message.count("empty skill name") == 5 and message.endswith("(and 3 more)")


def test_the_example_file_loads_and_a_missing_or_non_utf8_file_is_a_settings_error(tmp_path):
    assert load_skills(str(ROOT / "examples" / "skills.csv")).lookup("python 3").name == "Python"
    with pytest.raises(SettingsError, match="SKILLS_FILE .*nope.csv: No such file"):
        load_skills(str(tmp_path / "nope.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "Café,,\n".encode("latin-1"))
    with pytest.raises(SkillsFileError, match="not UTF-8"):
        load_skills(str(latin))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + "Caf\u00e9,,\n").encode())  # as spreadsheets save it
    assert load_skills(str(bom)).lookup("CAFÉ").name == "Café"


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # a distinct modification time, whatever the file system's resolution


def test_a_changed_file_is_read_again_and_a_refused_one_keeps_the_last_good(tmp_path, monkeypatch):
    logged: list[str] = []
    monkeypatch.setattr(skills_module, "log", lambda event, **fields: logged.append(event))
    path = tmp_path / "skills.csv"
    _write(path, HEADER + "Python,programming,\n", 1_000_000_000)
    skills = SkillsFile(str(path))
    assert skills.current().lookup("programming").name == "Python"

    _write(path, HEADER + "Python,programming,\nSQL,,\n", 2_000_000_000)
    assert skills.current().lookup("sql").name == "SQL"

    _write(path, HEADER + "Python,programming,\nJava,programming,\n", 3_000_000_000)
    kept = skills.current()
    assert kept.lookup("sql").name == "SQL" and kept.lookup("java") is None
    assert "skills_file_refused" in logged

    path.unlink()
    assert skills.current() is kept  # a file gone keeps the last good one too
    _write(path, HEADER + "Python,programming,\nJava,,\n", 4_000_000_000)
    assert skills.current().lookup("java").name == "Java"


def test_a_file_refused_at_the_start_is_a_configuration_error(tmp_path):
    path = tmp_path / "skills.csv"
    path.write_text(HEADER + "Python,programming,\nJava,programming,\n", encoding="utf-8")
    with pytest.raises(SkillsFileError, match="line 3"):
        SkillsFile(str(path))


def test_the_extension_lists_each_canonical_skill_once_with_the_names_it_came_from():
    vocabulary = parse_skills(GOOD)
    assert vocabulary.extension(["python", "Basket weaving", "Python programming", "SQL", "python"]) == [
        {
            "name": "Python",
            "framework_id": "http://data.europa.eu/esco/skill/ccd0a1d9",
            "from": ["python", "Python programming"],
        },
        {"name": "SQL", "framework_id": "15-1242.00", "from": ["SQL"]},
    ]
    assert vocabulary.extension(["Basket weaving"]) == []


def test_a_statements_skills_prefer_its_extension_then_the_file_and_keep_unmapped_names():
    vocabulary = parse_skills(GOOD)
    # Sent with a file that called "py" Python; today's file does not know "py": the statement says.
    sent = [{"name": "Python", "from": ["py"]}]
    names = statement_skills(["py", "programming", "Basket weaving", 7, "  "], sent, vocabulary, text_of)
    assert (names.mapped, names.unmapped) == (("Python",), ("Basket weaving",))
    assert names.all == ("Basket weaving", "Python")


def test_without_a_file_or_an_extension_the_names_are_counted_as_they_are():
    names = statement_skills(["python", " python ", "SQL", None], None, None, text_of)
    assert (names.mapped, names.all) == ((), ("SQL", "python"))
    odd = statement_skills("python", [{"name": ["x"]}, "y", {"name": "Py", "from": "py"}], None, text_of)
    assert odd.all == ("Py",)
