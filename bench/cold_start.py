"""Cold start: `import app` against `import chalice, pydantic, requests`, in fresh interpreters.

    python bench/cold_start.py [--runs 15]

Every Lambda function of the app imports app.py, so whatever it imports is paid by each cold
start. The floor is the three packages the product cannot do without, imported in the same
run; the ratio is the figure to compare across machines (target: at most 1.3). Also reports
whether boto3 is loaded by `import app` (it must not be: only the AWS code paths load it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import time, sys; t = time.perf_counter(); {imports}; print(time.perf_counter() - t, 'boto3' in sys.modules)"


def measure(imports: str, runs: int) -> tuple[float, bool]:
    times, boto3_loaded = [], False
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(imports=imports)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        boto3_loaded |= out[1] == "True"
    return statistics.median(times), boto3_loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # Alternate the two so machine noise hits both alike; one warm-up each for the file cache.
    measure("import app", 1)
    measure("import chalice, pydantic, requests", 1)
    app_times, floor_times, boto3_loaded = [], [], False
    for _ in range(args.runs):
        t, loaded = measure("import app", 1)
        app_times.append(t)
        boto3_loaded |= loaded
        floor_times.append(measure("import chalice, pydantic, requests", 1)[0])
    app_median, floor_median = statistics.median(app_times), statistics.median(floor_times)
    print(f"cold_start: {args.runs} fresh interpreters each, {sys.executable}")
    print(f"  floor   import chalice, pydantic, requests   median {floor_median * 1000:7.1f} ms")
    print(f"  app     import app                           median {app_median * 1000:7.1f} ms")
    print(f"  RATIO   app / floor                          {app_median / floor_median:7.2f} x   (target <= 1.3)")
    print(f"  boto3 in sys.modules after import app: {boto3_loaded}")


if __name__ == "__main__":
    main()
