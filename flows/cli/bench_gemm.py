"""Benchmark: the numpy contract GEMM against a plain float32 numpy matmul of the same shape.

The shapes are the training GEMMs of the Keras CIFAR-10 network at batch 128 (see
``TRAINING_GEMMS``); each ratio is measured side by side in one run, alternating the two.
"""

import statistics
import time

import numpy as np

from golden.backends import get_backend
from golden.formats import Rounding
from golden.train.network import gemm_shapes

BATCH = 128
# (name, M, K, N) of three layers' GEMMs, from the network's one shape table
# (``golden.train.network.gemm_shapes``).
SAMPLED = ("conv2", "conv4", "dense1")
TRAINING_GEMMS = tuple((f"{layer} {kind.replace('_', '-')}", m, k, n)
                       for layer, kind, m, k, n in gemm_shapes(BATCH) if layer in SAMPLED)
WIDTHS = (4, 8, 16)


def _median_times(fns, repeats):
    times = [[] for _ in fns]
    for _ in range(repeats):
        for t, fn in zip(times, fns):
            start = time.perf_counter()
            fn()
            t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def run(*, widths=WIDTHS, shapes=TRAINING_GEMMS, repeats=5, progress=None):
    """Returns one row per (shape, width): times in ms and the ratios to float32 matmul."""
    be = get_backend("numpy")
    rng = np.random.default_rng(0)
    rows = []
    for name, m, k, n in shapes:
        for width in widths:
            lo, hi = -2 ** (width - 1), 2 ** (width - 1)
            a = rng.integers(lo, hi, (m, k)).astype(np.float32)
            b = rng.integers(lo, hi, (k, n)).astype(np.float32)
            # A sum of K products of uniform operands spreads over about sqrt(K) * hi**2 / 3:
            # this shift brings it into the output format with few saturations, as in training.
            shift = width - 1 + int(np.ceil(np.log2(np.sqrt(k))))

            def contract(rounding):
                return lambda: be.gemm(a, b, shift=shift, out_width=width, rounding=rounding,
                                       seed=1, a_bound=hi, b_bound=hi)
            t_float, t_rne, t_sr = _median_times(
                [lambda: np.matmul(a, b), contract(Rounding.NEAREST_EVEN),
                 contract(Rounding.STOCHASTIC)], repeats)
            _, saturated, _ = contract(Rounding.NEAREST_EVEN)()
            rows.append({"gemm": name, "M": m, "K": k, "N": n, "width": width, "shift": shift,
                         "saturated_fraction": round(saturated / (m * n), 4),
                         "float32_ms": round(t_float * 1e3, 2),
                         "nearest_even_ms": round(t_rne * 1e3, 2),
                         "stochastic_ms": round(t_sr * 1e3, 2),
                         "ratio_nearest_even": round(t_rne / t_float, 3),
                         "ratio_stochastic": round(t_sr / t_float, 3)})
            if progress:
                progress(rows[-1])
    return rows


def summary(rows):
    """Per width: the geometric mean and the worst ratio over the shapes."""
    out = {}
    for width in sorted({r["width"] for r in rows}):
        mine = [r for r in rows if r["width"] == width]
        out[width] = {key: {"geomean": round(float(np.exp(np.mean(np.log([r[key] for r in mine])))), 3),
                            "max": max(r[key] for r in mine)}
                      for key in ("ratio_nearest_even", "ratio_stochastic")}
    return out


def run_bench(out_dir, *, quick=False):
    """The ``varimac bench`` entry: returns the JSON data and a Markdown table."""
    from tqdm import tqdm

    shapes = tuple((name, max(m // 8, 1), max(k // 8, 1), n) for name, m, k, n in TRAINING_GEMMS) \
        if quick else TRAINING_GEMMS
    with tqdm(total=len(shapes) * len(WIDTHS), desc="contract GEMM", unit="gemm") as bar:
        rows = run(shapes=shapes, repeats=1 if quick else 5, progress=lambda _: bar.update())
    table = ["| GEMM | M×K×N | width | float32 matmul ms | nearest-even ratio | stochastic ratio |",
             "|---|---|---|---|---|---|"]
    table += [f"| {r['gemm']} | {r['M']}×{r['K']}×{r['N']} | {r['width']} | {r['float32_ms']} "
              f"| {r['ratio_nearest_even']} | {r['ratio_stochastic']} |" for r in rows]
    table += ["", "| width | nearest-even geomean | nearest-even max | stochastic geomean |"
              " stochastic max |", "|---|---|---|---|---|"]
    for width, s in summary(rows).items():
        ne, sr = s["ratio_nearest_even"], s["ratio_stochastic"]
        table.append(f"| {width} | {ne['geomean']} | {ne['max']} | {sr['geomean']} | {sr['max']} |")
    return {"rows": rows, "summary": summary(rows)}, "\n".join(table) + "\n"
