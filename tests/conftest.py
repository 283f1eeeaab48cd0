"""Shared pytest configuration for varimac's suite.

No silent loss of coverage: a skipped test fails the run, unless its reason starts with
``OPTIONAL_EXTRA`` (a test that needs an optional extra; the README lists them: Icarus Verilog).
Everything the suite needs (simulators, liberty files, images) ships with the repository or
its dependencies, so a skip would only hide a broken installation.
"""

import pytest

OPTIONAL_EXTRA = "optional extra:"


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
    """The number of generated damage cases the fuzz tests ran (tests/damage.py)."""
    import sys
    damage = sys.modules.get("damage")
    if damage is not None and damage.CASES:
        terminalreporter.write_line(
            f"fuzz: {sum(damage.CASES.values())} generated damage cases in "
            f"{len(damage.CASES)} tests")
