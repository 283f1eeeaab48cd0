"""The accelerator's clock period, from one place: the power file.

Energy per MAC is measured by ``varimac power`` at one clock period (``clock_ns`` of
``power.json``: 10 ns by default, or the period the design meets with ``--timing``), so time is
counted at that same period: energy and time then describe one design at one clock.
"""


def period_ns(power):
    """``(period in ns, where it came from)``."""
    value = power.get("clock_ns") if isinstance(power, dict) else None
    source = "clock_ns of the power file (the period varimac power simulated at)"
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"clock period from {source} must be a positive number, not {value!r}")
    return float(value), source
