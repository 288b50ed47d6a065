"""The learner directory's aliases: other emails, each platform's own ids, and refused files."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.errors import SettingsError
from chalicelib.events import Learner
from chalicelib.identity import LearnerDirectory
from chalicelib.identity.directory import DirectoryConflict, parse_directory, platform_id_columns
from chalicelib.platforms import PLATFORMS
from tests.support.helpers import fixture, make_translator

HOMEPAGE = "https://people.example.com"
HEADER = "employee_id,email,name,job_role,team,lms_account,other_emails,credly_id,accredible_id\n"
PEOPLE = (
    HEADER
    + "E-1,ada@work.example.com,Ada,Engineer,Platform,L-1, Ada@Home.Example.net ;ada.l@old.example.com,u-77aa,\n"
    + "E-2,grace@work.example.com,Grace,Manager,Compilers,L-2,,,9001\n"
)


def directory() -> LearnerDirectory:
    return parse_directory(PEOPLE, "people.csv")


def test_every_registry_platform_has_an_id_column():
    assert platform_id_columns() == {f"{name}_id": name for name in PLATFORMS}


@pytest.mark.parametrize("email", ["ada@home.example.net", "ada.l@old.example.com", "ada@work.example.com"])
def test_any_email_of_a_person_finds_them(email):
    assert directory().find(Learner(email=email)).employee_id == "E-1"


def test_aliases_are_trimmed_and_lower_cased_like_the_primary_email():
    entry = directory().find(Learner(email="ada@home.example.net"))
    assert entry.other_emails == ("ada@home.example.net", "ada.l@old.example.com")
    assert entry.email == "ada@work.example.com"  # the primary stays the statements' email


def test_a_platform_id_finds_the_learner_of_that_platform_only():
    people = directory()
    learner = Learner(platform_user_id="u-77aa")
    assert people.find(learner, "credly").employee_id == "E-1"
    assert people.find(learner, "accredible") is None  # another platform's id column is never read
    assert people.find(learner) is None
    assert people.find(Learner(platform_user_id="9001"), "accredible").employee_id == "E-2"


@pytest.mark.parametrize(
    "agent",
    [
        {"mbox": "mailto:ADA@home.example.net"},
        {"mbox": "MAILTO: ada.l@old.example.com "},
        {"mbox_sha1sum": hashlib.sha1(b"mailto:ada@home.example.net").hexdigest()},
        {"account": {"homePage": HOMEPAGE, "name": "u-77aa"}},
        {"account": {"homePage": HOMEPAGE, "name": "L-1"}},
    ],
    ids=["alias mbox", "alias mbox, other case", "alias sha1", "platform id", "lms account"],
)
def test_an_agent_named_by_any_alias_finds_the_person(agent):
    assert directory().find_agent({"objectType": "Agent", **agent}).employee_id == "E-1"


def test_a_translated_badge_finds_its_learner_by_the_platform_user_id(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("employee_id,email,credly_id\nE-9,someone@else.example.com,u-77aa\n", encoding="utf-8")
    document = fixture("credly/event_badge_created.json")
    badge = document["data"]["badge"]
    del badge["issuer_earner_id"], badge["user"]["email"]
    badge["recipient_email"] = "ada@personal.example.net"  # accepted with an email HR does not know
    translator = make_translator(
        {"IDENTITY_IFI": "account", "IDENTITY_HOMEPAGE": HOMEPAGE, "LEARNER_DIRECTORY": str(path)}
    )

    [statement] = translator.translate("credly", document).statements

    assert statement["actor"]["account"] == {"homePage": HOMEPAGE, "name": "E-9"}


@pytest.mark.parametrize(
    "rows, column, lines",
    [
        ("E-1,a@x.com,,,,,,,\nE-2,b@x.com,,,,,A@X.com,,\n", "other_emails", (3, 2)),
        ("E-1,a@x.com,,,,,c@x.com,,\nE-2, C@x.com ,,,,,,,\n", "email", (3, 2)),
        ("E-1,a@x.com,,,,,,,\nE-1,b@x.com,,,,,,,\n", "employee_id", (3, 2)),
        ("E-1,a@x.com,,,,L-7,,,\nE-2,b@x.com,,,,L-7,,,\n", "lms_account", (3, 2)),
        ("E-1,a@x.com,,,,,,u-1,\n\nE-2,b@x.com,,,,,,u-1,\n", "credly_id", (4, 2)),
    ],
    ids=["alias of another's email", "email of another's alias", "employee id", "lms account", "platform id"],
)
def test_a_value_two_people_share_is_refused_naming_both_lines_not_the_value(rows, column, lines):
    with pytest.raises(DirectoryConflict) as caught:
        parse_directory(HEADER + rows, "people.csv")

    message = str(caught.value)
    assert f"line {lines[0]} ({column})" in message
    assert f"line {lines[1]} (" in message
    assert "@" not in message and "u-1" not in message and "L-7" not in message
    assert caught.value.value.lower() in rows.lower()  # for the operator's own terminal


def test_one_person_may_repeat_their_own_email_and_id():
    people = parse_directory(HEADER + "E-1,a@x.com,,,,E-1,A@x.com;a@x.com,,\n")
    assert len(people) == 1 and people.find(Learner(email="a@x.com")).lms_account == "E-1"


def test_the_same_id_on_two_platforms_is_two_namespaces():
    people = parse_directory(HEADER + "E-1,a@x.com,,,,,,42,\nE-2,b@x.com,,,,,,,42\n")
    assert people.find(Learner(platform_user_id="42"), "credly").employee_id == "E-1"
    assert people.find(Learner(platform_user_id="42"), "accredible").employee_id == "E-2"


@pytest.mark.parametrize(
    "text, says",
    [
        (HEADER + "E-1,a@x.com,Ada,Eng", "line 2 has fewer columns"),
        (HEADER + 'E-1,a@x.com,"Ada', "line 2"),
        ("employee_id,name\nE-1,Ada\n", "missing column(s) email"),
        ("", "missing column(s) employee_id, email"),
    ],
    ids=["cut mid-row", "cut inside quotes", "no email column", "empty"],
)
def test_a_broken_file_is_refused_naming_what_is_wrong(text, says):
    with pytest.raises(SettingsError, match="LEARNER_DIRECTORY people.csv") as caught:
        parse_directory(text, "people.csv")
    assert says in str(caught.value)


def test_a_short_last_row_ending_with_a_line_break_is_a_row_with_empty_cells():
    people = parse_directory("employee_id,email,name,team\nE-1,a@x.com\n")
    assert people.find(Learner(email="a@x.com")).team == ""


def test_the_old_header_still_reads():
    people = parse_directory("\ufeffemployee_id,email,name,job_role,team,lms_account\nE-1, A@X.com ,Ada,,T,\n")
    entry = people.find(Learner(email="a@x.com"))
    assert (entry.employee_id, entry.email, entry.team, entry.other_emails, entry.platform_ids) == (
        "E-1",
        "a@x.com",
        "T",
        (),
        (),
    )
