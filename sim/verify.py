"""Volume verification on the fast harness: random jobs against golden, every bit.

``run_random`` is ``varimac sim --random N``: corner cases and random jobs (``random_jobs``)
run sharded on one build, every output and both counters compared with the numpy golden
model; a job that differs is written to the output directory as a job file, with the
``varimac gemm`` command that replays it. The summary (``summary.json``) has the jobs,
mismatches, simulated cycles, wall time and cycles per CPU-second of the simulators.
"""

import os
import time
from pathlib import Path

import numpy as np

from golden import gemm
from golden.files import save_json, write_atomic

from . import fast, random_jobs

# (operand gap, result stall) probabilities, one per shard in turn: streaming at full rate,
# and with both kinds of backpressure.
TRAFFIC = ((0.0, 0.0), (0.2, 0.2), (0.5, 0.1), (0.1, 0.5))


def write_text(path, text):
    write_atomic(path, lambda f: f.write(text))


def compare(job, outcome):
    """``None`` when the array computed ``job`` exactly, else the first difference."""
    if outcome.error:
        return f"refused with error {outcome.error}"
    if outcome.problem:
        return outcome.problem
    want, got = gemm(job), outcome.result
    if not np.array_equal(want.y, got.y):
        m, n = np.argwhere(want.y != got.y)[0]
        return f"y[{m}, {n}] = {got.y[m, n]}, golden {want.y[m, n]}"
    for name in ("saturated", "underflow"):
        if getattr(want, name) != getattr(got, name):
            return f"{name} = {getattr(got, name)}, golden {getattr(want, name)}"
    return None


def config_flags(config):
    """The ``varimac`` flags that describe ``config``."""
    p = config.params()
    flags = " ".join(f"--{k.replace('_', '-')} {p[k]}" for k in
                     ("rows", "cols", "max_width", "lane_width", "max_k", "max_dim",
                      "min_shift", "max_shift"))
    return flags + ("" if p["tunable"] else " --fixed-width") \
        + (" --no-subword" if p["tunable"] and not p["subword"] else "") \
        + f" --mult-tree {p['mult_tree']}" \
        + ("" if p["valid_gating"] else " --no-valid-gating") \
        + ("" if p["zero_gating"] else " --no-zero-gating") \
        + f" --clock-gates {p['clock_gates']} --mult-stages {p['mult_stages']}"


def run_random(config, out_dir, *, count, seed=0, sim="verilator", jobs_per_shard=250,
               workers=None, build_root=None, progress=None, keep=False, command=None):
    """Run ``count`` jobs; writes ``out_dir``/summary.json (and mismatching jobs); returns
    the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    load = os.getloadavg()[0]
    jobs = random_jobs.random_jobs(config, count, seed=seed)
    outcomes, stats = fast.run_items(config, jobs, sim=sim, jobs_per_shard=jobs_per_shard,
                                     workers=workers, seed=seed, traffic=TRAFFIC,
                                     build_root=build_root, progress=progress,
                                     keep=out_dir / "shards" if keep else None)
    mismatched = []
    for i, (job, outcome) in enumerate(zip(jobs, outcomes)):
        reason = compare(job, outcome)
        if reason is not None:
            path = out_dir / f"mismatch-{i:05d}.npz"
            job.save(path)
            mismatched.append({"job": i, "file": str(path), "reason": reason,
                               "replay": f"varimac gemm {path} --backend rtl --sim {sim} "
                                         f"{config_flags(config)} --out result.npz"})
    summary = {
        "command": command, "config": config.params(), "simulator": sim, "seed": seed, "jobs": len(jobs),
        "corner_jobs": min(count, len(random_jobs.corner_jobs(config, seed=seed + 1))),
        "mismatches": len(mismatched), "mismatched": mismatched[:100],
        "simulated_cycles": stats.cycles,
        "simulator_cpu_seconds": round(stats.cpu_seconds, 2),
        "cycles_per_cpu_second": round(stats.cycles_per_cpu_second),
        "simulation_wall_seconds": round(stats.wall_seconds, 1),
        "build_seconds": round(stats.build_seconds, 1),
        "wall_seconds": round(time.monotonic() - start, 1),
        "workers": workers or fast.default_workers(), "shards": stats.shards,
        "traffic": [list(t) for t in TRAFFIC],
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
    }
    summary["cycles_per_second"] = round(stats.cycles / summary["simulation_wall_seconds"]) \
        if summary["simulation_wall_seconds"] else 0
    save_json(out_dir / "summary.json", summary, indent=2)
    write_text(out_dir / "summary.md", markdown(summary))
    return summary


def markdown(summary):
    """``summary.json`` as a table (what docs/hardware.md quotes)."""
    s, c = summary, summary["config"]
    return (
        "| array | simulator | jobs (corner cases) | mismatches | simulated cycles | "
        "cycles per CPU-second | simulation wall s | processes | load average |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {c['rows']}×{c['cols']}, {c['max_width']}-bit | {s['simulator']} | {s['jobs']} "
        f"({s['corner_jobs']}) | {s['mismatches']} | {s['simulated_cycles']} | "
        f"{s['cycles_per_cpu_second']} | {s['simulation_wall_seconds']} | {s['workers']} | "
        f"{s['load_average'][0]}–{s['load_average'][1]} |\n")
