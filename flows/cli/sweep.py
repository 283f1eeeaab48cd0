"""``varimac sweep``: a grid of training runs (policies x seeds x options) on Ray, resumable."""

import os

from flows.cli import UsageError
from flows.reports.results import write_json

HELP = "train a grid of runs (policies x seeds x options) as resumable runs on Ray"


def add_arguments(parser):
    parser.add_argument("--grid", default=None, metavar="FILE",
                        help='JSON grid: {"policies": [...], "seeds": [...], "options": '
                             '{"epochs": 20, ...}} (a list of values sweeps an option)')
    parser.add_argument("--policies", default=None, metavar="P,...", help="policies to train")
    parser.add_argument("--seeds", default=None, metavar="S,...", help="seeds (e.g. 0,1,2)")
    parser.add_argument("--epochs", default=None, metavar="E", help="epochs per run")
    parser.add_argument("--train-subset", default=None, metavar="N",
                        help="train on the first N images (default: all)")
    parser.add_argument("--test-subset", default=None, metavar="N",
                        help="evaluate on the first N test images (default: all)")
    parser.add_argument("--backend", default=None, choices=("numpy", "torch"),
                        help="golden backend (default: varimac train's)")
    parser.add_argument("--data", default=None, metavar="PATH", help="CIFAR-10 archive or folder")
    parser.add_argument("--address", default=None, metavar="RAY_ADDRESS",
                        help="a Ray cluster to run on (default: a local Ray, one worker per core)")
    parser.add_argument("--cpus-per-run", default="1", metavar="C",
                        help="cores (and torch threads) per run (default: 1)")
    parser.add_argument("--gpus-per-run", default="0", metavar="G",
                        help="GPUs per run; > 0 trains on cuda (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="sweep folder: DIR/<policy>-s<seed>/ per run, DIR/sweep.json")


def _list(text, flag, cast=str):
    try:
        return [cast(v.strip()) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} must be a comma-separated list of integers, not {text!r}") from None


def _number(text, flag, cast=int, lo=0):
    try:
        value = cast(text)
    except ValueError:
        value = None
    if value is None or not value >= lo or value == float("inf"):
        raise UsageError(f"{flag} must be a number >= {lo}, not {text!r}")
    return value


def grid_from(args):
    from .sweep_grid import load_grid
    if args.grid and (args.policies or args.seeds):
        raise UsageError("give either --grid or --policies and --seeds, not both")
    if args.grid:
        policies, seeds, options = load_grid(args.grid)
    elif args.policies and args.seeds:
        policies, seeds = _list(args.policies, "--policies"), _list(args.seeds, "--seeds", int)
        options = {}
    else:
        raise UsageError("give --grid FILE, or --policies P,... and --seeds S,...")
    for key in ("epochs", "train_subset", "test_subset"):
        if getattr(args, key) is not None:
            options[key] = _number(getattr(args, key), "--" + key.replace("_", "-"), lo=1)
    for key in ("backend", "data"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if "epochs" not in options:
        raise UsageError("--epochs is required (or options.epochs in the grid)")
    return policies, seeds, options


def run(args):
    from . import sweep_grid as sweep
    cpus = _number(args.cpus_per_run, "--cpus-per-run", lo=1)
    gpus = _number(args.gpus_per_run, "--gpus-per-run", cast=float)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    try:
        runs = sweep.expand(*grid_from(args))
    except sweep.SweepError as exc:
        raise UsageError(str(exc)) from None
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UsageError("varimac sweep needs Ray: pip install -e '.[sweep]'") from None
    results = sweep.execute(runs, args.out, address=args.address, cpus_per_run=cpus,
                            gpus_per_run=gpus, progress=not args.no_progress)
    write_json(os.path.join(args.out, "sweep.json"),
               {"runs": [dict(name=r.name, policy=r.policy, seed=r.seed,
                              options=dict(r.options), **results[r.name]) for r in runs]})
    failed = [r.name for r in runs if results[r.name]["status"] == "failed"]
    counts = {s: sum(1 for v in results.values() if v["status"] == s)
              for s in ("done", "skipped", "failed")}
    print(f"sweep: {counts['done']} trained, {counts['skipped']} already done, "
          f"{counts['failed']} failed -> {os.path.join(args.out, 'sweep.json')}")
    for name in failed:
        print(f"failed {name}: {results[name]['error']}")
    return 1 if failed else 0
