"""``varimac gemm``: run one contract job file on a backend and write its result file."""

import os
import sys

from .cli import UsageError

HELP = "run a GEMM job file (.npz) on a backend and write the result file"
GOLDEN_BACKENDS = ("numpy", "torch")
RTL_BACKEND = "rtl"     # the generated Verilog in simulation (sim.runner)


def add_arguments(parser):
    parser.add_argument("job", metavar="JOB.npz", help="job file (docs/arithmetic.md)")
    parser.add_argument("--backend", default="numpy", choices=GOLDEN_BACKENDS + (RTL_BACKEND,),
                        help="which implementation computes the job (default: numpy)")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cpu or cuda (default: cuda when present)")
    parser.add_argument("--out", required=True, metavar="RESULT.npz", help="result file to write")
    parser.add_argument("--sim", default=None, choices=("icarus", "verilator"),
                        help="rtl backend: the simulator (default: $SIM, else icarus when "
                             "installed, else verilator)")
    from .config_args import add_config_arguments
    add_config_arguments(parser)


def run(args):
    from golden.contract import GemmJob, gemm

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise UsageError(f"--out: directory {out_dir} does not exist")
    try:
        job = GemmJob.load(args.job)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"bad job {args.job}: {exc}") from None
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
