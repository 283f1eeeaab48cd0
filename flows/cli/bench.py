"""``varimac bench``: the project's benchmarks, each a ratio measured side by side in one run."""

import os
import platform

from flows.cli import UsageError
from flows.reports.results import write_json, write_text

HELP = ("run the benchmarks (contract GEMM, RTL utilization, simulation speed, training speed) "
        "and write JSON")


def _gemm(out_dir, quick):
    from .bench_gemm import run_bench
    return run_bench(out_dir, quick=quick)


def _rtl(out_dir, quick):
    from sim.bench import ARRAYS, run_bench
    data = run_bench(os.path.join(out_dir, "rtl"), arrays=ARRAYS[:1] if quick else ARRAYS)
    lines = ["| array | layer | M×K×N | ideal cycles | cycles | utilization | exact |",
             "|---|---|---|---|---|---|---|"]
    for key, arr in data["arrays"].items():
        lines += [f"| {key} | {x['layer']} | {x['m']}×{x['k']}×{x['n']} | {x['ideal_cycles']:.0f} "
                  f"| {x['cycles']} | {x['utilization']:.3f} | {x['exact']} |" for x in arr["layers"]]
    lines += ["", "| simulator | array | simulated cycles per second |", "|---|---|---|"]
    lines += [f"| {sim} | {key} | {cps:.0f} |" for sim, per in data["cycles_per_second"].items()
              for key, cps in per.items()]
    return data, "\n".join(lines) + "\n"


def _sim(out_dir, quick):
    from sim.bench_fast import markdown, run_fast_bench
    data = run_fast_bench(repeats=2 if quick else 20)
    return data, markdown(data)


def _train(out_dir, quick):
    from flows.targets import TRAIN_STEP_OVER_FLOAT32
    from golden.train.bench import run_bench
    data, markdown = run_bench(out_dir, quick=quick)
    return dict(data, target_ratio=TRAIN_STEP_OVER_FLOAT32), markdown


# name -> (runner(out_dir, quick) -> (data, markdown), description)
PARTS = {
    "gemm": (_gemm, "numpy contract GEMM / float32 numpy matmul"),
    "rtl": (_rtl, "RTL array utilization and simulated cycles per second"),
    "sim": (_sim, "simulated cycles per second: fast harness (Verilator) beside cocotb"),
    "train": (_train, "fixed-point / float32 training step time"),
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
    for name in parts:
        runner, what = PARTS[name]
        print(f"bench {name}: {what}", flush=True)
        data, markdown = runner(args.out, args.quick)
        data = {"benchmark": what, "command": f"varimac bench --only {name}"
                + (" --quick" if args.quick else ""), "machine": _machine(), **data}
        write_json(os.path.join(args.out, f"{name}.json"), data)
        write_text(os.path.join(args.out, f"{name}.md"), markdown)
        print(markdown)
    return 0


def _machine():
    return {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version()}
