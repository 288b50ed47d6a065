"""A pull of credentials already imported from a CSV export, against a pull into an empty LRS.

    .venv/bin/python bench/pull_after_import.py [--badges 5000]

The same generated Credly badges are served by the fake Credly API (tools/fakes/credly_api.py,
its own process) and written as Credly's badge export (bench/credly_badges.py export_row). Both
phases run the connector as child processes with the settings a user gets (QUEUE_BACKEND=local,
batch sizes unset), each against a fresh real LRS (tools/lrs_process.py) behind a proxy that
passes every request through and counts it:

  empty      `backfill credly` into the empty LRS: the floor
  import     `import-csv --platform credly EXPORT` into the other LRS: the export's statements
             (fewer facts than the API's: no skills, images or descriptions), untimed for the ratio
  pull       then `backfill credly` of the same badges, same state: every statement the import
             stored has the same id and other content. With the delivered-statement log (on by
             default with SQLite) the import's statements are not sent again: one look-up a batch
             shows the LRS still holds them. With DELIVERY_LOG=false in the environment, the LRS
             answers 409 to each batch carrying one, settled by a look-up per statement
  RATIO      pull seconds over empty seconds (target <= 1.2), with both phases' POSTs and GETs

The LRS holds the import's statements in the pull phase; the test LRS (memory mode) slows as it
fills, so part of the ratio is the LRS's own size, not the connector.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools"), str(ROOT / "bench")]

from backfill_throughput import ORG, TOKEN, start_fake  # noqa: E402
from credly_badges import EXPORT_HEADER, export_row, make_badges  # noqa: E402

from lrs_process import LrsProcess  # noqa: E402
from lrs_proxy import Answer, LrsProxy, Seen  # noqa: E402


class CountingProxy(LrsProxy):
    """Passes everything through on kept-alive connections (one session a proxy thread), counting."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream, oldest_first=False, ignored=(), about=True)
        self._sessions = threading.local()
        # Its answers are written as headers, then body: with Nagle on, a kept-alive client waits
        # for its own delayed ACK (~40 ms) on every answer, which would be the proxy's cost, not the LRS's.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True

    def handle(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(Seen(seen.method, seen.path, {}, {}, b""))  # the method is what is counted
        return self._forward(seen)

    def _forward(self, seen: Seen) -> Answer:
        session = getattr(self._sessions, "session", None) or requests.Session()
        self._sessions.session = session
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        answer = session.request(
            seen.method,
            self.origin + seen.path,
            params=seen.query,
            headers=headers,
            data=seen.body or None,
            allow_redirects=False,
            timeout=60,
        )
        dropped = ("connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding")
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in dropped]
        return Answer(answer.status_code, kept, answer.content)

    def counts(self) -> Counter:
        with self._lock:
            counted = Counter(seen.method for seen in self.seen)
            self.seen.clear()
        return counted


def connector(argv: list[str], env: dict[str, str]) -> tuple[float, dict]:
    """Seconds and the --json summary of `python -m chalicelib ARGV`."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "chalicelib", *argv, "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({child.returncode}): {child.stdout[-500:]}")
    return seconds, json.loads(child.stdout.strip().splitlines()[-1])


def environment(api_base: str, endpoint: str, state: Path) -> dict[str, str]:
    unset = ("LRS_BATCH_SIZE", "WORKER_BATCH_SIZE")  # the defaults a user gets
    return {
        **{k: v for k, v in os.environ.items() if k not in unset},
        "CREDLY_API_BASE": api_base,
        "CREDLY_ORG_ID": ORG,
        "CREDLY_TOKEN": TOKEN,
        "LRS_ENDPOINT": endpoint,
        "STATE_PATH": str(state),
        "QUEUE_BACKEND": "local",
        "STATE_BACKEND": "sqlite",
        "LOG_LEVEL": "WARNING",
    }


def phase(api_base: str, workdir: Path, name: str, export: Path | None) -> dict:
    """A backfill into a fresh LRS, after importing `export` into it first when given."""
    result: dict = {}
    with LrsProcess() as lrs, CountingProxy(lrs.endpoint) as proxy:
        env = environment(api_base, proxy.endpoint, workdir / f"{name}.sqlite")
        if export is not None:
            importing = ["import-csv", "--platform", "credly", str(export)]
            result["import_seconds"], result["import"] = connector(importing, env)
            result["import_requests"] = proxy.counts()
        result["seconds"], result["pull"] = connector(["backfill", "credly"], env)
        result["requests"] = proxy.counts()
    return result


def describe(requests_made: Counter) -> str:
    return f"{requests_made['POST']:,} POSTs, {requests_made['GET']:,} GETs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=5_000, help="credentials: export rows and API badges")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args(argv)
    badges = make_badges(
        args.badges,
        seed=args.seed,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        spread_days=700,
        expiry_days=(3650,),
        state="accepted",
    )
    with tempfile.TemporaryDirectory(prefix="pull-after-import-") as tmp:
        workdir = Path(tmp)
        served, export = workdir / "badges.jsonl", workdir / "export.csv"
        served.write_text("".join(json.dumps(badge) + "\n" for badge in badges), encoding="utf-8")
        with export.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(EXPORT_HEADER)
            writer.writerows(export_row(badge) for badge in badges)
        fake, api_base = start_fake(served)
        try:
            empty = phase(api_base, workdir, "empty", None)
            after = phase(api_base, workdir, "after-import", export)
        finally:
            fake.terminate()
            fake.wait()
    imported, pulled, floor = after["import"], after["pull"], empty["pull"]
    print(
        f"pull_after_import: {args.badges:,} Credly badges, pulled with `backfill credly` (the defaults a user "
        f"gets), each phase on a fresh LRS behind a counting proxy"
    )
    print(
        f"  empty      backfill into an empty LRS         {empty['seconds']:8.2f} s  {describe(empty['requests'])}; "
        f"delivered {floor.get('delivered', 0):,}, already stored {floor.get('already_stored', 0):,}"
    )
    print(
        f"  import     import-csv of the export           {after['import_seconds']:8.2f} s  "
        f"{describe(after['import_requests'])}; delivered {imported.get('delivered', 0):,}"
    )
    print(
        f"  pull       backfill after the import          {after['seconds']:8.2f} s  {describe(after['requests'])}; "
        f"delivered {pulled.get('delivered', 0):,}, already stored {pulled.get('already_stored', 0):,}, "
        f"dead letters {pulled.get('dead_letters', 0)}"
    )
    print(
        f"RATIO pull after import / pull into an empty LRS: {after['seconds'] / empty['seconds']:.2f}x "
        f"(target <= 1.2); POSTs {after['requests']['POST'] / max(1, empty['requests']['POST']):.2f}x"
    )
    same = pulled.get("delivered", 0) + pulled.get("already_stored", 0) == floor.get("delivered", 0)
    print(f"  verify     {'OK' if same else 'MISMATCH'}: the pull settled as many statements as the empty LRS took")
    return 0


if __name__ == "__main__":
    sys.exit(main())
