"""``varimac power-by-type``: a power run's OpenSTA check per cell type (Markdown on stdout)."""

from pathlib import Path

from flows.cli import UsageError

HELP = ("internal power per cell type of a power run's OpenSTA check: the flow's, each factor "
        "to OpenSTA's, OpenSTA's")


def add_arguments(parser):
    parser.add_argument("dir", metavar="DIR", help="a varimac power output (power.json, work/)")
    parser.add_argument("variant", metavar="VARIANT", help="an array the run checked, e.g. tunable")


def run(args):
    import json

    from flows.eda.opensta_by_type import by_type_markdown
    path = Path(args.dir) / "power.json"
    if not path.is_file():
        raise UsageError(f"{args.dir}: no power.json; give a varimac power --out folder")
    checked = json.loads(path.read_text()).get("opensta") or {}
    if args.variant not in checked:
        raise UsageError(f"VARIANT: {args.variant} has no OpenSTA check in {path}; "
                         f"allowed: {', '.join(checked) or '(none)'}")
    work = Path(args.dir) / "work" / args.variant
    for need in (work / "synth" / "netlist.json", work / "opensta" / "power.log",
                 work / "opensta" / "slews.txt"):
        if not need.is_file():
            raise UsageError(f"{args.dir}: no {need.relative_to(args.dir)}; give the folder "
                             "varimac power wrote, with its work/")
    print(by_type_markdown(args.dir, args.variant), end="")
    return 0
