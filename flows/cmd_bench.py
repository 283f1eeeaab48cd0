"""``varimac bench``: the project's benchmarks, each a ratio measured side by side in one run."""

import importlib
import os
import platform

from .cli import UsageError
from .results import write_json, write_text

HELP = "run the benchmarks (contract GEMM, RTL utilization, training speed) and write JSON"
# name -> (module, description); each module has run_bench(out_dir, *, quick) -> (dict, markdown)
PARTS = {
    "gemm": ("flows.bench_gemm", "numpy contract GEMM / float32 numpy matmul"),
    "rtl": ("sim.bench", "RTL array utilization and simulated cycles per second"),
    "train": ("golden.train_bench", "fixed-point / float32 training epoch time"),
}


def add_arguments(parser):
    parser.add_argument("--out", default="build/bench", help="output directory (default: build/bench)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller shapes (a smoke run, not for quoting)")


def run(args):
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise UsageError(f"--only: unknown part(s) {', '.join(unknown) or '(none)'}; "
                         f"allowed: {', '.join(PARTS)}")
    os.makedirs(args.out, exist_ok=True)
    missing = []
    for name in parts:
        module_name, what = PARTS[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            print(f"bench {name}: not implemented yet")
            missing.append(name)
            continue
        print(f"bench {name}: {what}")
        data, markdown = module.run_bench(args.out, quick=args.quick)
        data = {"benchmark": what, "command": f"varimac bench --only {name}"
                + (" --quick" if args.quick else ""), "machine": _machine(), **data}
        write_json(os.path.join(args.out, f"{name}.json"), data)
        write_text(os.path.join(args.out, f"{name}.md"), markdown)
        print(markdown)
    return 1 if missing else 0


def _machine():
    return {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}
