"""``varimac sim``: the cocotb regression of the generated Verilog against golden."""

import sys

from .config_args import add_config_arguments, config_from_args

HELP = "run the cocotb regression (RTL vs golden, bit for bit) and write DIR/summary.json"


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--sim", default=None, choices=("icarus", "verilator"),
                        help="simulator (default: $SIM, else icarus when installed, else "
                             "verilator)")
    parser.add_argument("--quick", action="store_true",
                        help="a representative subset (what CI runs)")
    parser.add_argument("--test", default=None, metavar="NAME",
                        help="run one cocotb test only (e.g. widths, corners, gating)")
    add_config_arguments(parser, default_preset="small")


def run(args):
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
