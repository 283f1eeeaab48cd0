"""``varimac data``: fetch the official CIFAR-10 archive, or rebuild the shipped demo subset.

``varimac data download [--to DIR] [--format binary|python]`` downloads the official archive
(md5-checked, with a progress bar) into the folder the loader searches
(``$VARIMAC_CACHE/datasets``, default ``~/.cache/varimac/datasets``) or into ``DIR``.
``varimac data demo-subset --from PATH [--out FILE]`` writes golden/train/datasets/cifar10-demo.npz
again from a full data set (golden/train/datasets/README.md).
"""

import os

from flows.cli import UsageError

HELP = "download CIFAR-10 (official archive, md5-checked), or rebuild the shipped demo subset"


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    down = sub.add_parser("download", help="download the official CIFAR-10 archive",
                          description="download the official CIFAR-10 archive")
    down.add_argument("--to", default=None, metavar="DIR",
                      help="destination folder (default: $VARIMAC_CACHE/datasets, else "
                           "~/.cache/varimac/datasets, where training looks by itself)")
    down.add_argument("--format", default="binary", choices=("binary", "python"),
                      help="the official binary or python version (default: binary)")
    down.add_argument("--url", default=None, help="a mirror's URL (needs --md5)")
    down.add_argument("--md5", default=None, help="the md5 the mirror's file must have")
    down.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo = sub.add_parser("demo-subset", help="rebuild the demo subset from a full data set",
                          description="rebuild the demo subset from a full data set")
    demo.add_argument("--from", dest="source", required=True, metavar="PATH",
                      help="CIFAR-10 archive or folder (the full data set)")
    demo.add_argument("--out", default=None, metavar="FILE",
                      help="output file (default: golden/train/datasets/cifar10-demo.npz)")


def run(args):
    from golden.train.data import DataError
    try:
        return download(args) if args.action == "download" else demo_subset(args)
    except DataError as exc:
        raise UsageError(str(exc)) from None


def download(args):
    from golden.train.download import download as fetch
    if (args.url is None) != (args.md5 is None):
        raise UsageError("--url and --md5 go together (a mirror's file and its md5)")
    if args.md5 is not None and (len(args.md5) != 32
                                 or any(c not in "0123456789abcdef" for c in args.md5)):
        raise UsageError(f"--md5 must be 32 lowercase hex digits, not {args.md5!r}")
    if args.to is not None and os.path.exists(args.to) and not os.path.isdir(args.to):
        raise UsageError(f"--to: {args.to} exists and is not a directory")
    path = fetch(to=args.to, fmt=args.format, url=args.url, md5=args.md5,
                 progress=not args.no_progress)
    print(f"{path}: md5 checked; training finds it "
          + ("by itself" if args.to is None else f"with --data {path}"))
    return 0


def demo_subset(args):
    from golden.train.demo_data import DEMO_FILE, make_demo_subset
    out = args.out or str(DEMO_FILE)
    if os.path.isdir(out):
        raise UsageError(f"--out: {out} is a directory; name the .npz file to write")
    digest = make_demo_subset(args.source, out)
    print(f"{out}: sha256 {digest} (put it in golden/train/demo_data.py DEMO_SHA256 and "
          f"golden/train/datasets/README.md)")
    return 0
