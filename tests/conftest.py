"""Shared pytest configuration for varimac's suite."""


def pytest_terminal_summary(terminalreporter):
    """The number of generated damage cases the fuzz tests ran (tests/damage.py)."""
    import sys
    damage = sys.modules.get("damage")
    if damage is not None and damage.CASES:
        terminalreporter.write_line(
            f"fuzz: {sum(damage.CASES.values())} generated damage cases in "
            f"{len(damage.CASES)} tests")
