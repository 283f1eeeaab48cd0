"""Speed of fixed-point training against float32 PyTorch training of the same network.

``run_bench(out_dir)`` times, in one process, the same steps (same images, masks, schedule)
under the float32 engine (PyTorch, the reference) and under fixed point (8 and 16 bits) on each
golden backend, and returns ``(data, markdown)`` (``varimac bench`` writes them). The ratio
fixed ÷ float32 per backend is the figure the issue targets (``varimac bench``
records the bound beside it). The configurations take
their steps in turn (one step of each, then the next round), so that load from other jobs falls
on all of them alike; times are medians of per-step wall times after one warm-up round, beside
the medians of the CPU time of the stepping thread, which load from other jobs inflates less
(with torch and BLAS on one thread, the step's work all runs on it). Every configuration runs
with the same thread settings, which the result reports. Data is CIFAR-10
when it is found, else random images (the time does not depend on the pixel values).
"""

import os
import platform
import statistics
import tempfile
import time

import numpy as np

from .data import Cifar10, DataError, load_cifar10
from .config import TrainConfig
from .trainer import Trainer


def _data(n):
    try:
        d = load_cifar10()
        return Cifar10(train_x=d.train_x[:n], train_y=d.train_y[:n], test_x=d.test_x[:10],
                       test_y=d.test_y[:10], source=d.source)
    except DataError:
        rng = np.random.default_rng(0)
        return Cifar10(train_x=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                       train_y=rng.integers(0, 10, n).astype(np.uint8),
                       test_x=rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8),
                       test_y=rng.integers(0, 10, 10).astype(np.uint8), source="random")


# torch-float64: the torch backend with its 16-bit int8-piece route (golden.int8_gemm) off, so
# float64 GEMMs, beside the default route: the bench shows what the route buys.
CONFIGS = (("float32", "torch"), ("fixed-8", "torch"), ("fixed-16", "torch"),
           ("fixed-16", "torch-float64"), ("fixed-8", "numpy"), ("fixed-16", "numpy"))


def _trainer(policy, backend, data, batch, tmp):
    cfg = TrainConfig(policy=policy, epochs=1, out=os.path.join(tmp, f"{policy}-{backend}"),
                      backend=backend.split("-")[0], batch=batch)
    trainer = Trainer(cfg, data=data, progress=False)
    if backend == "torch-float64":
        trainer.fixed.be.int8 = False
    trainer.fresh_state()
    return trainer


def thread_settings():
    """What decides how many cores the GEMMs and element-wise ops use."""
    import torch
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS")}
    return {"torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "cpus": os.cpu_count(), "env": {k: v for k, v in env.items() if v is not None},
            "numpy_blas": _numpy_blas()}


def _numpy_blas():
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name')} {info.get('version')}"
    except Exception:  # the layout of show_config differs between NumPy versions
        return "unknown"


def _medians(samples):
    """Median per configuration and its ratio to float32 torch's."""
    med = {k: statistics.median(v) for k, v in samples.items()}
    return med, {k: v / med["float32/torch"] for k, v in med.items() if k != "float32/torch"}


def run_bench(out_dir, *, quick=False):
    """Median seconds per step of each configuration and the ratios to float32 torch; returns
    ``(data, markdown)``. ``out_dir`` is accepted for ``varimac bench`` and not written."""
    del out_dir
    steps, batch = (2, 128) if quick else (6, 128)
    data = _data((steps + 1) * batch)
    times = {f"{p}/{b}": [] for p, b in CONFIGS}
    cpu = {k: [] for k in times}
    with tempfile.TemporaryDirectory() as tmp:
        trainers = {f"{p}/{b}": _trainer(p, b, data, batch, tmp) for p, b in CONFIGS}
        for s in range(steps + 1):
            idx = np.arange(s * batch, (s + 1) * batch) % len(data.train_y)
            for name, trainer in trainers.items():
                t0, c0 = time.perf_counter(), time.thread_time()
                trainer.train_step(idx)
                trainer.step += 1
                if s:  # round 0 warms up
                    times[name].append(time.perf_counter() - t0)
                    cpu[name].append(time.thread_time() - c0)
    per_step, ratios = _medians(times)
    cpu_step, cpu_ratios = _medians(cpu)
    threads = thread_settings()
    result = {"steps": steps, "batch": batch, "data": data.source, "threads": threads,
              "machine": platform.processor() or platform.machine(),
              "seconds_per_step": {k: round(v, 4) for k, v in per_step.items()},
              "ratio_to_float32_torch": {k: round(v, 3) for k, v in ratios.items()},
              "cpu_seconds_per_step": {k: round(v, 4) for k, v in cpu_step.items()},
              "cpu_ratio_to_float32_torch": {k: round(v, 3) for k, v in cpu_ratios.items()}}
    rows = ["| configuration | seconds / step | ÷ float32 torch | CPU seconds / step | ÷ float32 "
            "torch (CPU) |", "|---|---|---|---|---|"]
    rows += [f"| {k} | {per_step[k]:.3f} | {ratios.get(k, 1):.2f} | {cpu_step[k]:.3f} | "
             f"{cpu_ratios.get(k, 1):.2f} |" for k in per_step]
    rows += ["", f"Batch {batch}, median of {steps} steps each, taken in turn; torch threads "
             f"{threads['torch_threads']}, NumPy BLAS {threads['numpy_blas']}, "
             f"environment {threads['env'] or 'default'}, {threads['cpus']} CPUs; data "
             f"{data.source}."]
    return result, "\n".join(rows) + "\n"
