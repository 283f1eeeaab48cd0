"""The accelerator's clock period, from one place.

``results/timing/timing.json`` (``varimac timing``: the period the design meets) when it exists,
else the period the power flow simulated at (``clock_ns`` of ``power.json``).
"""

import json
import os

TIMING = os.path.join("results", "timing", "timing.json")


def period_ns(power, *, timing_path=TIMING):
    """``(period in ns, where it came from)``."""
    if timing_path and os.path.exists(timing_path):
        try:
            with open(timing_path) as f:
                value = json.load(f)["period_ns"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{timing_path}: no period_ns ({exc})") from None
        source = f"period_ns of {timing_path}"
    else:
        value = power.get("clock_ns") if isinstance(power, dict) else None
        source = "clock_ns of the power file (the period varimac power simulated at)"
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"clock period from {source} must be a positive number, not {value!r}")
    return float(value), source
