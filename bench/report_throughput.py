"""The report's speed against plain paging of the same queries, on a generated organisation's
history in the real test LRS.

    .venv/bin/python bench/report_throughput.py [--learners 5000] [--rounds 3]

  history   tests/support/report_history.py's generated_history (2014: credentials earned,
            renewed, revoked, voided, declined, expired, accepted, shared) for --learners
            learners, plus --activities completed courses and --searches `searched` statements
            (the LXP fixtures' shapes) a learner, loaded once into one LRS
  floor     the report's queries (the same verbs, limit = the report's default page size),
            sent by a plain requests.Session following `more`: every page read and JSON-parsed,
            nothing else
  report    `python -m chalicelib report --since 2014-01-01 --until 2014-12-31` as a child
            process, defaults otherwise (interpreter start-up included), stdout discarded;
            and the same with `--add all` against the floor of its queries (searched too)
  RATIO     the floor's time over the report's, for the same pages (target >= 0.8); each round
            runs the floor and the report one after the other, the median round is shown

The report's count (its `read N statement(s)` line on stderr) is a little below the floor's:
the LRS also answers a verb's query with the statements voiding statements of that verb (xAPI's
StatementRef rule), which the report's client drops and the floor still reads.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from chalicelib.commands.report import PAGE_SIZE  # noqa: E402
from chalicelib.report.ledger import credential_verbs  # noqa: E402
from chalicelib.report.searches import SEARCH_VERBS  # noqa: E402
from chalicelib.xapi import vocabulary as v  # noqa: E402
from lrs_process import LrsProcess  # noqa: E402
from tests.support.report_history import COMPLETED, VOCAB, History, at, generated_history  # noqa: E402

SINCE, UNTIL = "2014-01-01", "2014-12-31"
SEARCHED = json.loads((ROOT / "tests" / "fixtures" / "lxp" / "searched_statements.json").read_text())
COURSES = [f"Course {n}" for n in range(40)]
HEADERS = {"X-Experience-API-Version": "1.0.3"}


def organisation(learners: int, activities: int, searches: int, seed: int) -> History:
    """A generated history, with more learning and some searching by each learner."""
    rng = random.Random(seed)
    history = generated_history(seed, learners)
    day = lambda: f"2014-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"  # noqa: E731
    for learner in list(history.learners.values()):
        for _ in range(activities):
            history.activity(COMPLETED, learner, rng.choice(COURSES), day())
        for _ in range(searches):
            statement = copy.deepcopy(rng.choice(SEARCHED)["statement"])
            statement.update(id=str(uuid.uuid4()), actor=history.agent(learner), timestamp=at(day()))
            history.statements.append(statement)
    return history


def load(lrs: LrsProcess, history: History) -> None:
    """Voiding statements last, after the statements they void, as the connector sends them."""
    session = requests.Session()
    voiding = [s for s in history.statements if s["verb"]["id"] == v.VERB_VOIDED]
    rest = [s for s in history.statements if s["verb"]["id"] != v.VERB_VOIDED]
    for batch in (rest, voiding):
        for start in range(0, len(batch), 500):
            answer = session.post(lrs.statements_url, json=batch[start : start + 500], headers=HEADERS, timeout=120)
            answer.raise_for_status()


def floor(lrs: LrsProcess, verbs: tuple[str, ...]) -> tuple[float, int]:
    """Every statement of these verbs read page by page and parsed: (seconds, statements)."""
    session = requests.Session()
    started, read = time.perf_counter(), 0
    for verb in verbs:
        page = session.get(
            lrs.statements_url, params={"verb": verb, "limit": str(PAGE_SIZE)}, headers=HEADERS, timeout=120
        ).json()
        while True:
            read += len(page["statements"])
            if not (page.get("more") and page["statements"]):
                break
            page = session.get(
                requests.compat.urljoin(lrs.statements_url, page["more"]), headers=HEADERS, timeout=120
            ).json()
    return time.perf_counter() - started, read


def report(lrs: LrsProcess, *extra: str) -> tuple[float, int]:
    """`python -m chalicelib report` as a user runs it: (seconds, statements it says it read)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LEARNER_", "SKILLS_"))}
    env.update(LRS_ENDPOINT=lrs.endpoint, LOG_LEVEL="WARNING")
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "chalicelib", "report", "--since", SINCE, "--until", UNTIL, *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"report failed ({child.returncode}): {child.stderr[-2000:]}")
    counts = re.findall(r"read ([\d,]+) statement\(s\)", child.stderr)
    return seconds, int(counts[-1].replace(",", ""))


def measure(lrs: LrsProcess, rounds: int, label: str, verbs: tuple[str, ...], *extra: str) -> None:
    results = []
    for _ in range(rounds):
        floor_s, floor_n = floor(lrs, verbs)
        report_s, report_n = report(lrs, *extra)
        results.append((floor_s / report_s, floor_s, report_s, floor_n, report_n))
    ratio, floor_s, report_s, paged, read = sorted(results)[len(results) // 2]
    print(f"  {label}")
    print(
        f"    floor    plain paging, {len(verbs)} verbs    {floor_s:7.2f} s  "
        f"{paged / floor_s:9,.0f} statements/s ({paged:,} statements)"
    )
    print(
        f"    report   chalicelib report {' '.join(extra):9}  {report_s:7.2f} s  "
        f"{read / report_s:9,.0f} statements/s ({read:,} statements)"
    )
    print(
        f"    RATIO    {ratio:.2f}x the floor (target >= 0.8); rounds "
        f"{' / '.join(f'{r[0]:.2f}' for r in results)}; report costs "
        f"{(report_s - floor_s) / paged * 1e6:.0f} us a statement over the floor"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--activities", type=int, default=4, help="extra completed courses a learner")
    parser.add_argument("--searches", type=int, default=2, help="searched statements a learner")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args(argv)
    history = organisation(args.learners, args.activities, args.searches, args.seed)
    default_verbs = (*credential_verbs(VOCAB), *v.ACTIVITY_VERBS)
    with LrsProcess() as lrs:
        started = time.perf_counter()
        load(lrs, history)
        print(
            f"report_throughput: {args.learners:,} learners, {len(history.statements):,} statements loaded in "
            f"{time.perf_counter() - started:.1f} s; page size {PAGE_SIZE}; {args.rounds} rounds, the median shown"
        )
        measure(lrs, args.rounds, "the five answers (defaults)", default_verbs)
        measure(lrs, args.rounds, "every answer (--add all)", (*default_verbs, *SEARCH_VERBS), "--add", "all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
