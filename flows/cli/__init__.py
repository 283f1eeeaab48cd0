"""varimac: generate, prove and measure a precision-tunable DNN-training accelerator.

One subcommand per module, imported only when it runs.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args)``,
which returns the exit status. A user mistake raises ``UsageError``: it is printed as one line
and the command exits with status 2, leaving no output file behind.
"""

import argparse
import importlib
import sys

COMMANDS = {
    "gemm": "flows.cli.gemm",
    "verilog": "flows.cli.verilog",
    "sim": "flows.cli.sim",
    "train": "flows.cli.train",
    "power": "flows.cli.power",
    "fpga": "flows.cli.fpga",
    "timing": "flows.cli.timing",
    "arch": "flows.cli.arch",
    "report": "flows.cli.report",
    "system": "flows.cli.system",
    "gradstats": "flows.cli.gradstats",
    "bench": "flows.cli.bench",
    "demo": "flows.cli.demo",
    "sweep": "flows.cli.sweep",
    "data": "flows.cli.data",
    "quote": "flows.cli.quote",
    "saturation": "flows.cli.saturation",
    "power-by-type": "flows.cli.power_by_type",
}


class UsageError(Exception):
    """A mistake in what the user asked for; reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _load(name):
    try:
        return importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as exc:
        if exc.name == COMMANDS[name]:
            return None
        raise


def build_parser(selected=None):
    """The parser; only ``selected``'s module is imported (all of them when it is ``None``)."""
    parser = _Parser(prog="varimac", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for name in COMMANDS:
        module = _load(name) if selected in (None, name) else None
        help_text = getattr(module, "HELP", "(not implemented yet)" if selected is None else None)
        p = sub.add_parser(name, help=help_text, description=help_text)
        if module is not None:
            module.add_arguments(p)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    selected = argv[0] if argv and argv[0] in COMMANDS else None
    if selected is not None and _load(selected) is None:
        print(f"varimac {selected}: not implemented yet", file=sys.stderr)
        return 1
    args = build_parser(selected).parse_args(argv)
    module = _load(args.command)
    try:
        return module.run(args) or 0
    except UsageError as exc:
        print(f"varimac {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"varimac {args.command}: interrupted", file=sys.stderr)
        return 130

