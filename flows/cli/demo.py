"""``varimac demo``: the main job on built-in defaults, end to end, in a few minutes.

1. generate the default accelerator's Verilog;
2. prove RTL == golden on a handful of random jobs at every width, both roundings (on the
   default array with Icarus; on Verilator, whose build of it takes an hour, on the 2x3 array
   at the same widths unless ``--rtl-preset default``);
3. train the CIFAR-10 network for a short ``two-phase`` run on a subset (by default the one
   shipped in golden/train/datasets/, so that the demo needs nothing beside the repository);
4. measure energy per MAC at every width on the accelerator's gates (a 2x3 array with the
   default accelerator's widths), on random data and on the training run's own GEMMs;
5. write a summary table and plot to the output directory.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np

from flows.cli import UsageError
from flows.reports.results import write_json, write_text

REPO = Path(__file__).resolve().parents[2]
HELP = "the main job on built-in defaults: Verilog, RTL == golden, a short training, energy"


def add_arguments(parser):
    parser.add_argument("--out", default="build/demo", metavar="DIR",
                        help="output directory (default: build/demo)")
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="CIFAR-10 archive or folder (default: the subset shipped in "
                             "golden/train/datasets/cifar10-demo.npz)")
    parser.add_argument("--train-subset", type=int, default=2560, metavar="N",
                        help="training images for the short run (default: 2560, all of the "
                             "shipped subset)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the short run (default: 2)")
    parser.add_argument("--batch", type=int, default=32,
                        help="batch size of the short run (default: 32: enough steps to learn)")
    parser.add_argument("--jobs-per-width", type=int, default=2, metavar="N",
                        help="random RTL jobs per width and rounding (default: 2)")
    parser.add_argument("--rtl-preset", default="auto", choices=("auto", "default", "tiny"),
                        help="array simulated in step 2 (default: auto: the default 8x8 on "
                             "Icarus, the 2x3 at the same widths on Verilator)")


def _rtl_array(config, sim, preset):
    """The array simulated in stage 2: the default one, except on Verilator, whose cocotb
    build of the 8x8 array takes about an hour on 2 cores: there the 2x3 array with the same
    widths, unless --rtl-preset says otherwise."""
    from hw.config import AccelConfig
    if preset == "auto":
        preset = "default" if sim == "icarus" else "tiny"
        if preset == "tiny":
            print("Verilator: the 2x3 array at the default widths (--rtl-preset default for "
                  "the 8x8 one; its build takes about an hour on 2 cores)")
    if preset == "default":
        return config
    return AccelConfig.preset(preset, max_width=config.max_width)


def _stage(number, title):
    print(f"\n== [{number}/5] {title}", flush=True)
    return time.monotonic()


def run(args):
    if args.train_subset < 128 or min(args.epochs, args.batch, args.jobs_per_width) < 1:
        raise UsageError("--train-subset must be >= 128; --epochs, --batch and "
                         "--jobs-per-width must be >= 1")
    from golden import gemm
    from golden.train.data import DataError, load_cifar10
    from golden.train.demo_data import DEMO_TEST, DEMO_TRAIN, load_demo
    from golden.train.config import TrainConfig
    from golden.train.trainer import Trainer
    from hw.config import AccelConfig
    from sim.runner import default_simulator, run_rtl_jobs
    from sim.scenarios import random_job

    from golden.files import write_atomic
    from hw.export import write_verilog
    from flows.eda.power import run_power
    from flows.eda.power_plan import trace_jobs
    from flows.eda.power_report import write_outputs
    from flows.reports.report import energy_per_mac

    if args.data is None and args.train_subset > DEMO_TRAIN:
        raise UsageError(f"--train-subset must be <= {DEMO_TRAIN} on the shipped subset "
                         f"(or give the full data set with --data)")
    try:
        data = load_cifar10(args.data) if args.data is not None else load_demo()
    except DataError as exc:
        raise UsageError(str(exc)) from None
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    summary = {"command": "varimac demo " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if k in ("out", "train_subset", "epochs", "batch", "jobs_per_width", "rtl_preset"))}

    start = _stage(1, "Verilog of the default accelerator")
    config = AccelConfig.preset("default")
    path = write_verilog(config, os.path.join(out, "verilog"), write_atomic=write_atomic)
    summary["verilog"] = {"path": path, "config": config.params(), "widths": list(config.widths),
                          "seconds": round(time.monotonic() - start, 1)}
    print(f"{path}: {config.rows}x{config.cols} array, widths {list(config.widths)}")

    start = _stage(2, "RTL == golden, bit for bit, on random jobs at every width")
    rng = np.random.default_rng(2026)
    sim = default_simulator()
    rtl = _rtl_array(config, sim, args.rtl_preset)
    jobs = [random_job(rtl, rng, a_width=w, b_width=w, out_width=w, rounding=r)
            for w in rtl.widths for r in (0, 1) for _ in range(args.jobs_per_width)]
    results = run_rtl_jobs(jobs, rtl, sim=sim, build_root=os.path.join(out, "sim"))
    checks = [{"width": j.a_width, "rounding": int(j.rounding), "shape": list(j.shape),
               "cycles": rep["cycles"], "exact": res.same_bits(gemm(j))}
              for j, (res, rep) in zip(jobs, results)]
    summary["rtl"] = {"simulator": sim, "array": f"{rtl.rows}x{rtl.cols}", "jobs": checks,
                      "all_exact": all(c["exact"] for c in checks),
                      "seconds": round(time.monotonic() - start, 1)}
    print(f"{sum(c['exact'] for c in checks)}/{len(checks)} jobs bit-exact on {sim} "
          f"({rtl.rows}x{rtl.cols} array)")

    start = _stage(3, f"two-phase training: {args.epochs} epochs on {args.train_subset} images")
    train_dir = os.path.join(out, "train")
    shutil.rmtree(train_dir, ignore_errors=True)  # the short run starts afresh every time
    cfg = TrainConfig(policy="two-phase", epochs=args.epochs, out=train_dir, backend="torch",
                      batch=args.batch,
                      train_subset=args.train_subset, test_subset=DEMO_TEST, trace=True,
                      command="varimac demo")
    log = Trainer(cfg, data=data).run()
    summary["training"] = {"dir": train_dir, "epochs": [
        {k: e[k] for k in ("epoch", "train_loss", "test_accuracy", "macs_per_width")}
        for e in log["epochs"]], "seconds": round(time.monotonic() - start, 1)}

    start = _stage(4, "energy per MAC at every width (gate level, a 2x3 array)")
    power_dir = os.path.join(out, "power")
    os.makedirs(power_dir, exist_ok=True)
    # The tiny array, synthesized and replayed in minutes, at every width of the default one.
    array = AccelConfig.preset("tiny", max_width=config.max_width)
    traces = trace_jobs(os.path.join(train_dir, "traces"), array, per_width=1)
    report = run_power(config=array, library_name="nangate45", out_dir=power_dir,
                       build_dir=REPO / "build", traces=traces, variants=("tunable",),
                       glitches=False)
    write_outputs(report, power_dir)
    summary["energy_pj_per_mac"] = {src: energy_per_mac(report, source=src)
                                    for src in ("random", "trace")}
    summary["power_seconds"] = round(time.monotonic() - start, 1)

    _stage(5, "summary")
    write_json(os.path.join(out, "summary.json"), summary)
    table = summary_markdown(summary)
    write_text(os.path.join(out, "summary.md"), table)
    summary_plot(summary, os.path.join(out, "summary.png"))
    print(table)
    print(f"wrote {out}/summary.md, summary.json, summary.png")
    return 0 if summary["rtl"]["all_exact"] else 1


def summary_markdown(s):
    """The demo's summary (``summary.json``'s dict) as the Markdown of ``summary.md``."""
    rtl = s["rtl"]
    lines = ["# varimac demo", "", f"Command: `{s['command']}`", "",
             f"- Verilog: `{s['verilog']['path']}` ({s['verilog']['config']['rows']}×"
             f"{s['verilog']['config']['cols']} array, widths {s['verilog']['widths']})",
             f"- RTL == golden: {sum(j['exact'] for j in rtl['jobs'])}/{len(rtl['jobs'])} random "
             f"jobs bit-exact on {rtl['simulator']}"
             + (f" ({rtl['array']} array)" if "array" in rtl else ""), "",
             "| epoch | train loss | test accuracy | MACs per width |", "|---|---|---|---|"]
    for e in s["training"]["epochs"]:
        macs = ", ".join(f"{w}-bit {n:.3g}" for w, n in e["macs_per_width"].items())
        lines.append(f"| {e['epoch']} | {e['train_loss']:.3f} | {e['test_accuracy']:.2%} | {macs} |")
    energy = s["energy_pj_per_mac"]
    lines += ["", "| width | pJ per MAC, random data | pJ per MAC, this training's GEMMs |",
              "|---|---|---|"]
    for w in sorted(energy["random"].keys() | energy["trace"].keys(), key=int):
        lines.append("| " + " | ".join([w] + [f"{energy[src][w]:.3f}" if w in energy[src]
                                              else "–" for src in ("random", "trace")]) + " |")
    return "\n".join(lines) + "\n"


def summary_plot(s, path):
    """The demo's summary drawn into the PNG ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = s["training"]["epochs"]
    left.plot([e["epoch"] for e in epochs], [100 * e["test_accuracy"] for e in epochs], marker="o")
    left.set_xticks([e["epoch"] for e in epochs])
    left.set(xlabel="epoch", ylabel="test accuracy (%)", title="two-phase training (subset)")
    left.grid(alpha=0.3)
    energy = s["energy_pj_per_mac"]
    widths = sorted(energy["random"].keys() | energy["trace"].keys(), key=int)
    for i, (src, label) in enumerate((("random", "random data"), ("trace", "training GEMMs"))):
        right.bar([j + 0.4 * i for j in range(len(widths))],
                  [energy[src].get(w, 0) for w in widths], width=0.4, label=label)
    right.set_xticks([j + 0.2 for j in range(len(widths))], [f"{w}-bit" for w in widths])
    right.set(ylabel="pJ per MAC", title="energy per MAC by runtime width")
    right.legend()
    fig.tight_layout()
    from golden.files import save_figure
    save_figure(path, fig, dpi=110)
    plt.close(fig)
