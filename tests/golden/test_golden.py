"""Every platform fixture translates to exactly its golden statement file (tests/golden/__init__.py says
how they are made; regenerate with `make golden` only for an intended change)."""

from __future__ import annotations

import pytest

from tests.golden import COMPANIONS, FIXTURES, GOLDEN, PLATFORMS, cases, difference, path_of


@pytest.mark.parametrize("name", cases())
def test_the_fixture_translates_to_its_golden_file(name):
    diff = difference(name)
    if diff:
        pytest.fail(
            f"the translation of tests/fixtures/{name}.json differs from its golden file; if the change is "
            f"intended, run `make golden` and commit the diff:\n{diff}",
            pytrace=False,
        )


def test_every_fixture_has_a_golden_file_or_says_where_its_content_goes():
    fixtures = {f"{p}/{path.stem}" for p in PLATFORMS for path in (FIXTURES / p).glob("*.json")}
    assert set(cases()) | set(COMPANIONS) == fixtures
    assert set(COMPANIONS) <= fixtures  # a companion that is gone would hide nothing, but mislead
    assert {path.relative_to(GOLDEN).with_suffix("").as_posix() for path in GOLDEN.glob("*/*.json")} == set(cases())
    assert all(path_of(name).exists() for name in cases())
