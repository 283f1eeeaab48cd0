"""``--jobs DIR`` and ``--jobs-per-width N``: training traces replayed beside random jobs
(``varimac power``, ``varimac arch``), read by ``flows.eda.power_plan.trace_jobs``."""

from flows.cli import UsageError


def add_trace_arguments(parser, *, per_width):
    from flows.eda.power_plan import TRACE_CROP
    parser.add_argument("--jobs", default=None, metavar="DIR",
                        help="training traces (varimac train --trace, make traces: "
                             "DIR/w<W>/*.npz or DIR/traces/w<W>/) replayed beside the random jobs")
    parser.add_argument("--jobs-per-width", type=int, default=per_width, metavar="N",
                        help=f"trace jobs replayed per width, spread over the files, each "
                             f"{TRACE_CROP} (default: {per_width})")


def check_trace_arguments(args):
    if args.jobs_per_width < 1:
        raise UsageError(f"--jobs-per-width must be at least 1, not {args.jobs_per_width}")


def traces_from_args(args, config):
    """``{width: jobs}`` of ``--jobs``, or None; a bad folder raises ``UsageError``."""
    if args.jobs is None:
        return None
    from flows.eda.power_plan import trace_jobs
    try:
        return trace_jobs(args.jobs, config, per_width=args.jobs_per_width)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
