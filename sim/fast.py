"""The fast harness: contract jobs through ``sim.fast_tb``'s testbench, sharded across cores.

One build per configuration (cached); the jobs are cut into shards of ``jobs_per_shard``, each
shard one stimulus file and one simulator process, at most ``workers`` at a time. Each shard
reports its simulated cycles and the CPU time of its process, so cycles per CPU-second is the
simulator's speed on one core whatever else the machine runs.
"""

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import fast_tb, host, stimulus
from .runner import SimulationError


@dataclass
class Outcome:
    """What the array did with one item: ``error`` (``JobError`` code), the counters and
    ``cycles`` (command to done); ``result`` for an accepted job, ``problem`` when its result
    beats broke the protocol."""
    error: int
    saturated: int
    underflow: int
    cycles: int
    result: object = None
    problem: str = None


@dataclass
class Stats:
    cycles: int = 0             # simulated cycles, all shards
    cpu_seconds: float = 0.0    # CPU time of the simulator processes
    wall_seconds: float = 0.0   # running the shards, after the build
    build_seconds: float = 0.0  # generating and compiling (0.1 s when cached)
    shards: int = 0

    @property
    def cycles_per_cpu_second(self):
        return self.cycles / self.cpu_seconds if self.cpu_seconds else 0.0


def default_build_root():
    return Path(os.environ.get("VARIMAC_BUILD", "build")) / "fastsim"


def default_workers():
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def run_items(config, items, *, sim="verilator", jobs_per_shard=500, workers=None, seed=0,
              traffic=((0.0, 0.0),), build_root=None, progress=None, keep=None):
    """Run ``items`` (jobs, or ``(job, overrides)`` commands the array must refuse).

    Shard i runs with operand gaps and result stalls ``traffic[i % len(traffic)]`` (each a
    probability per cycle) and testbench seed ``seed + i``.
    Returns ``([Outcome per item], Stats)``. ``progress(n)`` is called as n more items finish;
    ``keep`` names a directory that keeps the stimulus and result files.
    """
    if jobs_per_shard < 1:
        raise ValueError(f"jobs_per_shard must be >= 1, not {jobs_per_shard}")
    start = time.monotonic()
    build_root = Path(build_root or default_build_root())
    run = fast_tb.build(config, sim=sim, build_root=build_root)
    built = time.monotonic()
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="run-", dir=build_root))
    work.mkdir(parents=True, exist_ok=True)
    shards = [items[i:i + jobs_per_shard] for i in range(0, len(items), jobs_per_shard)]
    stats = Stats(shards=len(shards), build_seconds=built - start)
    outcomes, running, finished = [], {}, {}
    try:
        pending = list(enumerate(shards))
        workers = workers or default_workers()
        while pending or running:
            while pending and len(running) < workers:
                i, shard = pending.pop(0)
                stim, out = work / f"shard{i}.stim", work / f"shard{i}.out"
                gap, stall = traffic[i % len(traffic)]
                stimulus.write_stimulus(stim, config, shard, seed=seed + i, gap=gap,
                                        stall=stall)
                log = open(work / f"shard{i}.log", "w")
                proc = subprocess.Popen(run + [f"+stim={stim}", f"+out={out}"], stdout=log,
                                        stderr=subprocess.STDOUT)
                running[proc.pid] = (i, proc, log)
            pid, status, usage = _wait_any(running)
            i, proc, log = running.pop(pid)
            log.close()
            proc.returncode = os.waitstatus_to_exitcode(status)
            stats.cpu_seconds += usage.ru_utime + usage.ru_stime
            finished[i] = _collect(config, shards[i], work, i, proc.returncode, stats)
            if not keep:
                for suffix in ("stim", "out"):
                    (work / f"shard{i}.{suffix}").unlink()
            if progress:
                progress(len(shards[i]))
        for i in range(len(shards)):
            outcomes += finished[i]
    finally:
        for _, proc, log in running.values():      # only after an error
            proc.kill()
            proc.wait()
            log.close()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    stats.wall_seconds = time.monotonic() - built
    return outcomes, stats


def _wait_any(running):
    """Wait for one of ``running``'s processes by pid (other children may exist) and
    return ``os.wait4``'s answer, its resource usage included."""
    while True:
        for pid in running:
            got, status, usage = os.wait4(pid, os.WNOHANG)
            if got:
                return got, status, usage
        time.sleep(0.02)


def _collect(config, shard, work, i, returncode, stats):
    out = work / f"shard{i}.out"
    if returncode != 0 or not out.exists():
        raise SimulationError(f"shard {i}: the simulator exited with status {returncode}; "
                              f"see {work / f'shard{i}.log'} (rerun with --keep)")
    jobs, finish, timeout = stimulus.split_jobs(stimulus.read_records(out, config))
    if timeout is not None:
        raise SimulationError(f"shard {i}: job {timeout} timed out (the array never said done)")
    if finish is None or len(jobs) != len(shard):
        raise SimulationError(f"shard {i}: {len(jobs)} of {len(shard)} jobs finished")
    stats.cycles += finish
    outcomes = []
    for item, (beats, status) in zip(shard, jobs):
        error, saturated, underflow, cycles = status
        outcome = Outcome(error=error, saturated=saturated, underflow=underflow, cycles=cycles)
        job, overrides = host.split_item(item)
        if overrides is None and error == 0:
            try:
                outcome.result = host.assemble(config, job, beats, error=error,
                                               saturated=saturated, underflow=underflow)
            except AssertionError as exc:
                outcome.problem = str(exc)
        elif len(beats):
            outcome.problem = f"{len(beats)} result beats after a refused command"
        outcomes.append(outcome)
    return outcomes
