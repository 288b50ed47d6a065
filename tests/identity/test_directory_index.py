"""The learner directory's index: every key finds its person, whatever the size or the hashes."""

from __future__ import annotations

import hashlib
import random

import pytest

from chalicelib.events import Learner
from chalicelib.identity import directory as directory_module
from chalicelib.identity.directory import (
    DirectoryConflict,
    DirectoryEntry,
    LearnerDirectory,
    parse_directory,
    sha256_identity,
)

HEADER = "employee_id,email,name,job_role,team,lms_account,other_emails,credly_id,accredible_id\n"


def people(count: int) -> list[DirectoryEntry]:
    rng = random.Random(3)
    return [
        DirectoryEntry(
            employee_id=f"E-{n}",
            email=f"p{n}@work.example.com",
            name=f"Person {n}",
            job_role=f"Role {n % 7}",
            team=f"Team {n % 5}" if n % 4 else "",
            lms_account=f"L-{n}" if n % 2 else f"E-{n}",
            other_emails=(f"p{n}@home.example.net",) + ((f"p{n}.old@example.org",) if n % 3 == 0 else ()),
            platform_ids=(("credly", f"{rng.getrandbits(64):016x}"),)
            + ((("accredible", str(9000 + n)),) if n % 2 else ()),
        )
        for n in range(count)
    ]


def as_csv(entries: list[DirectoryEntry]) -> str:
    rows = [
        ",".join([*e[:6], ";".join(e.other_emails), e.platform_id("credly"), e.platform_id("accredible")])
        for e in entries
    ]
    return HEADER + "\n".join(rows) + "\n"


def every_key(entry: DirectoryEntry) -> list[tuple[Learner, str | None]]:
    return [
        *((Learner(email=email.upper()), None) for email in entry.emails),
        (Learner(earner_id=entry.employee_id), None),
        (Learner(earner_id=entry.lms_account), None),
        *((Learner(platform_user_id=value), platform) for platform, value in entry.platform_ids),
        (Learner(email_sha256=sha256_identity(entry.emails[-1], "s"), email_salt="s"), None),
    ]


def assert_finds_everyone(directory: LearnerDirectory, entries: list[DirectoryEntry]) -> None:
    for entry in entries:
        for learner, platform in every_key(entry):
            assert directory.find(learner, platform) == entry, (learner, platform)
        mbox_sha1 = hashlib.sha1(f"mailto:{entry.emails[-1]}".encode()).hexdigest()
        assert directory.find_agent({"mbox_sha1sum": mbox_sha1}) == entry
        assert directory.find_agent({"account": {"name": entry.platform_id("credly")}}) == entry


def test_every_key_of_every_person_finds_them_and_nothing_else_finds_anyone():
    entries = people(3000)
    directory = parse_directory(as_csv(entries), "people.csv")

    assert len(directory) == 3000 and list(directory) == entries
    assert_finds_everyone(directory, entries)
    strangers = [
        Learner(email="p3000@work.example.com"),
        Learner(earner_id="E-3000"),
        Learner(platform_user_id="9001"),
        Learner(email_sha256=sha256_identity("x@y.z", "s"), email_salt="s"),
    ]
    assert [directory.find(learner, "credly") for learner in strangers] == [None] * 4
    assert directory.find(Learner(platform_user_id="9001"), "accredible") == entries[1]
    assert directory.headcounts() == {
        f"Team {t}": sum(1 for e in entries if e.team == f"Team {t}")
        for t in range(5)
        if any(e.team == f"Team {t}" for e in entries)
    }


def test_keys_whose_hashes_share_every_kept_bit_are_still_told_apart(monkeypatch):
    # No hash bit kept: every key of a namespace is a candidate of every lookup, so each answer
    # rests on comparing the row's own key.
    monkeypatch.setattr(directory_module, "key_mask", lambda row_bits: 0)
    entries = people(60)
    directory = parse_directory(as_csv(entries), "people.csv")

    assert_finds_everyone(directory, entries)
    assert directory.find(Learner(email="nobody@example.com")) is None
    with pytest.raises(DirectoryConflict, match=r"line 5 \(other_emails\) repeats the value of line 3 \(email\)"):
        rows = "E-1,a@x.com,,,,,,,\nE-2,b@x.com,,,,,,,\nE-3,c@x.com,,,,,,,\nE-4,d@x.com,,,,,B@X.com,,\n"
        parse_directory(HEADER + rows, "people.csv")


def test_the_conflict_reported_is_the_first_a_reading_in_file_order_meets():
    rows = (
        "E-1,a@x.com,,,,L-1,,u-1,\n"
        "E-2,b@x.com,,,,,,,\n"
        "E-3,c@x.com,,,,L-1,a@x.com,u-1,\n"  # shares an alias, an LMS account and a Credly id with line 2
        "E-1,b@x.com,,,,,,,\n"
    )
    with pytest.raises(DirectoryConflict) as caught:
        parse_directory(HEADER + rows, "people.csv")
    assert (caught.value.line, caught.value.column, caught.value.first_line) == (4, "other_emails", 2)
    assert "line 2 (email)" in str(caught.value)

    with pytest.raises(DirectoryConflict) as caught:  # three people: the second is named against the first
        parse_directory(HEADER + "E-1,a@x.com,,,,,,7,\nE-2,b@x.com,,,,,,7,\nE-3,c@x.com,,,,,,7,\n", "people.csv")
    assert (caught.value.line, caught.value.first_line, caught.value.column) == (3, 2, "credly_id")


def test_line_numbers_count_quoted_line_breaks_and_entries_read_back_whole():
    text = HEADER.replace("\n", "\r\n") + ('E-1,a@x.com,"Ada\r\nLovelace",,T,,,,\r\n\r\nE-2,b@x.com,Grace,,T,,,,\r\n')
    directory = parse_directory(text, "people.csv")
    assert directory.find(Learner(earner_id="E-1")).name == "Ada\r\nLovelace"
    assert directory.find(Learner(email="b@x.com")).name == "Grace"
    assert directory.headcounts() == {"T": 2}

    with pytest.raises(DirectoryConflict) as caught:
        parse_directory(text + "E-3,A@x.com,,,,,,,\r\n", "people.csv")
    assert (caught.value.line, caught.value.first_line) == (6, 3)


def test_a_directory_made_of_entries_holds_them_as_they_are():
    entries = people(40)
    directory = LearnerDirectory(entries)
    assert list(directory) == entries
    assert_finds_everyone(directory, entries)
    assert len(LearnerDirectory()) == 0 and LearnerDirectory().find(Learner(email="a@x.com")) is None
