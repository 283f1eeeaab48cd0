"""``varimac saturation``: saturation and underflow per layer and role of several training logs."""

import os
import sys

from flows.cli import UsageError

HELP = "saturation and underflow per layer and role, side by side for training logs (Markdown)"


def add_arguments(parser):
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="a run folder (its log.json)")
    parser.add_argument("--epoch", type=int, default=-1, help="epoch index (default: the last)")


def run(args):
    from flows.reports.saturation import table
    missing = [r for r in args.runs if not os.path.isfile(os.path.join(r, "log.json"))]
    if missing:
        raise UsageError(f"no log.json in {', '.join(missing)}; give training run folders")
    try:
        text = table(args.runs, epoch=args.epoch)
    except IndexError:
        raise UsageError(f"--epoch {args.epoch}: not an epoch of every log") from None
    sys.stdout.write(text)
    return 0
