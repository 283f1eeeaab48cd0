"""Shared pytest configuration for varimac's suite.

No silent loss of coverage: a skipped test fails the run, unless its reason starts with
``OPTIONAL_EXTRA`` (a test that needs an optional extra; the README lists them: Icarus Verilog).
Everything the suite needs (simulators, liberty files, images) ships with the repository or
its dependencies, so a skip would only hide a broken installation.

The suite never writes into the user's cache (``~/.cache/varimac``): ``private_cache`` gives the
session its own ``$VARIMAC_CACHE``, and numba's compiled kernels go to build/numba, kept between
runs so that no run compiles them again. Shared helpers live in tests/support/.
"""

import pytest

from tests.support.paths import BUILD

OPTIONAL_EXTRA = "optional extra:"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """``$VARIMAC_CACHE`` of the whole session (subprocesses inherit it); a test of the cache's
    location sets its own with ``monkeypatch``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VARIMAC_CACHE", str(tmp_path_factory.mktemp("varimac-cache")))
        mp.setenv("NUMBA_CACHE_DIR", str(BUILD / "numba"))
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not reason.removeprefix("Skipped: ").startswith(OPTIONAL_EXTRA):
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} was skipped ({reason}): a skip hides coverage; "
                               f"install what it needs (tests/conftest.py)")


def pytest_terminal_summary(terminalreporter):
    """The number of generated damage cases the fuzz tests ran (tests/support/damage.py)."""
    import sys
    damage = sys.modules.get("tests.support.damage")
    if damage is not None and damage.CASES:
        terminalreporter.write_line(
            f"fuzz: {sum(damage.CASES.values())} generated damage cases in "
            f"{len(damage.CASES)} tests")
