"""``varimac gemm``: run one contract job file on a backend and write its result file."""

import os

from .cli import UsageError

HELP = "run a GEMM job file (.npz) on a backend and write the result file"
GOLDEN_BACKENDS = ("numpy", "torch")


def add_arguments(parser):
    parser.add_argument("job", metavar="JOB.npz", help="job file (CONTRACT.md)")
    parser.add_argument("--backend", default="numpy", choices=GOLDEN_BACKENDS,
                        help="which implementation computes the job (default: numpy)")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cpu or cuda (default: cuda when present)")
    parser.add_argument("--out", required=True, metavar="RESULT.npz", help="result file to write")


def run(args):
    from golden.contract import GemmJob, gemm

    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise UsageError(f"--out: directory {out_dir} does not exist")
    try:
        job = GemmJob.load(args.job)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"bad job {args.job}: {exc}") from None
    try:
        result = gemm(job, backend=args.backend, device=args.device)
    except ValueError as exc:
        raise UsageError(f"{args.backend} backend refused {args.job}: {exc}") from None
    result.save(args.out)
    m, k, n = job.shape
    print(f"{args.job}: {m}x{k} @ {k}x{n} on {args.backend} -> {args.out} "
          f"(saturated {result.saturated}, underflow {result.underflow})")
    return 0
