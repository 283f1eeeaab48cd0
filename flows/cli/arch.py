"""``varimac arch``: the architecture variants side by side (``flows.eda.archvariants``)."""

import os
import shlex
import sys
import time
from pathlib import Path

from flows.cli import UsageError
from .config_args import add_config_arguments, config_from_args
from .trace_args import add_trace_arguments, check_trace_arguments, traces_from_args

HELP = ("area, timing and energy per MAC of each architecture variant and the fixed array, "
        "from one run: DIR/variants.json")
REPO = Path(__file__).resolve().parents[2]


def add_arguments(parser):
    from flows.eda.archvariants import DEFAULT_WIDTHS, VARIANTS
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--liberty", default="nangate45", choices=("nangate45", "sky130"),
                        help="standard-cell library (default: nangate45)")
    parser.add_argument("--variants", default=",".join(VARIANTS), metavar="V[,V]",
                        help=f"variants to measure (default: {','.join(VARIANTS)})")
    parser.add_argument("--widths", default=",".join(map(str, DEFAULT_WIDTHS)),
                        metavar="W[,W]", help="operand widths replayed (default: "
                        f"{','.join(map(str, DEFAULT_WIDTHS))}; the fixed array: its one)")
    add_trace_arguments(parser, per_width=3)
    parser.add_argument("--period", type=float, default=10.0, metavar="NS",
                        help="clock period OpenSTA reports slack against (default: 10)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(parser, default_preset="small")


def _parse(args, config):
    from flows.eda.archvariants import VARIANTS
    if not config.tunable:
        raise UsageError("varimac arch compares variants of a tunable array: drop "
                         "--fixed-width (the fixed array is the 'fixed' variant)")
    names = [v for v in args.variants.split(",") if v]
    bad = [v for v in names if v not in VARIANTS]
    if bad or not names:
        raise UsageError(f"--variants: {','.join(bad) or '(none)'} not among "
                         f"{','.join(VARIANTS)}")
    try:
        widths = [int(w) for w in args.widths.split(",")]
    except ValueError:
        widths = []
    if not widths or any(w not in config.widths for w in widths):
        raise UsageError(f"--widths must be a list of {','.join(map(str, config.widths))}, "
                         f"not {args.widths!r}")
    if not 0.05 <= args.period <= 1000:
        raise UsageError(f"--period must be between 0.05 and 1000, not {args.period}")
    check_trace_arguments(args)
    return names, widths


def run(args):
    from tqdm import tqdm

    from golden.files import check_output_dir, save_json, write_atomic

    from flows.eda.archvariants import markdown, ratios, run_variant
    config = config_from_args(args)
    names, widths = _parse(args, config)
    traces = traces_from_args(args, config)
    try:
        check_output_dir(args.out, inputs=[args.jobs] if args.jobs else [], writes=("variants.json", "variants.md"))
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None
    os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    steps = len(names) * (1 + len(widths) * (2 if traces else 1))
    bar = tqdm(total=steps, desc="arch", unit="step", disable=args.no_progress,
               dynamic_ncols=True)
    started = []

    def tick(what):
        if started:
            bar.update(1)
        started.append(what)
        bar.set_postfix_str(what)
    entries = [run_variant(config=config, name=n, widths=widths, library_name=args.liberty,
                           out_dir=args.out, build_dir=REPO / "build", target_ns=args.period,
                           tick=tick, traces=traces) for n in names]
    bar.close()
    report = {"config": config.params(), "library": args.liberty,
              "command": shlex.join(["varimac"] + sys.argv[1:]),
              "variants": entries, "ratios": ratios(entries)}
    if traces:
        from flows.eda.power_plan import TRACE_CROP
        report["trace_note"] = (f"{args.jobs_per_width} per width from {args.jobs}, "
                                + TRACE_CROP.replace("max_k", str(config.max_k)))
    save_json(Path(args.out) / "variants.json", report, indent=2)
    write_atomic(Path(args.out) / "variants.md", lambda f: f.write(markdown(report)))
    print(markdown(report))
    print(f"{args.out}/variants.json ({time.monotonic() - start:.0f} s)")
    return 0
