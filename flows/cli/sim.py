"""``varimac sim``: RTL against golden, bit for bit.

Three modes: ``--random N`` (the fast harness: N random and corner jobs on one build, sharded
across cores), ``--sweep`` (the generator: a sweep of configurations, each built and run on
random jobs and on its range edges) and, without either, the cocotb regression (directed
protocol tests).
"""

import os
import sys

from flows.cli import UsageError
from .config_args import add_config_arguments, config_from_args

HELP = "verify the RTL against golden: --random N jobs, --sweep configurations, or cocotb"


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--random", type=int, default=None, metavar="N",
                        help="fast harness: N jobs (corner cases, then random) on one array")
    parser.add_argument("--sweep", action="store_true",
                        help="fast harness on the sweep of generator configurations")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="--sweep: random jobs per configuration (default: 300)")
    parser.add_argument("--configs", default=None, metavar="NAMES",
                        help="--sweep: comma-separated configuration names (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="job and testbench seed")
    parser.add_argument("--sim", default=None, choices=("icarus", "verilator"),
                        help="simulator (default: verilator with --random/--sweep, else $SIM, "
                             "else icarus when installed, else verilator)")
    parser.add_argument("--jobs-per-shard", type=int, default=250, metavar="N",
                        help="--random/--sweep: jobs per simulator process (default: 250)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="--random/--sweep: simulator processes at once (default: cores)")
    parser.add_argument("--keep", action="store_true",
                        help="--random: keep the stimulus and result files in DIR/shards")
    parser.add_argument("--quick", action="store_true",
                        help="cocotb: a representative subset (what CI runs)")
    parser.add_argument("--test", default=None, metavar="NAME",
                        help="cocotb: run one test only (e.g. widths, corners, gating)")
    add_config_arguments(parser, default_preset="small")


def _check(args):
    if args.random is not None and args.sweep:
        raise UsageError("--random and --sweep are separate runs; give one of them")
    for name in ("random", "jobs", "jobs_per_shard", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 1, not {value}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")


def run(args):
    _check(args)
    if args.sweep:
        return _sweep(args)
    if args.random is not None:
        return _random(args)
    return _cocotb(args)


def _command(args, mode, config=None):
    """The command line that reproduces this run (for its summary)."""
    from sim.verify import config_flags
    words = ["varimac sim", mode]
    if args.seed:
        words.append(f"--seed {args.seed}")
    if config is not None:
        preset = type(config).preset(args.preset)
        words.append(f"--preset {args.preset}" if preset == config else config_flags(config))
    if args.sim:
        words.append(f"--sim {args.sim}")
    return " ".join(words + [f"--out {args.out}"])


def _progress(total, desc):
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="job", disable=None)
    return bar, bar.update


def _random(args):
    from sim.runner import SimulationError
    from sim.verify import run_random

    config = config_from_args(args)
    bar, update = _progress(args.random, f"{config.rows}x{config.cols}")
    try:
        s = run_random(config, args.out, count=args.random, seed=args.seed,
                       sim=args.sim or "verilator", jobs_per_shard=args.jobs_per_shard,
                       workers=args.workers, progress=update, keep=args.keep,
                       command=_command(args, f"--random {args.random}", config))
    except SimulationError as exc:
        print(f"varimac sim: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
    for m in s["mismatched"][:10]:
        print(f"  MISMATCH job {m['job']}: {m['reason']}\n    replay: {m['replay']}")
    print(f"{s['jobs']} jobs, {s['mismatches']} mismatches, {s['simulated_cycles']} cycles "
          f"on {s['simulator']} ({s['workers']} processes) in {s['wall_seconds']} s "
          f"({s['cycles_per_cpu_second']} cycles per CPU-second) -> {args.out}/summary.json")
    return 0 if s["mismatches"] == 0 else 1


def _sweep(args):
    from sim.runner import SimulationError
    from sim.sweep import CONFIGS, run_sweep

    names = list(CONFIGS) if args.configs is None else \
        [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise UsageError(f"--configs: unknown configuration(s) {', '.join(unknown) or '(none)'};"
                         f" allowed: {', '.join(CONFIGS)}")
    try:
        s = run_sweep(args.out, names=names, jobs=args.jobs or 300, seed=args.seed,
                      sim=args.sim or "verilator", jobs_per_shard=args.jobs_per_shard,
                      workers=args.workers, log=print,
                      command=_command(args, "--sweep" + (f" --jobs {args.jobs}" if args.jobs
                                                          else "")))
    except SimulationError as exc:
        print(f"varimac sim: {exc}", file=sys.stderr)
        return 1
    print(f"{len(s['configs'])} configurations, {s['jobs']} jobs, {s['mismatches']} "
          f"mismatches, {s['edge_failures']} edge failures in {s['wall_seconds']} s "
          f"-> {args.out}/summary.json")
    return 0 if s["mismatches"] == 0 and s["edge_failures"] == 0 else 1


def _cocotb(args):
    from sim.regression import run_regression
    from sim.runner import SimulationError

    config = config_from_args(args)
    try:
        summary = run_regression(config, args.out, sim=args.sim, quick=args.quick,
                                 testcase=args.test)
    except SimulationError as exc:
        print(f"varimac sim: {exc}", file=sys.stderr)
        return 1
    for name, outcome in summary["tests"].items():
        print(f"  {outcome.upper():4}  {name}")
    print(f"{summary['jobs']} jobs ({summary['exact']} exact), "
          f"{summary['simulated_cycles']} cycles on {summary['simulator']} in "
          f"{summary['wall_seconds']} s -> {args.out}/summary.json")
    return 0 if summary["failed"] == 0 else 1
