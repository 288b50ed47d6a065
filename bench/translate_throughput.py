"""Credly list page -> xAPI statements: throughput against a json.loads floor.

    python bench/translate_throughput.py [--badges 20000] [--seed 20261120] [--keep DIR]

Generates N distinct Credly badges from tests/fixtures/credly/badges_page_1.json (fixed seed),
writes them as one list document, then measures in the same run:

  floor     json.loads of the document's text (best of --floor-repeats)
  in-proc   Translator.translate("credly", document, as_of=AS_OF), translator built once,
            start-up excluded (best of --repeats); then once more under tracemalloc for the peak
  gc off    floor and in-proc again with the cyclic GC disabled: a diagnostic, since with a
            large live heap the full (generation 2) collections are a big share of the time
  CLI       python -m chalicelib translate --source credly --as-of AS_OF FILE, once on the
            N-badge file and once on a 1-badge file; (big - small) is the CLI's cost with
            interpreter/import start-up subtracted; maxrss of each child from wait4

Prints figures, never pass/fail; exits 0. Ratios (translation time / json.loads time) are the
numbers to compare across machines, since the floor is measured on the same machine and run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import credly_badges  # noqa: E402  (bench/ is on sys.path when run as a script)

from chalicelib.delivery.translation import Translator  # noqa: E402
from chalicelib.settings import Settings, load_settings  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "credly" / "badges_page_1.json"
AS_OF = datetime(2028, 6, 1, tzinfo=UTC)
AS_OF_TEXT = "2028-06-01T00:00:00Z"
# Settings used both in-process and (as environment variables) by the CLI child.
SETTINGS_ENV = {"IDENTITY_IFI": "mbox", "LRS_XAPI_VERSION": "1.0.3", "REVOCATION_POLICY": "both"}


def make_badges(count: int, seed: int) -> list[dict]:
    """Issued 2025-2027; a quarter never expire, the rest 1-3 years after issue, some before
    AS_OF (so those also give an "expired" statement)."""
    return credly_badges.make_badges(
        count, seed, start=datetime(2025, 1, 1, tzinfo=UTC), spread_days=3 * 365, expiry_days=(365, 730, 1095)
    )


def list_document(badges: list[dict]) -> dict:
    return {
        "data": badges,
        "metadata": {
            "count": len(badges),
            "current_page": 1,
            "total_count": len(badges),
            "total_pages": 1,
            "per": len(badges),
            "previous_page_url": None,
            "next_page_url": None,
        },
    }


def best_of(repeats: int, fn, gc_enabled: bool = True) -> tuple[float, object]:
    """Best wall time of `repeats` calls; the previous result is dropped before each call so
    every run starts from the same heap (a larger live heap makes the cyclic GC costlier)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None
        gc.collect()
        if not gc_enabled:
            gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best, result


def child_env() -> dict[str, str]:
    """This environment less any connector setting, plus SETTINGS_ENV: same settings as in-process."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(SETTINGS_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# Runs each CLI child and reports its wall time and its own max RSS. It is a fresh, small
# interpreter: a child forked straight from this (large) process would have this process's RSS
# counted in its ru_maxrss (Linux carries the forking mm's high-water mark across exec).
LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out, open(job["err"], "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(job["argv"], cwd=job["cwd"], env=job["env"], stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"seconds": elapsed, "maxrss_kib": usage.ru_maxrss,
                      "returncode": proc.returncode}), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, argv: list[str], out: Path, err: Path) -> dict:
        job = {"argv": argv, "cwd": str(ROOT), "env": child_env(), "out": str(out), "err": str(err)}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def run_cli(launcher: Launcher, path: Path, out_dir: Path) -> tuple[float, int, int]:
    """Wall seconds, max RSS in KiB (wait4 of this child alone), statements printed."""
    command = [sys.executable, "-m", "chalicelib", "translate", "--source", "credly", "--as-of", AS_OF_TEXT, str(path)]
    out_path = out_dir / (path.stem + ".out.json")
    err_path = out_dir / (path.stem + ".err.txt")
    report = launcher.run(command, out_path, err_path)
    if report["returncode"] != 0:
        raise SystemExit(f"CLI failed ({report['returncode']}): {err_path.read_text(errors='replace')}")
    count = len(json.loads(out_path.read_text(encoding="utf-8")))
    return report["seconds"], report["maxrss_kib"], count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--badges", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--repeats", type=int, default=3, help="in-process repeats (best of)")
    parser.add_argument("--floor-repeats", type=int, default=7, help="json.loads repeats (best of)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI subprocess runs")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the generated documents and CLI output here instead of a temp dir",
    )
    args = parser.parse_args(argv)
    n = args.badges
    launcher = None if args.no_cli else Launcher()  # before this process grows

    t0 = time.perf_counter()
    badges = make_badges(n, args.seed)
    gen_seconds = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="bench-translate-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        big = work / f"credly_{n}.json"
        small = work / "credly_1.json"
        big.write_text(json.dumps(list_document(badges)), encoding="utf-8")
        small.write_text(json.dumps(list_document(badges[:1])), encoding="utf-8")
        text = big.read_text(encoding="utf-8")
        del badges

        # Floor: plain parsing of the same bytes.
        floor_nogc, _ = best_of(args.floor_repeats, lambda: json.loads(text), gc_enabled=False)
        floor, document = best_of(args.floor_repeats, lambda: json.loads(text))

        # In-process: translator built once; parse + identity + build + validate per badge.
        translator = Translator(load_settings(SETTINGS_ENV))
        translator.translate("credly", list_document(document["data"][:1]), as_of=AS_OF)  # warm
        translate_seconds, result = best_of(args.repeats, lambda: translator.translate("credly", document, as_of=AS_OF))
        statements = len(result.statements)
        events = len(result.events)
        expired = sum(1 for s in result.statements if s["verb"]["id"].endswith("/expired"))
        del result
        # Diagnostic: the same with the cyclic GC off (statements and events are acyclic).
        translate_nogc, _ = best_of(
            args.repeats, lambda: translator.translate("credly", document, as_of=AS_OF), gc_enabled=False
        )

        gc.collect()
        tracemalloc.start()
        traced = translator.translate("credly", document, as_of=AS_OF)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del traced

        cli = None
        if not args.no_cli:
            small_s, small_rss, small_count = run_cli(launcher, small, work)
            big_s, big_rss, big_count = run_cli(launcher, big, work)
            launcher.close()
            cli = (small_s, small_rss, small_count, big_s, big_rss, big_count)

    mib = 1024 * 1024
    print(
        f"translate_throughput: {n} Credly badges in one list document "
        f"({len(text) / mib:.1f} MiB), seed {args.seed}, as_of {AS_OF_TEXT}"
    )
    print(f"  python {sys.version.split()[0]}, generated in {gen_seconds:.2f} s")
    print(f"  output: {events} events -> {statements} statements ({expired} 'expired')")
    print(
        f"  floor    json.loads            {floor * 1000:9.1f} ms  {n / floor:12,.0f} badges/s"
        f"   (best of {args.floor_repeats})"
    )
    print(
        f"  in-proc  Translator.translate  {translate_seconds * 1000:9.1f} ms  "
        f"{statements / translate_seconds:12,.0f} statements/s"
        f"   ({n / translate_seconds:,.0f} badges/s, "
        f"{translate_seconds / n * 1e6:.1f} us/badge, best of {args.repeats})"
    )
    print(f"  RATIO    in-proc / json.loads  {translate_seconds / floor:9.1f} x")
    print(
        f"  gc off   json.loads {floor_nogc * 1000:.1f} ms, translate {translate_nogc * 1000:.1f} ms "
        f"({statements / translate_nogc:,.0f} statements/s), ratio {translate_nogc / floor_nogc:.1f} x"
        f"   (diagnostic: share of the cyclic GC)"
    )
    print(f"  memory   in-proc tracemalloc peak {traced_peak / mib:8.1f} MiB (document already parsed: not counted)")
    if cli:
        small_s, small_rss, small_count, big_s, big_rss, big_count = cli
        net = big_s - small_s
        print(
            f"  CLI      1 badge (start-up)    {small_s * 1000:9.1f} ms   "
            f"maxrss {small_rss / 1024:7.1f} MiB  ({small_count} statement(s))"
        )
        print(
            f"  CLI      {n} badges         {big_s * 1000:9.1f} ms   "
            f"maxrss {big_rss / 1024:7.1f} MiB  ({big_count} statements)"
        )
        if net > 0:
            print(
                f"  CLI      minus start-up        {net * 1000:9.1f} ms  "
                f"{(big_count - small_count) / net:12,.0f} statements/s   (read + json.loads + "
                "translate + json.dump, run once)"
            )
            print(f"  RATIO    CLI net / json.loads  {net / floor:9.1f} x")
        if big_count != statements:
            print(f"  note: CLI printed {big_count} statements, in-process gave {statements}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
