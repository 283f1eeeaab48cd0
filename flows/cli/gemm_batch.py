"""``varimac gemm JOBS_DIR --out RESULTS_DIR``: a directory of job files (see cmd_gemm)."""

import os
import sys
from pathlib import Path

from golden.files import check_output_dir

from flows.cli import UsageError


def _refuse(path, reason):
    reason = str(reason)
    reason = reason.removeprefix(f"{path}: ")       # the loader names the file too
    print(f"varimac gemm: refused {path}: {reason}", file=sys.stderr)


def _load_jobs(paths):
    """``{path: GemmJob}`` of the readable jobs; the others are refused one by one."""
    from golden.contract import GemmJob
    jobs = {}
    for path in paths:
        try:
            jobs[path] = GemmJob.load(str(path))
        except (ValueError, TypeError, OSError) as exc:
            _refuse(path, exc)
    return jobs


def run_batch(args):
    src = Path(args.job)
    paths = sorted(p for p in src.glob("*.npz") if p.is_file())
    if not paths:
        raise UsageError(f"{src}: no job files (*.npz) in the directory")
    if Path(args.out).resolve() == src.resolve():
        raise UsageError("--out: the results need a directory of their own, not JOBS_DIR")
    try:
        check_output_dir(args.out, inputs=paths, writes=[p.name for p in paths])
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None
    jobs = _load_jobs(paths)
    if args.backend == "rtl":
        results, status = _run_rtl(jobs, args)
    else:
        results = _run_golden(jobs, args)
        status = 0
    os.makedirs(args.out, exist_ok=True)
    for path, result in results.items():
        result.save(os.path.join(args.out, path.name))
    refused = len(paths) - len(results)
    print(f"{len(results)} of {len(paths)} jobs on {args.backend} -> {args.out}"
          + (f" ({refused} refused)" if refused else ""))
    return status or (2 if refused else 0)


def _run_golden(jobs, args):
    from golden.contract import gemm
    results = {}
    for path, job in jobs.items():
        try:
            results[path] = gemm(job, backend=args.backend, device=args.device)
        except ValueError as exc:
            _refuse(path, f"{args.backend} backend: {exc}")
    return results


def _run_rtl(jobs, args):
    """One build and one simulation of every job the array can run."""
    from sim.fast import run_items
    from sim.host import check_job
    from sim.runner import SimulationError

    from .config_args import config_from_args

    config = config_from_args(args)
    runnable = {}
    for path, job in jobs.items():
        try:
            check_job(config, job)
            runnable[path] = job
        except ValueError as exc:
            _refuse(path, f"rtl backend: {exc}")
    if not runnable:
        return {}, 0
    try:
        outcomes, stats = run_items(config, list(runnable.values()), sim=args.sim or "verilator",
                                    jobs_per_shard=len(runnable), workers=1)
    except SimulationError as exc:
        print(f"varimac gemm: rtl simulation failed: {exc}", file=sys.stderr)
        return {}, 1
    results, status = {}, 0
    for (path, job), outcome in zip(runnable.items(), outcomes):
        if outcome.result is None:
            print(f"varimac gemm: rtl simulation of {path} failed: "
                  f"{outcome.problem or f'error {outcome.error}'}", file=sys.stderr)
            status = 1
        else:
            results[path] = outcome.result
    print(f"{stats.cycles} cycles on a {config.rows}x{config.cols} array")
    return results, status
