"""``varimac gemm``: run a contract job file, or a directory of them, on a backend and write
the result files.

With a directory, every ``*.npz`` in it is a job and ``--out`` is the directory of results (one
per job, with the job's name). A job that cannot be read or run is refused on one line naming
its file, gets no result file, and does not stop the others; the exit status is then 2. On the
rtl backend the whole directory is one build and one simulation (the fast harness,
``sim.fast``).
"""

import os
import sys

from flows.cli import UsageError

HELP = "run a GEMM job file (.npz), or a directory of them, on a backend; write the results"
GOLDEN_BACKENDS = ("numpy", "torch")
RTL_BACKEND = "rtl"     # the generated Verilog in simulation (sim.runner)


def add_arguments(parser):
    parser.add_argument("job", metavar="JOB.npz|JOBS_DIR",
                        help="job file (docs/arithmetic.md), or a directory of job files")
    parser.add_argument("--backend", default="numpy", choices=GOLDEN_BACKENDS + (RTL_BACKEND,),
                        help="which implementation computes the job (default: numpy)")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cpu or cuda (default: cuda when present)")
    parser.add_argument("--out", required=True, metavar="RESULT.npz|RESULTS_DIR",
                        help="result file to write (a directory for a directory of jobs)")
    parser.add_argument("--sim", default=None, choices=("icarus", "verilator"),
                        help="rtl backend: the simulator (default: $SIM, else icarus when "
                             "installed, else verilator; verilator for a directory)")
    from .config_args import add_config_arguments
    add_config_arguments(parser)


def run(args):
    from golden.backends import check_device

    if args.backend in GOLDEN_BACKENDS:
        try:
            check_device(args.backend, args.device)
        except ValueError as exc:
            raise UsageError(f"--device: {exc}") from None
    if os.path.isdir(args.job):
        from .gemm_batch import run_batch
        return run_batch(args)
    from golden.contract import GemmJob, gemm
    from golden.files import check_output_file
    from golden.inputs import InputError

    try:
        check_output_file(args.out, inputs=[args.job])
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None
    try:
        job = GemmJob.load(args.job)
    except InputError as exc:
        raise UsageError(f"bad job {exc}") from None
    if args.backend == RTL_BACKEND:
        result = _run_rtl(job, args)
        if result is None:
            return 1
    else:
        try:
            result = gemm(job, backend=args.backend, device=args.device)
        except ValueError as exc:
            raise UsageError(f"{args.backend} backend refused {args.job}: {exc}") from None
    result.save(args.out)
    m, k, n = job.shape
    print(f"{args.job}: {m}x{k} @ {k}x{n} on {args.backend} -> {args.out} "
          f"(saturated {result.saturated}, underflow {result.underflow})")
    return 0


def _run_rtl(job, args):
    from sim.host import check_job
    from sim.runner import SimulationError, run_rtl_job

    from .config_args import config_from_args

    config = config_from_args(args)
    try:
        check_job(config, job)
    except ValueError as exc:
        raise UsageError(f"rtl backend refused {args.job}: {exc}") from None
    try:
        result, cycles = run_rtl_job(job, config, sim=args.sim)
    except SimulationError as exc:
        print(f"varimac gemm: rtl simulation of {args.job} failed: {exc}", file=sys.stderr)
        return None
    print(f"{args.job}: {cycles} cycles on a {config.rows}x{config.cols} array")
    return result
