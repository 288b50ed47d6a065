"""Backfill of a large Credly organisation from the local fake (paged, 100 badges a page) into the
real local LRS, against the LRS's own ceiling; and the backfill's peak memory at two sizes.

    .venv/bin/python bench/backfill_throughput.py [--badges 100000] [--small 20000]

  backfill   `python -m chalicelib backfill credly` as a child process (QUEUE_BACKEND=local: it
             queues each page, then translates and delivers it), timed until it exits; its peak
             RSS from wait4
  ceiling    the same statements POSTed to a fresh LRS by a plain requests.Session, in batches of
             LRS_BATCH_SIZE (the LRS's own speed on this machine, in this run)
  RATIO      backfill statements/s over ceiling statements/s (target >= 0.8)
  memory     the backfill's peak RSS for --small and --badges badges: flat when the pages are
             streamed (target <= 150 MB, not growing with the number of badges)

The fake Credly runs in its own process, so its copy of the history is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools"), str(ROOT / "bench")]

from credly_badges import make_badges  # noqa: E402

from lrs_process import LrsProcess, free_port  # noqa: E402

ORG, TOKEN = "5d2a7f3c-1b9e-4c8d-a6f0-3e7b9c1d2f45", "bench-token"
BATCH = 50


def start_fake(badges_file: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    fake = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "fakes" / "credly_api.py"),
            "--port",
            str(port),
            "--org",
            ORG,
            "--token",
            TOKEN,
            "--badges-file",
            str(badges_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    fake.stdout.readline()  # "fake Credly API on ..." once every badge is loaded
    return fake, f"http://127.0.0.1:{port}/v1/"


def backfill(api_base: str, lrs: LrsProcess, state_dir: Path) -> dict:
    env = {
        **os.environ,
        "CREDLY_API_BASE": api_base,
        "CREDLY_ORG_ID": ORG,
        "CREDLY_TOKEN": TOKEN,
        "LRS_ENDPOINT": lrs.endpoint,
        "STATE_PATH": str(state_dir / "state.sqlite"),
        "QUEUE_BACKEND": "local",
        "STATE_BACKEND": "sqlite",
        "LRS_BATCH_SIZE": str(BATCH),
        "WORKER_BATCH_SIZE": "10",
        "LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "chalicelib", "backfill", "credly", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak_kb = 0
    while child.poll() is None:  # the high-water mark of the command itself
        peak_kb = max(peak_kb, high_water_kb(child.pid))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"backfill failed ({child.returncode}): {out}")
    return {"seconds": seconds, "rss_mb": peak_kb / 1024, **json.loads(out)}


def high_water_kb(pid: int) -> int:
    """VmHWM of a running process. Not wait4's ru_maxrss: that counts the memory the child had
    between fork and exec, a copy of this (large) benchmark process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # it has just exited
        return 0
    line = next((text for text in status.splitlines() if text.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1])


def translate(badges: list[dict]) -> list[dict]:
    from chalicelib.delivery.translation import Translator
    from chalicelib.settings import load_settings

    translator = Translator(load_settings({}))
    now = datetime.now(UTC)
    page = {"data": badges, "metadata": {}}
    return translator.translate("credly", page, now).statements


def ceiling(statements: list[dict], lrs: LrsProcess) -> float:
    session = requests.Session()
    headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    started = time.perf_counter()
    for start in range(0, len(statements), BATCH):
        answer = session.post(lrs.statements_url, data=json.dumps(statements[start : start + BATCH]), headers=headers)
        answer.raise_for_status()
    return time.perf_counter() - started


def missing(statements: list[dict], lrs: LrsProcess, sample: int = 1000) -> int:
    session = requests.Session()
    session.headers["X-Experience-API-Version"] = "1.0.3"
    picked = random.Random(1).sample(statements, min(sample, len(statements)))
    return sum(session.get(lrs.statements_url, params={"statementId": s["id"]}).status_code != 200 for s in picked)


def run(count: int, workdir: Path) -> tuple[dict, float, int]:
    badges = make_badges(
        count,
        seed=20261201,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        spread_days=700,
        expiry_days=(3650,),
        state="accepted",
    )
    statements = translate(badges)
    badges_file = workdir / f"badges-{count}.jsonl"
    with badges_file.open("w", encoding="utf-8") as out:
        for badge in badges:
            out.write(json.dumps(badge) + "\n")
    del badges
    fake, api_base = start_fake(badges_file)
    try:
        with LrsProcess() as lrs:
            state = workdir / f"state-{uuid.uuid4().hex[:6]}"
            state.mkdir()
            result = backfill(api_base, lrs, state)
            absent = missing(statements, lrs)
        with LrsProcess() as lrs:
            top = ceiling(statements, lrs)
    finally:
        fake.terminate()
        fake.wait()
    return result, top, absent if statements else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000, help="a smaller run, to show memory does not grow")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp:
        small, _, _ = run(args.small, Path(tmp))
        big, top, absent = run(args.badges, Path(tmp))
    statements = big["statements"]
    rate, top_rate = statements / big["seconds"], statements / top
    print(f"backfill_throughput: {args.badges:,} Credly badges, {big['pages']} pages of 100, LRS batch {BATCH}")
    print(
        f"  backfill   python -m chalicelib backfill credly  {big['seconds']:8.2f} s  {rate:9,.0f} statements/s "
        f"({statements:,} statements, {big['dead_letters']} dead letters)"
    )
    print(f"  ceiling    requests.Session POSTs            {top:8.2f} s  {top_rate:9,.0f} statements/s")
    print(f"  RATIO      backfill delivers at {rate / top_rate:.2f}x the LRS's own ceiling (target >= 0.8)")
    print(
        f"  memory     peak RSS {small['rss_mb']:.0f} MB for {args.small:,} badges, {big['rss_mb']:.0f} MB for "
        f"{args.badges:,} (target <= 150 MB, flat)"
    )
    print(f"  verify     {absent} of 1,000 sampled statement ids missing from the LRS")
    return 0 if absent == 0 and big["dead_letters"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
