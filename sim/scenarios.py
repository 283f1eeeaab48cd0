"""The regression's jobs, generated from an ``AccelConfig`` (the same lists drive amaranth.sim
unit tests and the cocotb regression on the Verilog).

Every generator is deterministic in its ``seed``. Jobs are contract ``GemmJob``s; invalid
commands are ``(job, overrides, JobError)`` triples for ``host.command``.
"""

import itertools

import numpy as np

from golden import GemmJob
from golden.formats import FRAC_LIMIT
from hw.job_check import JobError


def _operand(rng, shape, width, *, spread=1.0):
    """Random integers of ``width`` bits; ``spread`` < 1 narrows them, to make small sums."""
    hi = max(1, int((1 << (width - 1)) * spread))
    return rng.integers(-hi, hi, size=shape).clip(-(1 << width - 1), (1 << width - 1) - 1)


def random_job(config, rng, *, a_width, b_width, out_width, rounding, m=None, k=None, n=None,
               spread=None, jitter=3):
    """A random job whose shift makes some outputs saturate and some round to zero."""
    c = config
    m = m or int(rng.integers(1, 2 * c.rows + 2))
    n = n or int(rng.integers(1, 2 * c.cols + 2))
    k = k or int(rng.integers(1, min(c.max_k, 3 * c.rows) + 1))
    a = _operand(rng, (m, k), a_width, spread=spread or float(rng.choice([1.0, 0.3, 0.02])))
    b = _operand(rng, (k, n), b_width, spread=spread or float(rng.choice([1.0, 0.3, 0.02])))
    # Centre the shift on where |acc| lands in the output range, then jitter it.
    acc_bits = a_width + b_width - 2 + max(k, 1).bit_length() // 2
    shift = acc_bits - out_width + 1 + int(rng.integers(-jitter, jitter + 1))
    shift = int(np.clip(shift, c.min_shift, c.max_shift))
    a_frac = int(rng.integers(-4, a_width + 4))
    b_frac = int(rng.integers(-4, b_width + 4))
    return GemmJob(a=a, b=b, a_width=a_width, a_frac=a_frac, b_width=b_width, b_frac=b_frac,
                   out_width=out_width, out_frac=a_frac + b_frac - shift, rounding=rounding,
                   seed=int(rng.integers(0, 1 << 32)))


def width_jobs(config, *, seed=1, per_combination=1):
    """Every (a, b, out) width combination × both roundings, on random shapes."""
    rng = np.random.default_rng(seed)
    return [random_job(config, rng, a_width=wa, b_width=wb, out_width=wo, rounding=r)
            for wa, wb, wo in itertools.product(config.widths, repeat=3)
            for r in (0, 1) for _ in range(per_combination)]


def _job(a, b, width, *, out_width=None, shift=0, rounding=0, seed=0):
    """A job with a_frac + b_frac - out_frac = ``shift``: b_frac = shift, or, past the
    contract's ±FRAC_LIMIT, the shift spread over all three fractions."""
    out_width = out_width or width
    b_frac = int(np.clip(shift, -FRAC_LIMIT, FRAC_LIMIT))
    a_frac = int(np.clip(shift - b_frac, -FRAC_LIMIT, FRAC_LIMIT))
    return GemmJob(a=np.asarray(a), b=np.asarray(b), a_width=width, a_frac=a_frac,
                   b_width=width, b_frac=b_frac, out_width=out_width,
                   out_frac=a_frac + b_frac - shift, rounding=rounding, seed=seed)


def corner_jobs(config, *, seed=2):
    """Named corner cases: extremes of the operands, the shapes and the shift range."""
    c = config
    rng = np.random.default_rng(seed)
    w = c.max_width
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    r, q = c.rows, c.cols
    full = min(c.max_k, 64)
    jobs = {
        # The largest accumulator: K = max_k products of (most negative)^2.
        "min_x_min_max_k": _job(np.full((1, c.max_k), lo), np.full((c.max_k, 1), lo), w,
                                shift=c.max_shift),
        "min_x_min": _job(np.full((r + 1, full), lo), np.full((full, q + 1), lo), w,
                          shift=min(c.max_shift, 2 * w - 2)),
        "all_max": _job(np.full((r, full), hi), np.full((full, q), hi), w, shift=w - 1),
        "min_x_max_stochastic": _job(np.full((r, 3), lo), np.full((3, q), hi), w,
                                     shift=w - 1, rounding=1, seed=99),
        "k1": random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=1, k=1),
        "k1_many_tiles": random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=0,
                                    m=3 * r, n=3 * q, k=1),
        "k_max": random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=1,
                            m=1, n=q + 1, k=c.max_k),
        "ragged_m_n": random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=0,
                                 m=2 * r + 1, n=q + 1),
        "single_output": random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=1,
                                    m=1, n=1),
        "zeros": _job(np.zeros((r + 1, 5), np.int64), np.zeros((5, q + 2), np.int64), w,
                      shift=3, rounding=1, seed=5),
        "ties_nearest_even": _job(rng.integers(-8, 8, (r + 1, 4)).clip(lo, hi),
                                  rng.integers(-8, 8, (4, q + 1)).clip(lo, hi), w, shift=2),
        "min_shift": _job(rng.integers(-3, 4, (r, 4)).clip(lo, hi),
                          rng.integers(-3, 4, (4, q)).clip(lo, hi), w, shift=c.min_shift),
        "max_shift_stochastic": _job(np.full((r, 4), hi), np.full((4, q), hi), w,
                                     shift=c.max_shift, rounding=1, seed=7),
        "narrowest": random_job(c, rng, a_width=min(c.widths), b_width=min(c.widths),
                                out_width=min(c.widths), rounding=1),
    }
    # Packed beats (AccelConfig.pack): the largest beat sums, and a K that leaves the last
    # beat partly empty.
    n0 = min(c.widths)
    lo0 = -(1 << (n0 - 1))
    jobs["narrow_min_x_min_max_k"] = _job(np.full((r, c.max_k), lo0), np.full((c.max_k, 1), lo0),
                                          n0, shift=min(c.max_shift, 2 * n0))
    jobs["narrow_ragged_k"] = random_job(c, rng, a_width=n0, b_width=n0, out_width=n0,
                                         rounding=0, m=r + 1, n=q + 1,
                                         k=c.pack(n0, n0)[0] + 1)
    return jobs


def format_change_jobs(config, *, seed=3, count=12):
    """Consecutive jobs whose widths, formats and rounding all change (run without reset);
    every wide job is followed by a narrow one and back, so stale lanes would show."""
    rng = np.random.default_rng(seed)
    widths = list(config.widths)
    order = [widths[-1], widths[0]] * count
    jobs = []
    for i in range(count):
        wa, wb = order[i], order[i + 1]
        wo = widths[int(rng.integers(len(widths)))]
        jobs.append(random_job(config, rng, a_width=wa, b_width=wb, out_width=wo,
                               rounding=i % 2))
    return jobs


def invalid_commands(config):
    """``[(name, job, overrides, expected JobError)]``: commands the array must refuse."""
    c = config
    w = c.max_width
    k = min(2, c.max_k)         # every field but the one under test in range
    ok = _job(np.ones((2, k), np.int64), np.ones((k, 2), np.int64), w)
    bad = []
    odd_width = next((x for x in range(2, w) if x not in c.widths), None)
    if odd_width is not None:
        for name, field in (("a_width", JobError.A_WIDTH), ("b_width", JobError.B_WIDTH),
                            ("out_width", JobError.OUT_WIDTH)):
            scalars = ok.scalars() | {name: odd_width}
            job = GemmJob(a=ok.a, b=ok.b, **scalars)
            bad.append((f"unsupported_{name}", job, {}, field))
    if w < 32:
        wide = GemmJob(a=ok.a, b=ok.b, **(ok.scalars() | {"a_width": w + c.lane_width}))
        bad.append(("a_width_above_max", wide, {}, JobError.A_WIDTH))
    long_k = _job(np.ones((1, c.max_k + 1), np.int64), np.ones((c.max_k + 1, 1), np.int64), w)
    bad.append(("k_above_max_k", long_k, {}, JobError.K))
    bad.append(("k_zero", ok, {"k": 0}, JobError.K))
    bad.append(("m_zero", ok, {"m": 0}, JobError.M))
    bad.append(("n_above_max_dim", ok, {"n": c.max_dim + 1}, JobError.N))
    for name, shift in (("shift_below_min", c.min_shift - 1), ("shift_above_max",
                                                                c.max_shift + 1)):
        bad.append((name, _job(ok.a, ok.b, w, shift=shift), {}, JobError.SHIFT))
    return bad


def gating_jobs(config, *, seed=8):
    """For the proof of gating: each width below max_width for a, b and out together, and each
    operand narrow on its own; multi-tile shapes with K > rows so that lanes keep working."""
    rng = np.random.default_rng(seed)
    c = config
    top = c.max_width
    narrow = [w for w in c.widths if w < top]
    combos = [(w, w, w) for w in narrow] + [(w, top, top) for w in narrow[:1]] \
        + [(top, w, top) for w in narrow[:1]] + [(top, top, w) for w in narrow[:1]]
    return [random_job(c, rng, a_width=wa, b_width=wb, out_width=wo, rounding=i % 2,
                       m=2 * c.rows + 1, n=2 * c.cols, k=c.rows + 3, spread=1.0, jitter=0)
            for i, (wa, wb, wo) in enumerate(combos)]


def sparse_jobs(config, *, seed=9):
    """Jobs with many zero operands, as after a ReLU (``AccelConfig.zero_gating`` skips their
    products): ``width_jobs`` with about half of a and a third of b zeroed, whole rows and
    columns among them, and the first and last k of a zero at some outputs, so that a tile's
    first beat, its last beat and a whole tile can be zero."""
    rng = np.random.default_rng(seed)
    jobs = []
    for job in width_jobs(config, seed=seed):
        a = np.where(rng.random(job.a.shape) < 0.5, 0, job.a)
        b = np.where(rng.random(job.b.shape) < 0.3, 0, job.b)
        a[::3, 0] = 0
        a[1::3, -1] = 0
        a[2::4, :] = 0
        b[:, 1::3] = 0
        jobs.append(GemmJob(a=a, b=b, a_width=job.a_width, a_frac=job.a_frac,
                            b_width=job.b_width, b_frac=job.b_frac, out_width=job.out_width,
                            out_frac=job.out_frac, rounding=job.rounding, seed=job.seed))
    return jobs
