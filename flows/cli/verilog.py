"""``varimac verilog``: generate the accelerator's Verilog and its params.json."""

import os
import time

from flows.cli import UsageError
from golden.files import write_atomic
from hw.export import write_verilog
from .config_args import add_config_arguments, config_from_args

HELP = "generate the accelerator's Verilog (DIR/varimac.v) and DIR/params.json"


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    add_config_arguments(parser)


def run(args):
    config = config_from_args(args)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    start = time.monotonic()
    path = write_verilog(config, args.out, write_atomic=write_atomic)
    print(f"{path}: {config.rows}x{config.cols} array, widths "
          f"{'/'.join(map(str, config.widths))}, acc {config.acc_width} bits "
          f"({time.monotonic() - start:.1f} s)")
    return 0
