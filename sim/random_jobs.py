"""Jobs for volume verification: corner cases, then random jobs over every width combination.

Random jobs cycle through every (a_width, b_width, out_width) × rounding combination of the
configuration, with M, N up to 4× the array and K up to 4× its larger side (never above
``max_k``); one in eight has extreme operands (only the format's minimum, maximum, 0 and ±1).
``edge_items`` adds each configuration's range edges: the commands the array must refuse
(``JobError``) and the accepted jobs right at the limits.
"""

import itertools

import numpy as np

from golden import GemmJob
from hw.job_check import JobError
from hw.layouts import DIM_FIELD_BITS

from . import host, scenarios

LONG_K = 1 << 16    # a job with a longer K takes too long to simulate as an edge case


def _extreme(rng, shape, width):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    return rng.choice(np.array([lo, hi, 0, -1, 1, lo, hi]), size=shape)


def random_job(config, rng, *, a_width, b_width, out_width, rounding):
    c = config
    m = int(rng.integers(1, 4 * c.rows + 1))
    n = int(rng.integers(1, 4 * c.cols + 1))
    k = int(rng.integers(1, min(c.max_k, 4 * max(c.rows, c.cols)) + 1))
    job = scenarios.random_job(c, rng, a_width=a_width, b_width=b_width, out_width=out_width,
                               rounding=rounding, m=m, k=k, n=n)
    if rng.random() < 0.125:
        job = GemmJob(a=_extreme(rng, (m, k), a_width), b=_extreme(rng, (k, n), b_width),
                      **job.scalars())
    return job


def corner_jobs(config, *, seed=2):
    """Named corner cases: ``scenarios.corner_jobs`` (extremes, saturation, zeros, K = 1 and
    K = max_k, M and N off the array's multiples, the shift's ends) and, at every width, the
    most negative operands everywhere and an all-zero job; those the array cannot run (a K or
    shift outside a small configuration's range) are left out."""
    c = config
    # K = max_k corners, up to LONG_K (beyond, only the command's K is tested: edge_items).
    capped = type(c)(**{**c.params(), "max_k": min(c.max_k, LONG_K)})
    jobs = dict(scenarios.corner_jobs(capped, seed=seed))
    for w in c.widths:
        lo = -(1 << (w - 1))
        k = min(c.max_k, 3)
        jobs[f"min_x_min_w{w}"] = GemmJob(
            a=np.full((c.rows + 1, k), lo), b=np.full((k, c.cols + 1), lo), a_width=w, a_frac=0,
            b_width=w, b_frac=0, out_width=w, out_frac=0)
        jobs[f"zeros_w{w}"] = GemmJob(
            a=np.zeros((2, k), np.int64), b=np.zeros((k, 2), np.int64), a_width=w, a_frac=0,
            b_width=w, b_frac=0, out_width=w, out_frac=0, rounding=1, seed=3)
    return {name: job for name, job in jobs.items() if _runs(c, job)}


def _runs(config, job):
    try:
        host.check_job(config, job)
    except ValueError:
        return False
    return True


def random_jobs(config, count, *, seed=0):
    """``count`` jobs: the corner cases first (as many as fit), then random jobs."""
    rng = np.random.default_rng(seed)
    jobs = list(corner_jobs(config, seed=seed + 1).values())[:count]
    combos = list(itertools.product(config.widths, config.widths, config.widths, (0, 1)))
    order = rng.permutation(len(combos))
    for i in range(count - len(jobs)):
        wa, wb, wo, r = combos[order[i % len(combos)]]
        jobs.append(random_job(config, rng, a_width=wa, b_width=wb, out_width=wo, rounding=r))
    return jobs


def edge_items(config):
    """``[(name, item, expected JobError)]`` at the edges of ``config``'s ranges; an item is a
    job, or ``(job, overrides)`` for a command no contract job can express (K = 0, M = 0)."""
    c = config
    w = c.max_width
    ones = np.ones((1, 1), np.int64)
    edges = []
    for name, job, over, err in scenarios.invalid_commands(c):
        if name == "k_above_max_k" and c.max_k > LONG_K:     # the command alone says K
            job, over = scenarios._job(ones, ones, w), {"k": c.max_k + 1}
        if any(v >= 1 << DIM_FIELD_BITS for v in over.values()):
            continue            # no command can say it: the field is too narrow
        edges.append((name, (job, over) if over else job, err))
    accepted = {
        "shift_at_min": scenarios._job(ones, ones, w, shift=c.min_shift),
        "shift_at_max": scenarios._job(ones, ones, w, shift=c.max_shift),
        "narrowest_width": scenarios._job(ones, ones, min(c.widths)),
    }
    if c.max_k <= LONG_K:
        accepted["k_at_max_k"] = scenarios._job(np.ones((1, c.max_k), np.int64),
                                                np.ones((c.max_k, 1), np.int64), w, shift=0)
    if c.max_dim <= 1024:       # a job that long is cheap only for a small max_dim
        accepted["m_at_max_dim"] = scenarios._job(np.ones((c.max_dim, 1), np.int64), ones, w)
    edges += [(name, job, JobError.NONE) for name, job in accepted.items()]
    return edges


def host_refuses(config, item):
    """What the host side (``host.check_job``, and the contract for K = 0 or M = 0) says."""
    job, overrides = item if isinstance(item, tuple) else (item, {})
    if any(overrides.get(d, 1) == 0 for d in ("m", "k", "n")):
        return "the contract has no empty job"
    if max(overrides.get("m", 0), overrides.get("n", 0)) > config.max_dim:
        return f"M or N above max_dim = {config.max_dim}"
    if overrides.get("k", 0) > config.max_k:
        return f"K above max_k = {config.max_k}"
    try:
        host.check_job(config, job)
    except ValueError as exc:
        return str(exc)
    return None

