"""The generator's regression: a sweep of ``AccelConfig``s, each built and verified.

Every configuration runs its corner cases and random jobs (``random_jobs``) against golden,
and its range edges (``random_jobs.edge_items``): each refused command must end with the
``JobError`` code the control block documents, exactly when the host side (``host.check_job``,
or the contract for an empty job) refuses it too; each accepted edge job must be exact.
"""

import re
import time
from pathlib import Path

from golden.files import save_json
from hw.config import AccelConfig
from hw.job_check import JobError

from . import fast, random_jobs
from .verify import TRAFFIC, compare, config_flags, write_text

# name -> AccelConfig fields. Rows and columns 1..8 (square and not), max_width 8/12/16, lane
# widths 2/4/8, max_k from 1 to 4096, a narrow shift range and small max_dim, subword packing
# on and off, and the fixed-width baseline; then each end of AccelConfig's ranges (widths 2
# and 32, a 3-bit lane, shifts ±512, max_dim 2^32 - 1, max_k 2^24).
CONFIGS = {
    "1x1-w8l4": dict(rows=1, cols=1, max_width=8, lane_width=4, max_k=16),
    "1x2-w8l2": dict(rows=1, cols=2, max_width=8, lane_width=2, max_k=64, max_dim=300),
    "2x1-w12l4": dict(rows=2, cols=1, max_width=12, lane_width=4, max_k=32),
    "tiny": dict(rows=2, cols=3, max_width=12, lane_width=4, max_k=32, max_dim=255),
    "3x2-w16l8-k8": dict(rows=3, cols=2, max_width=16, lane_width=8, max_k=8),
    "2x6-w8l4-k1": dict(rows=2, cols=6, max_width=8, lane_width=4, max_k=1),
    "2x2-w16l2": dict(rows=2, cols=2, max_width=16, lane_width=2, max_k=128),
    "5x3-w12l2": dict(rows=5, cols=3, max_width=12, lane_width=2, max_k=50),
    "4x1-w8l8": dict(rows=4, cols=1, max_width=8, lane_width=8, max_k=256),
    "1x4-w16l8": dict(rows=1, cols=4, max_width=16, lane_width=8, max_k=4096),
    "3x3-shift": dict(rows=3, cols=3, max_width=16, lane_width=4, max_k=64, max_dim=100,
                      min_shift=-4, max_shift=8),
    "4x4-fixed16": dict(rows=4, cols=4, max_width=16, lane_width=4, max_k=256, tunable=False),
    "2x2-fixed12": dict(rows=2, cols=2, max_width=12, lane_width=4, max_k=64, tunable=False),
    "1x8-fixed8": dict(rows=1, cols=8, max_width=8, lane_width=2, max_k=32, tunable=False),
    "2x2-w8l2-nosubword": dict(rows=2, cols=2, max_width=8, lane_width=2, max_k=32,
                               subword=False),
    "8x2-w8l4": dict(rows=8, cols=2, max_width=8, lane_width=4, max_k=512),
    "6x1-w16l4": dict(rows=6, cols=1, max_width=16, lane_width=4, max_k=4096),
    "2x8-w16l8-nosubword": dict(rows=2, cols=8, max_width=16, lane_width=8, max_k=64,
                                subword=False),
    "default": dict(rows=8, cols=8, max_width=16, lane_width=4, max_k=4096),
    # The architecture options off: the array before docs/power.md's measurements kept them.
    "4x4-plain": dict(rows=4, cols=4, max_width=16, lane_width=4, max_k=256, mult_tree="split",
                      valid_gating=False, zero_gating=False, clock_gates="lane"),
    # The ends of AccelConfig's ranges, on one PE.
    "1x1-w32l4": dict(rows=1, cols=1, max_width=32, lane_width=4, max_k=64),
    "1x1-w32l32": dict(rows=1, cols=1, max_width=32, lane_width=32, max_k=64),
    "1x1-w6l3": dict(rows=1, cols=1, max_width=6, lane_width=3, max_k=64),
    "1x1-w2l2": dict(rows=1, cols=1, max_width=2, lane_width=2, max_k=64),
    "1x1-shift512": dict(rows=1, cols=1, max_width=8, lane_width=4, max_k=64,
                         min_shift=-512, max_shift=512),
    "1x1-dim2^32": dict(rows=1, cols=1, max_width=8, lane_width=4, max_k=64,
                        max_dim=(1 << 32) - 1),
    "1x1-k2^24": dict(rows=1, cols=1, max_width=8, lane_width=4, max_k=1 << 24),
}


# What the host side's reason names for each JobError.
_FIELD = {JobError.A_WIDTH: r"\ba_width\b", JobError.B_WIDTH: r"\bb_width\b",
          JobError.OUT_WIDTH: r"\bout_width\b", JobError.K: r"\bK\b|empty",
          JobError.M: r"\bM\b|empty", JobError.N: r"\bN\b", JobError.SHIFT: r"\bshift\b"}


def check_edges(config, edges, outcomes):
    """``[failure text]`` for the range edges whose outcome is not what they should be."""
    failures = []
    for (name, item, expected), outcome in zip(edges, outcomes):
        host = random_jobs.host_refuses(config, item)
        if outcome.error != int(expected):
            failures.append(f"{name}: error {outcome.error}, expected {int(expected)} "
                            f"({expected.name})")
        elif (host is None) != (int(expected) == 0):
            failures.append(f"{name}: the array says {expected.name}, the host side "
                            f"{'accepts it' if host is None else 'refuses it: ' + host}")
        elif host is not None and not re.search(_FIELD[expected], host):
            failures.append(f"{name}: the array says {expected.name}, the host side refuses "
                            f"something else: {host}")
        elif int(expected) == 0 and (reason := compare(item, outcome)) is not None:
            failures.append(f"{name}: {reason}")
    return failures


def verify_config(name, config, out_dir, *, jobs=300, seed=0, sim="verilator",
                  jobs_per_shard=250, workers=None, build_root=None):
    """One configuration's entry of the sweep summary (mismatching jobs go to ``out_dir``)."""
    edges = random_jobs.edge_items(config)
    work = random_jobs.random_jobs(config, jobs, seed=seed)
    items = [item for _, item, _ in edges] + work
    outcomes, stats = fast.run_items(config, items, sim=sim, jobs_per_shard=jobs_per_shard,
                                     workers=workers, seed=seed, traffic=TRAFFIC,
                                     build_root=build_root)
    edge_failures = check_edges(config, edges, outcomes[:len(edges)])
    mismatched = []
    for i, (job, outcome) in enumerate(zip(work, outcomes[len(edges):])):
        reason = compare(job, outcome)
        if reason is not None:
            path = Path(out_dir) / name / f"mismatch-{i:05d}.npz"
            path.parent.mkdir(parents=True, exist_ok=True)
            job.save(path)
            mismatched.append({"job": i, "file": str(path), "reason": reason})
    return {"config": config.params(), "flags": config_flags(config), "jobs": len(work),
            "edges": len(edges), "edge_failures": edge_failures,
            "mismatches": len(mismatched), "mismatched": mismatched[:20],
            "simulated_cycles": stats.cycles, "build_seconds": round(stats.build_seconds, 1),
            "simulation_wall_seconds": round(stats.wall_seconds, 1),
            "cycles_per_cpu_second": round(stats.cycles_per_cpu_second)}


def run_sweep(out_dir, *, names=None, jobs=300, seed=0, sim="verilator", jobs_per_shard=250,
              workers=None, build_root=None, log=print, command=None):
    """Verify every configuration of ``names`` (default: all of ``CONFIGS``); writes
    ``out_dir``/summary.json and returns it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    entries = {}
    for name in names or list(CONFIGS):
        config = AccelConfig(**CONFIGS[name])
        entries[name] = e = verify_config(name, config, out_dir, jobs=jobs, seed=seed, sim=sim,
                                          jobs_per_shard=jobs_per_shard, workers=workers,
                                          build_root=build_root)
        verdict = "ok" if not e["mismatches"] and not e["edge_failures"] else "FAIL"
        log(f"  {verdict:4} {name}: {e['jobs']} jobs, {e['mismatches']} mismatches, "
            f"{e['edges']} edges ({len(e['edge_failures'])} wrong), {e['simulated_cycles']} "
            f"cycles, build {e['build_seconds']} s")
        for failure in e["edge_failures"][:5]:
            log(f"       {failure}")
    summary = {"command": command, "simulator": sim, "seed": seed, "configs": entries,
               "jobs": sum(e["jobs"] for e in entries.values()),
               "mismatches": sum(e["mismatches"] for e in entries.values()),
               "edge_failures": sum(len(e["edge_failures"]) for e in entries.values()),
               "simulated_cycles": sum(e["simulated_cycles"] for e in entries.values()),
               "wall_seconds": round(time.monotonic() - start, 1)}
    save_json(out_dir / "summary.json", summary, indent=2)
    write_text(out_dir / "summary.md", markdown(summary))
    return summary


def markdown(summary):
    """``summary.json`` as a table, one configuration a row (what docs/hardware.md quotes)."""
    lines = ["| configuration | array | widths | max_k | kind | jobs | mismatches | range edges "
             "(wrong) | simulated cycles |", "|---|---|---|---|---|---|---|---|---|"]
    for name, e in summary["configs"].items():
        c = AccelConfig.from_params(e["config"])
        kind = "fixed" if not c.tunable else ("subword" if c.subword else "gated")
        lines.append(f"| {name} | {c.rows}×{c.cols} | {'/'.join(map(str, c.widths))} | "
                     f"{c.max_k} | {kind} | {e['jobs']} | {e['mismatches']} | {e['edges']} "
                     f"({len(e['edge_failures'])}) | {e['simulated_cycles']} |")
    lines.append(f"| **{len(summary['configs'])} configurations** | | | | | {summary['jobs']} | "
                 f"{summary['mismatches']} | ({summary['edge_failures']}) | "
                 f"{summary['simulated_cycles']} |")
    return "\n".join(lines) + "\n"
