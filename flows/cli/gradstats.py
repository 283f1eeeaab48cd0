"""``varimac gradstats``: gradient statistics of training checkpoints at each width."""

import os
import shlex
import sys

from flows.cli import UsageError
from flows.reports.results import write_json, write_text

HELP = "gradient statistics (need, underflow, saturation) of training checkpoints at each width"


def add_arguments(parser):
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                        help="checkpoint.npz files of fixed-point training runs")
    parser.add_argument("--widths", default="8,12,16", metavar="W,...",
                        help="operand widths to measure at (default: 8,12,16)")
    parser.add_argument("--steps", default="3", metavar="N",
                        help="steps per width, the first one calibrating (default: 3)")
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="CIFAR-10 archive or folder (default: $VARIMAC_DATA, then "
                             "what varimac data download fetched, then ../shared/datasets)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output directory: gradstats.md, gradstats.json")


def _widths(text):
    from golden.train.policies import FIXED_WIDTHS
    try:
        widths = sorted({int(w) for w in text.split(",")})
    except ValueError:
        widths = []
    if not widths or not set(widths) <= set(FIXED_WIDTHS):
        raise UsageError(f"--widths must be a comma-separated list of "
                         f"{', '.join(map(str, FIXED_WIDTHS))}, not {text!r}")
    return widths


def run(args):
    widths = _widths(args.widths)
    try:
        steps = int(args.steps)
    except ValueError:
        steps = 0
    if steps < 2:
        raise UsageError(f"--steps must be an integer >= 2, not {args.steps!r}")
    for path in args.checkpoints:
        if not os.path.isfile(path):
            raise UsageError(f"{path}: no such checkpoint file")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")

    from golden.train import gradstats
    from golden.train.data import DataError, load_cifar10
    try:
        checkpoints = [gradstats.load(p) for p in args.checkpoints]
        data = load_cifar10(args.data)
    except (gradstats.GradStatsError, DataError) as exc:
        raise UsageError(str(exc)) from None
    results = []
    for i, (master, about) in enumerate(checkpoints, 1):
        print(f"[{i}/{len(checkpoints)}] {about['path']}: {about['policy']} epoch "
              f"{about['epoch']}, step {about['step']}", flush=True)
        rows = gradstats.statistics(master, data, widths=widths, steps=steps)
        results.append({**about, "rows": rows})
    command = "varimac gradstats " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == "gradstats" else ""
    table = gradstats.markdown(results)
    os.makedirs(args.out, exist_ok=True)
    write_text(os.path.join(args.out, "gradstats.md"), table)
    write_json(os.path.join(args.out, "gradstats.json"),
               {"command": command, "widths": widths, "steps": steps, "checkpoints": results})
    print(table)
    print(f"wrote {args.out}/gradstats.md, gradstats.json")
    return 0
