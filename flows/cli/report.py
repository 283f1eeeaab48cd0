"""``varimac report``: accuracy and training energy per precision scheme, as figures and a table."""

import glob
import os

from flows.cli import UsageError
from flows.reports.results import write_json, write_text

OUTPUTS = ("figure.png", "pareto.png", "results.md", "report.json")
HELP = "plot accuracy curves and training energy per scheme from training logs and power.json"


def add_arguments(parser):
    from flows.horowitz import SRAM_PJ_PER_BIT
    parser.add_argument("--runs", nargs="+", required=True, metavar="DIR",
                        help="training run directories (each with log.json); globs allowed")
    parser.add_argument("--power", required=True, metavar="FILE", help="power.json of varimac power")
    parser.add_argument("--pj-per-bit", type=float, default=SRAM_PJ_PER_BIT,
                        help=f"memory-access energy per bit moved (default {SRAM_PJ_PER_BIT:.4g}"
                             " pJ: Horowitz's 8 KB SRAM, 10 pJ per 64 bits)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")


def run(args):
    from golden.files import check_output_dir, write_atomic

    from flows.reports import report

    paths = sorted({p for pattern in args.runs for p in (glob.glob(pattern) or [pattern])})
    if args.pj_per_bit < 0 or args.pj_per_bit != args.pj_per_bit:
        raise UsageError(f"--pj-per-bit must be a number >= 0, not {args.pj_per_bit}")
    logs = [os.path.join(p, "log.json") if os.path.isdir(p) else p for p in paths]
    try:
        check_output_dir(args.out, inputs=[args.power, *paths, *logs], writes=OUTPUTS)
    except ValueError as exc:
        raise UsageError(f"--out {exc}") from None
    try:
        power = report.load_power(args.power)
        runs = [report.load_run(p) for p in paths]
        rows = report.build(runs, power, pj_per_bit=args.pj_per_bit)
        figures = report.plot(rows)
    except report.ReportError as exc:
        raise UsageError(str(exc)) from None
    os.makedirs(args.out, exist_ok=True)
    for name, png in figures.items():
        write_atomic(os.path.join(args.out, name), lambda f, png=png: f.write(png), mode="wb")
    table = report.markdown(rows, power_path=args.power, pj_per_bit=args.pj_per_bit)
    write_text(os.path.join(args.out, "results.md"), table)
    write_json(os.path.join(args.out, "report.json"),
               {"command": "varimac report " + " ".join(["--runs", *args.runs, "--power",
                                                         args.power, "--out", args.out]),
                "pj_per_bit": args.pj_per_bit, "rows": rows,
                "pareto_front": report.pareto_front(rows), "targets": report.targets(rows)})
    print(table)
    print(f"wrote {args.out}/figure.png, pareto.png, results.md, report.json")
    return 0
