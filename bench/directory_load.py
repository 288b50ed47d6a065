"""Loading a large learner directory: parse_directory over a generated CSV of N people with aliases.

Prints, for the same file in the same run:
  floor      csv.DictReader over the text, every row read (best of --repeats)
  load       chalicelib.identity.directory.parse_directory: the index of every email, id and platform
             id, the duplicate checks (best of --repeats)
  RATIO      load seconds / floor seconds
  memory     tracemalloc peak of one load, the file's text excluded (target <= 60 MB), and of the floor;
             what the loaded directory keeps besides the text
  find       a lookup of one key of a person not looked up before (the entry is built from its row),
             over --lookups people: email, alias, employee id, Credly id in turn
Targets: 100,000 people load in <= 1 s and <= 60 MB peak.

    python bench/directory_load.py                 # 100,000 people
    python bench/directory_load.py --people 20000
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.events import Learner  # noqa: E402
from chalicelib.identity.directory import parse_directory  # noqa: E402

TEAMS = [f"Team {n}" for n in range(60)]
ROLES = [f"Role {n}" for n in range(120)]
HEADER = [
    "employee_id",
    "email",
    "name",
    "job_role",
    "team",
    "lms_account",
    "other_emails",
    "credly_id",
    "accredible_id",
    "badgr_id",
]
TARGET_SECONDS, TARGET_MB = 1.0, 60.0


def people_csv(people: int, seed: int) -> str:
    """Every person with one alias, a third with two; a Credly user id each, an Accredible id for
    half, a Badgr identifier for a fifth; LMS account = employee id for half."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for n in range(people):
        employee = f"E-{100000 + n}"
        aliases = [f"p{n}@home.example.net"] + ([f"p{n}.old@example.org"] if n % 3 == 0 else [])
        writer.writerow(
            [
                employee,
                f"person.{n}@example.com",
                f"Person {n} {rng.choice('ABCDEFGH')}.",
                rng.choice(ROLES),
                rng.choice(TEAMS),
                employee if n % 2 else f"lms-{n}",
                ";".join(aliases),
                f"{rng.getrandbits(128):032x}",
                str(5_000_000 + n) if n % 2 == 0 else "",
                f"badgr-{n:08d}" if n % 5 == 0 else "",
            ]
        )
    return out.getvalue()


def floor(text: str) -> int:
    return sum(1 for _ in csv.DictReader(io.StringIO(text, newline="")))


def best(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def traced_mb(run: Callable[[], object]) -> tuple[float, float]:
    """Peak while it runs, and what its result holds afterwards."""
    gc.collect()
    tracemalloc.start()
    result = run()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 1e6, kept / 1e6


def lookups(text: str, people: int, count: int) -> tuple[float, int]:
    """Seconds a lookup, cold (each person once, by one key in turn), and how many found the right person."""
    directory = parse_directory(text, "bench")
    wanted = set(random.Random(11).sample(range(people), min(count, people)))
    chosen = [row for n, row in enumerate(islice(csv.reader(io.StringIO(text, newline="")), 1, None)) if n in wanted]
    random.Random(11).shuffle(chosen)
    asked = [key_of(row, turn) for turn, row in enumerate(chosen)]
    gc.collect()
    started = time.perf_counter()
    found = [directory.find(learner, platform) for learner, platform in asked]
    elapsed = time.perf_counter() - started
    return elapsed / len(asked), sum(
        entry is not None and entry.employee_id == row[0] for entry, row in zip(found, chosen, strict=True)
    )


def key_of(row: list[str], turn: int) -> tuple[Learner, str | None]:
    """The person's email, first alias, employee id or Credly id (HEADER's columns), by turn."""
    return [
        (Learner(email=row[1]), None),
        (Learner(email=row[6].split(";")[0]), None),
        (Learner(earner_id=row[0]), None),
        (Learner(platform_user_id=row[7]), "credly"),
    ][turn % 4]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=10_000)
    args = parser.parse_args()

    text = people_csv(args.people, args.seed)
    directory = parse_directory(text, "bench")
    assert len(directory) == args.people
    del directory
    floor_s = best(lambda: floor(text), args.repeats)
    load_s = best(lambda: parse_directory(text, "bench"), args.repeats)
    floor_mb, _ = traced_mb(lambda: floor(text))
    load_mb, kept_mb = traced_mb(lambda: parse_directory(text, "bench"))
    find_s, right = lookups(text, args.people, args.lookups)
    print(
        f"learner directory: {args.people:,} people, {len(text) / 1e6:.1f} MB of CSV "
        f"(aliases, three platform id columns), best of {args.repeats}"
    )
    print(f"  floor      csv.DictReader over every row      {floor_s:7.3f} s   peak {floor_mb:6.1f} MB")
    print(
        f"  load       parse_directory (the index)        {load_s:7.3f} s   peak {load_mb:6.1f} MB, "
        f"kept {kept_mb:.1f} MB besides the text"
    )
    print(f"  RATIO      load / floor                       {load_s / floor_s:7.2f} x")
    print(
        f"  find       one key of a person not looked up before {find_s * 1e6:5.1f} us "
        f"({right:,} of {min(args.lookups, args.people):,} found right)"
    )
    print(
        f"  targets    <= {TARGET_SECONDS:g} s: {'met' if load_s <= TARGET_SECONDS else 'MISSED'}; "
        f"<= {TARGET_MB:g} MB: {'met' if load_mb <= TARGET_MB else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
