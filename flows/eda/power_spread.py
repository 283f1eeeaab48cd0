"""A power row's figures from its jobs' (``flows.eda.power_jobs.job_figures``): the total
energy per MAC, each job's, their spread, and the standard error of a ratio of two rows.

A row's headline figure is the whole row's energy over its MACs (the ratio of sums: what one
window of all its jobs would give, less the fill and drain the jobs would share); ``spread``
gives the jobs' own figures: their number, mean and sample standard deviation (n - 1).
"""

import math

from .breakdown import CATEGORIES


def spread(values):
    """``{"n", "mean", "std"}`` of ``values`` (sample standard deviation; 0 for one value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return {"n": n, "mean": round(mean, 4), "std": round(std, 4)}


def row_summary(parts, *, clock_ns):
    """A row's figures from its jobs' ``job_figures``: per MAC over all of them, each job's
    energy per MAC, and their ``spread``."""
    macs = sum(p["macs"] for p in parts)
    cycles = sum(p["cycles"] for p in parts)
    pj = 1e12 / macs
    total = {c: sum(p["dynamic_j"][c] for p in parts) for c in CATEGORIES}
    owners = sorted({k for p in parts for k in p["clock_by_owner_j"]})
    leak_w = sum(p["leakage_w"] for p in parts) / len(parts)   # the same netlist every time
    per_job = [round(sum(p["dynamic_j"].values()) * 1e12 / p["macs"], 4) for p in parts]
    return {
        "pj_per_mac": round(sum(total.values()) * pj, 4),
        "by_category_pj_per_mac": {c: round(total[c] * pj, 4) for c in CATEGORIES},
        "clock_by_owner_pj_per_mac": {
            k: round(sum(p["clock_by_owner_j"].get(k, 0.0) for p in parts) * pj, 4)
            for k in owners},
        "switching_pj_per_mac": round(sum(p["switching_j"] for p in parts) * pj, 4),
        "internal_pj_per_mac": round(sum(p["internal_j"] for p in parts) * pj, 4),
        "leakage_uw": round(leak_w * 1e6, 3),
        "leakage_pj_per_mac": round(leak_w * cycles * clock_ns * 1e-9 * pj, 4),
        "toggles": sum(p["toggles"] for p in parts),
        "per_job_pj_per_mac": per_job,
        "spread": spread(per_job),
    }


def ratio_error(num, den, *, paired=False):
    """The standard error of ``num["pj_per_mac"] / den["pj_per_mac"]`` from the two rows'
    per-job figures. ``paired`` (both rows replayed the same jobs, e.g. two arrays): the
    sd / sqrt(n) of the per-job ratios. Else each mean's relative standard error
    (sd / sqrt(n) / mean), the two added in quadrature (first order, the rows' jobs
    independent). ``None`` when a row has no per-job figures."""
    if paired:
        a, b = num.get("per_job_pj_per_mac"), den.get("per_job_pj_per_mac")
        if not a or not b or len(a) != len(b):
            return None
        s = spread([x / y for x, y in zip(a, b)])
        return round(s["std"] / math.sqrt(s["n"]), 3)
    rel = 0.0
    for row in (num, den):
        s = row.get("spread")
        if not s:
            return None
        rel += (s["std"] / math.sqrt(s["n"]) / s["mean"]) ** 2 if s["mean"] else 0.0
    return round(num["pj_per_mac"] / den["pj_per_mac"] * math.sqrt(rel), 3)
