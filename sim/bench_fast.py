"""Benchmark: simulated cycles per CPU-second of the fast harness beside the cocotb path.

Both run the same jobs (``sim.bench.scaled_jobs``: the CIFAR-10 network's GEMM shapes scaled to
the array, 16-bit, no gaps or stalls). The fast harness runs them ``REPEATS`` times in one
Verilator process, whose CPU time (not the machine's wall clock) gives cycles per CPU-second:
the speed of one core whatever else the machine runs. The cocotb path (``sim.runner``, the
project's cocotb testbench) runs the first job on Icarus; its CPU time is that of the whole
simulator process (cocotb's start-up included). Builds are cached and not timed. Every result
is compared with golden.
"""

import os
import resource
import time
from golden import gemm
from hw.config import AccelConfig

from . import fast
from .bench import scaled_jobs

REPEATS = 20
ARRAYS = (8,)


def run_fast_bench(*, arrays=ARRAYS, repeats=REPEATS, cocotb_sims=("icarus",),
                   log=print):
    """``{"arrays": {"8x8": {...}}}``: cycles per second of each path on each array."""
    from .runner import build, run_rtl_jobs

    report = {"repeats": repeats, "load_average_start": round(os.getloadavg()[0], 2),
              "arrays": {}}
    for size in arrays:
        config = AccelConfig.preset("default", rows=size, cols=size)
        jobs = [job for _, job in scaled_jobs(config)]
        fast.run_items(config, jobs[:1])        # the build (cached under build/fastsim)
        start = time.monotonic()
        outcomes, stats = fast.run_items(config, jobs * repeats, workers=1,
                                         jobs_per_shard=len(jobs) * repeats)
        entry = {"fast_verilator": {
            "jobs": len(outcomes), "cycles": stats.cycles,
            "cpu_seconds": round(stats.cpu_seconds, 3),
            "cycles_per_cpu_second": round(stats.cycles_per_cpu_second),
            "wall_seconds": round(time.monotonic() - start, 2),
            "exact": all(o.result is not None and o.result.same_bits(gemm(j))
                         for j, o in zip(jobs * repeats, outcomes))}}
        for sim in cocotb_sims:
            build(config, sim=sim)                          # cached in build/rtl
            before = _children_cpu()
            [(result, rep)] = run_rtl_jobs(jobs[:1], config, sim=sim)
            cpu = _children_cpu() - before
            entry[f"cocotb_{sim}"] = {
                "jobs": 1, "cycles": rep["cycles"], "cpu_seconds": round(cpu, 3),
                "cycles_per_cpu_second": round(rep["cycles"] / cpu),
                "wall_seconds_in_simulation": round(rep["seconds"], 2),
                "exact": result.same_bits(gemm(jobs[0]))}
        key = f"{size}x{size}"
        report["arrays"][key] = entry
        log(f"{key}: " + ", ".join(f"{k} {v['cycles_per_cpu_second']} cycles per CPU-second"
                                    for k, v in entry.items()))
    report["load_average_end"] = round(os.getloadavg()[0], 2)
    return report


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def markdown(report):
    lines = ["| array | path | jobs | simulated cycles | CPU seconds | cycles per CPU-second "
             "| exact |", "|---|---|---|---|---|---|---|"]
    for key, entry in report["arrays"].items():
        for path, x in entry.items():
            lines.append(f"| {key} | {path.replace('_', ' ')} | {x['jobs']} | {x['cycles']} "
                         f"| {x['cpu_seconds']} | {x['cycles_per_cpu_second']} | {x['exact']} |")
    lines += ["", f"Load average {report['load_average_start']} at the start, "
              f"{report['load_average_end']} at the end. CPU seconds of the simulator "
              "processes: the fast harness's Verilator process; the cocotb run's simulator with "
              "cocotb, Python and golden inside it (start-up included). Builds are cached and "
              "not counted."]
    return "\n".join(lines) + "\n"
