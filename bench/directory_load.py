"""Loading a large learner directory: parse_directory over a generated CSV of N people with aliases.

Prints, for the same file in the same run:
  floor      csv.DictReader over the text, every row read (best of --repeats)
  load       chalicelib.identity.directory.parse_directory: entries and every index (best of --repeats)
  RATIO      load seconds / floor seconds
  memory     tracemalloc peak of one load, the file's text excluded (target <= 60 MB), and of the floor
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
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.identity.directory import parse_directory  # noqa: E402

TEAMS = [f"Team {n}" for n in range(60)]
ROLES = [f"Role {n}" for n in range(120)]
HEADER = ["employee_id", "email", "name", "job_role", "team", "lms_account", "other_emails", "credly_id",
          "accredible_id", "badgr_id"]
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
        writer.writerow([
            employee, f"person.{n}@example.com", f"Person {n} {rng.choice('ABCDEFGH')}.", rng.choice(ROLES),
            rng.choice(TEAMS), employee if n % 2 else f"lms-{n}", ";".join(aliases),
            f"{rng.getrandbits(128):032x}", str(5_000_000 + n) if n % 2 == 0 else "",
            f"badgr-{n:08d}" if n % 5 == 0 else "",
        ])
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


def peak_mb(run: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    text = people_csv(args.people, args.seed)
    directory = parse_directory(text, "bench")
    assert len(directory) == args.people
    del directory
    floor_s = best(lambda: floor(text), args.repeats)
    load_s = best(lambda: parse_directory(text, "bench"), args.repeats)
    floor_mb = peak_mb(lambda: floor(text))
    load_mb = peak_mb(lambda: parse_directory(text, "bench"))
    print(f"learner directory: {args.people:,} people, {len(text) / 1e6:.1f} MB of CSV "
          f"(aliases, three platform id columns), best of {args.repeats}")
    print(f"  floor      csv.DictReader over every row      {floor_s:7.3f} s   peak {floor_mb:6.1f} MB")
    print(f"  load       parse_directory (entries, indexes) {load_s:7.3f} s   peak {load_mb:6.1f} MB")
    print(f"  RATIO      load / floor                       {load_s / floor_s:7.2f} x")
    print(f"  targets    <= {TARGET_SECONDS:g} s: {'met' if load_s <= TARGET_SECONDS else 'MISSED'}; "
          f"<= {TARGET_MB:g} MB: {'met' if load_mb <= TARGET_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
