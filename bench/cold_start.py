"""Cold start: `import app` against `import chalice, pydantic, requests`, in fresh interpreters.

    python bench/cold_start.py [--runs 15] [--top 15] [--importtime]

Every Lambda function of the app imports app.py, so whatever it imports is paid by each cold
start. The floor is the three packages the product cannot do without, imported in the same
run; the ratio is the figure to compare across machines (target: at most 1.3). Also reports
whether boto3 is loaded by `import app` (it must not be: only the AWS code paths load it).
When the ratio is over the target (or with --importtime), `python -X importtime -c "import app"`
lists the imports that cost the most, cumulative, so the culprit is one look away.
For information it also times what the first webhook of a fresh AWS container imports lazily on
top of app.py (settings, intake, the SQS/DynamoDB code and boto3): the import part of its latency.
Prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3
APP = "import app"
FLOOR = "import chalice, pydantic, requests"
# Not part of the ratio: what the first webhook on a fresh AWS container imports on top of app.py
# (lazily, inside the route): settings and intake, then boto3 for its SQS send and DynamoDB claim.
FIRST_WEBHOOK = (
    "import app, chalicelib.runtime, chalicelib.intake.webhooks, chalicelib.queue.sqs, chalicelib.store.dynamodb, boto3"
)
PROBE = "import time, sys; t = time.perf_counter(); {imports}; print(time.perf_counter() - t, 'boto3' in sys.modules)"


def measure_once(imports: str) -> tuple[float, bool]:
    """Seconds to run `imports` in a fresh interpreter (started in the repo root), and boto3's presence."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), out[1] == "True"


def top_imports(imports: str, top: int) -> list[tuple[int, int, str]]:
    """(cumulative us, self us, module) of the costliest imports, from -X importtime."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", imports], cwd=ROOT, capture_output=True, text=True, check=True
    ).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|", 2))
        rows.append((int(cumulative_us), int(self_us), name))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per measurement (median)")
    parser.add_argument("--top", type=int, default=15, help="imports listed by -X importtime")
    parser.add_argument("--importtime", action="store_true", help="list the top imports even under the target")
    args = parser.parse_args()

    # One warm-up each for the file cache, then alternate the two so machine noise hits both alike.
    measure_once(APP)
    measure_once(FLOOR)
    app_times, floor_times, boto3_loaded = [], [], False
    for _ in range(args.runs):
        seconds, loaded = measure_once(APP)
        app_times.append(seconds)
        boto3_loaded |= loaded
        floor_times.append(measure_once(FLOOR)[0])
    app_median, floor_median = statistics.median(app_times), statistics.median(floor_times)
    first_webhook = statistics.median(measure_once(FIRST_WEBHOOK)[0] for _ in range(max(3, args.runs // 3)))
    ratio = app_median / floor_median

    print(f"cold_start: {args.runs} fresh interpreters each, alternating, {sys.executable}")
    print(
        f"  floor   {FLOOR:<38} median {floor_median * 1000:7.1f} ms"
        f"  (min {min(floor_times) * 1000:.1f}, max {max(floor_times) * 1000:.1f})"
    )
    print(
        f"  app     {APP:<38} median {app_median * 1000:7.1f} ms"
        f"  (min {min(app_times) * 1000:.1f}, max {max(app_times) * 1000:.1f})"
    )
    print(f"  RATIO   app / floor{'':<27} {ratio:7.2f} x   (target <= {TARGET})")
    print(f"  boto3 in sys.modules after import app: {boto3_loaded}   (must be False)")
    print(
        f"  info    first webhook's imports (app + intake + SQS/DynamoDB code + boto3)"
        f" median {first_webhook * 1000:.1f} ms = {first_webhook / floor_median:.2f} x floor"
    )

    if ratio > TARGET or args.importtime:
        print(f"  top {args.top} imports of `{APP}` by cumulative time (python -X importtime, one run):")
        print(f"    {'cumulative':>10} {'self':>8}  module")
        for cumulative_us, self_us, name in top_imports(APP, args.top):
            print(f"    {cumulative_us / 1000:8.1f}ms {self_us / 1000:6.1f}ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
