"""What the power flow replays: the jobs per width (random, and cut-down training traces), the
plan of replays per variant, and the clock each variant runs at.

Random jobs are uniform over each width's range (2x2 tiles, K = 64). Trace jobs
(``traces/w<W>/*.npz`` from ``varimac train --trace``: the network's GEMMs, forward and both
backward ones, of every layer) are chosen spread over the files (``spread_order``: the first and
last file, then midpoints, so that fewer jobs are a prefix of more) and cut down to one output
tile (the array's rows x cols) by keeping evenly spaced rows and columns (real operand values
from the whole matrix, not one corner of it), K as in training up to the array's ``max_k``
(256 in the ``small`` preset; evenly spaced along K when the layer's K is longer).
"""

import glob
from pathlib import Path

import numpy as np

RANDOM_JOBS_PER_WIDTH = 2      # archvariants' and the system model's samples
POWER_RANDOM_JOBS = 3          # varimac power's, so that each row has a spread
POWER_TRACE_JOBS = 3
# what ``_crop`` keeps of a training GEMM
TRACE_CROP = "cut to one output tile, K as in training up to max_k"


def random_jobs(config, width, *, seed, count=RANDOM_JOBS_PER_WIDTH):
    """``count`` jobs of 2x2 tiles and K = min(max_k, 64), uniform operands at ``width``."""
    from golden import GemmJob
    rng = np.random.default_rng([seed, width])
    m, n, k = 2 * config.rows, 2 * config.cols, min(config.max_k, 64)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    frac = width - 1
    return [GemmJob(a=rng.integers(lo, hi, (m, k)), b=rng.integers(lo, hi, (k, n)),
                    a_width=width, a_frac=frac, b_width=width, b_frac=frac,
                    out_width=width, out_frac=frac, rounding=i % 2, seed=int(rng.integers(1 << 32)))
            for i in range(count)]

def trace_jobs(directory, config, *, per_width):
    """``{width: [jobs]}`` from ``directory``/w<W>/*.npz (or ``directory``/traces/w<W>/, or
    ``directory``/<run>/traces/w<W>/ of several training runs), each cropped to fit
    ``config``; ``ValueError`` when there are none for any supported width."""
    from golden import GemmJob
    from golden.inputs import InputError
    from sim import host
    root = Path(directory)
    if (root / "traces").is_dir():
        root = root / "traces"
    if not root.is_dir():
        raise ValueError(f"--jobs: {directory} is not a directory")
    out = {}
    for width in config.widths:
        files = sorted(glob.glob(str(root / f"w{width}" / "*.npz"))) or \
            sorted(glob.glob(str(root / "*" / "traces" / f"w{width}" / "*.npz")))
        files = [files[i] for i in spread_order(len(files))[:per_width]]
        jobs = []
        for path in files:
            try:   # InputError names the file
                job = _crop(GemmJob.load(path), config)
                host.check_job(config, job)
            except InputError as exc:
                raise ValueError(f"--jobs: {exc}") from None
            except ValueError as exc:
                raise ValueError(f"--jobs: {path}: {exc}") from None
            jobs.append(job)
        if jobs:
            out[width] = jobs
    if not out:
        raise ValueError(f"--jobs: no job files in {root}/w<W>/ for widths "
                         f"{', '.join(map(str, config.widths))}")
    return out

def spread_order(n):
    """``range(n)`` in an order whose every prefix is spread over it: both ends, then the
    midpoints of the gaps left, widest first (17 files: 0, 16, 8, 4, 12, 2, ...)."""
    order, gaps = list(dict.fromkeys([0, n - 1]))[:n], [(0, n - 1)]
    while gaps:
        gaps = sorted(gaps, key=lambda g: g[0] - g[1])
        lo, hi = gaps.pop(0)
        if hi - lo > 1:
            mid = (lo + hi) // 2
            order.append(mid)
            gaps += [(lo, mid), (mid, hi)]
    return order

def _crop(job, config):
    from golden import GemmJob
    m, k, n = job.shape
    m2, n2, k2 = min(m, config.rows), min(n, config.cols), min(k, config.max_k)
    shift = min(max(job.shift, config.min_shift), config.max_shift)
    out_frac = job.a_frac + job.b_frac - shift
    rows, cols, ks = (np.linspace(0, size - 1, keep).round().astype(int)
                      for size, keep in ((m, m2), (n, n2), (k, k2)))
    return GemmJob(a=job.a[np.ix_(rows, ks)], b=job.b[np.ix_(ks, cols)], a_width=job.a_width,
                   a_frac=job.a_frac, b_width=job.b_width, b_frac=job.b_frac,
                   out_width=job.out_width, out_frac=out_frac, rounding=job.rounding,
                   seed=job.seed)

def plan(variants, *, traces, random_count=POWER_RANDOM_JOBS):
    """The replays to run for ``{variant: config}``: ``[(variant, source, width, jobs), ...]``,
    ``random_count`` random jobs per width."""
    runs = []
    for variant, cfg in variants.items():
        for width in cfg.widths:
            runs.append((variant, "random", width,
                         random_jobs(cfg, width, seed=width, count=random_count)))
            if traces and width in traces:
                runs.append((variant, "trace", width, traces[width]))
    return runs

def clocks_for(variants, *, library_name, timing=None, clock_ns=None):
    """``{variant: {"period_ns", "delay_target_ps", "source", "met_ns"}}``: the period each
    variant's testbench runs at and the delay target it is synthesized for. From ``timing``
    (the runs of a ``timing.json``): every variant synthesized for its entry's target and
    clocked at the longest period any of them met (``met_ns`` its own), so that all compare at
    one clock that all of them meet; else ``clock_ns`` (area-mapped netlists); else the 10 ns
    the flow always assumed. ``ValueError`` when ``timing`` lacks a variant."""
    out = {}
    for variant, cfg in variants.items():
        if timing is None:
            out[variant] = {"period_ns": clock_ns or _clock_ns(), "delay_target_ps": None,
                            "source": "--clock-ns" if clock_ns else "default"}
            continue
        array = f"{cfg.rows}x{cfg.cols}"
        found = [e for e in timing if (e.get("library"), e.get("array"), e.get("variant"))
                 == (library_name, array, variant) and e.get("config") == cfg.params()]
        if not found:
            raise ValueError(f"no {library_name} {array} {variant} entry for this "
                             "configuration")
        out[variant] = {"period_ns": found[0]["period_ns"], "met_ns": found[0]["period_ns"],
                        "delay_target_ps": found[0]["delay_target_ps"],
                        "source": "the longest period met in timing.json"}
    if timing is not None:
        common = max(c["period_ns"] for c in out.values())
        for c in out.values():
            c["period_ns"] = common
    return out

def _clock_ns():
    from .activity import CLOCK_NS
    return CLOCK_NS
