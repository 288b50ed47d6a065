"""Where the repository and the test fixtures are, whatever folder a test module sits in."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO / "tests" / "fixtures"
