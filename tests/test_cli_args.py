"""A time or a deadline the command line cannot use is a usage error naming its own option, in
one line, exit 2: never another option's name, never a traceback."""

from __future__ import annotations

import pytest

from chalicelib.cli import main
from tests.support.paths import REPO

pytestmark = pytest.mark.hostile


@pytest.mark.parametrize(
    "args, option",
    [
        (["backfill", "credly", "--since", "garbage"], "--since"),
        (["reconcile", "credly", "--since", "31/12/2026"], "--since"),
        (["rules", "check", "--since", "soon"], "--since"),
        (["expire", "--as-of", "tomorrow"], "--as-of"),
        (["sync", "credly", "--deadline", "0"], "--deadline"),
        (["import-csv", "--platform", "credly", "x.csv", "--deadline", "forever"], "--deadline"),
    ],
)
def test_a_bad_option_value_is_named_by_its_own_option(args, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert f"error: argument {option}: " in line, line
    others = {"--since", "--as-of", "--deadline"} - {option}
    assert not any(other in line for other in others), line


def test_output_read_only_in_part_ends_quietly(tmp_path):
    """`... | head -1`: the reader stops early; the command ends without a traceback."""
    import os
    import subprocess
    import sys

    root = REPO
    env = {**os.environ, "STATE_PATH": str(tmp_path / "state.sqlite"), "PYTHONPATH": str(root)}
    done = subprocess.run(
        f"{sys.executable} -m chalicelib status --json | head -c 1",
        shell=True,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        executable="/bin/bash",
    )
    assert done.stdout == "{" and "Traceback" not in done.stderr, done.stderr
