"""python -m tests.golden [--update]: compare (or rewrite) the golden statement files."""

from __future__ import annotations

import argparse
import sys

from . import cases, difference, update


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__)
    parser.add_argument(
        "--update",
        action="store_true",
        help="rewrite the golden files from today's translation (only for an intended change)",
    )
    if parser.parse_args().update:
        for name in update():
            print(f"updated {name}")
        return 0
    differences = [d for d in map(difference, cases()) if d]
    sys.stdout.write("".join(differences))
    print(f"{len(differences)} of {len(cases())} golden files differ", file=sys.stderr)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
