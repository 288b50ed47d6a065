"""import-csv of a large Credly badge export: rows/s against a floor, and peak memory at two sizes.

    .venv/bin/python bench/csv_import.py [--rows 1000000] [--small 100000]

  import     `python -m chalicelib import-csv --platform credly FILE --no-deliver` as a child process:
             every row read, parsed by the Credly adapter, its statements built and validated (the
             check that keeps bad rows out of pages), and the good rows queued in pages of 500
             into the local SQLite outbox. It does NOT deliver to the LRS: a million rows is about
             1.5 million statements, which the test LRS on this machine takes at roughly 450-2,700
             statements/s (bench/backfill_throughput.py), so delivery would measure the LRS.
             Peak RSS of the child from wait4.
  floor      the same file read by a plain csv.reader in a child process (no parsing, no queue)
  RATIO      import rows/s over floor rows/s (what the work per row costs against merely reading it)
  memory     the import's peak RSS at --small and --rows rows: flat when rows are streamed

The export is generated into a temporary folder (about 300 bytes a row), deleted afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench")]

from credly_badges import EXPORT_HEADER, FIRST_NAMES, LAST_NAMES, TEMPLATES  # noqa: E402

STATES = ("Pending", "Accepted", "Pending", "Pending", "Rejected")
FLOOR = "import csv, sys\nn = sum(1 for _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\nprint(n)"


def write_export(path: Path, rows: int, seed: int = 5) -> None:
    """A Credly badge export of `rows` distinct badges, streamed to disk."""
    rng = random.Random(seed)
    templates = [(name, str(uuid.UUID(int=rng.getrandbits(128), version=4))) for name, *_ in TEMPLATES]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(EXPORT_HEADER)
        for i in range(rows):
            badge_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name, template_id = rng.choice(templates)
            issued = start + timedelta(seconds=rng.randrange(700 * 86400))
            expires = (issued + timedelta(days=1095)).date().isoformat() if i % 4 else ""
            writer.writerow(
                [
                    name,
                    template_id,
                    "Acme Corp",
                    badge_id,
                    f"E-{100000 + i}",
                    "",
                    f"https://www.credly.com/badges/{badge_id}",
                    first,
                    "",
                    last,
                    f"{first}.{last}.{i}@example.com",
                    STATES[i % len(STATES)],
                    "No",
                    issued.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    expires,
                ]
            )


def child(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, stdout) of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{argv[2:]} failed: {out[-500:]}")
    return seconds, usage.ru_maxrss // 1024, out


def run_import(path: Path, state: Path) -> tuple[float, int, dict]:
    env = {
        **os.environ,
        "STATE_PATH": str(state),
        "QUEUE_BACKEND": "local",
        "STATE_BACKEND": "sqlite",
        "LOG_LEVEL": "WARNING",
    }
    seconds, rss, out = child(
        [sys.executable, "-m", "chalicelib", "import-csv", "--platform", "credly", str(path), "--no-deliver", "--json"],
        env,
    )
    return seconds, rss, json.loads(out.strip().splitlines()[-1])


def measure(rows: int, folder: Path) -> dict:
    path = folder / f"credly-{rows}.csv"
    write_export(path, rows)
    floor_seconds, floor_rss, counted = child([sys.executable, "-c", FLOOR, str(path)], dict(os.environ))
    assert int(counted) == rows + 1
    seconds, rss, summary = run_import(path, folder / f"state-{rows}.sqlite")
    assert (summary["good"], summary["bad"]) == (rows, 0), summary
    result = {
        "rows": rows,
        "bytes": path.stat().st_size,
        "seconds": seconds,
        "rss_mb": rss,
        "rows_per_s": rows / seconds,
        "floor_seconds": floor_seconds,
        "floor_rows_per_s": rows / floor_seconds,
        "floor_rss_mb": floor_rss,
        "pages": summary["pages"],
    }
    path.unlink()
    (folder / f"state-{rows}.sqlite").unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    args = parser.parse_args()
    print(
        "import-csv --no-deliver: rows are read, checked and queued into the local outbox; not delivered to "
        "an LRS (delivery is measured by bench/backfill_throughput.py and bench/delivery_throughput.py)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for rows in (args.small, args.rows):
            r = measure(rows, Path(folder))
            print(
                f"{r['rows']:>9,} rows ({r['bytes'] / 1e6:,.0f} MB): import {r['seconds']:,.1f} s = "
                f"{r['rows_per_s']:,.0f} rows/s in {r['pages']:,} pages, peak RSS {r['rss_mb']} MB; floor "
                f"(csv.reader) {r['floor_seconds']:,.2f} s = {r['floor_rows_per_s']:,.0f} rows/s, "
                f"peak RSS {r['floor_rss_mb']} MB; RATIO {r['rows_per_s'] / r['floor_rows_per_s']:.3f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
