"""The repository's folders as the tests see them, wherever a test module sits."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"                  # generated files (git-ignored), shared with the commands
TEST_DATA = REPO / "tests" / "data"     # small committed files the tests compare with
