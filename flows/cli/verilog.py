"""``varimac verilog``: generate the accelerator's Verilog and its params.json."""

import os
import time

from flows.cli import UsageError
from .config_args import add_config_arguments, config_from_args

HELP = "generate the accelerator's Verilog (DIR/varimac.v) and DIR/params.json"


def add_arguments(parser):
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    add_config_arguments(parser)


def write_verilog(config, out_dir, *, platform=None):
    """Write ``out_dir``/varimac.v and params.json (atomically); returns the Verilog path.
    ``platform``: see ``hw.top.generate_verilog``."""
    from hw.top import generate_verilog
    os.makedirs(out_dir, exist_ok=True)
    text = generate_verilog(config, platform=platform)
    paths = {"varimac.v": text, "params.json": config.to_json()}
    from golden.files import write_atomic
    for name, content in paths.items():
        write_atomic(os.path.join(out_dir, name), lambda f, content=content: f.write(content))
    return os.path.join(out_dir, "varimac.v")


def run(args):
    config = config_from_args(args)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out: {args.out} exists and is not a directory")
    start = time.monotonic()
    path = write_verilog(config, args.out)
    print(f"{path}: {config.rows}x{config.cols} array, widths "
          f"{'/'.join(map(str, config.widths))}, acc {config.acc_width} bits "
          f"({time.monotonic() - start:.1f} s)")
    return 0
