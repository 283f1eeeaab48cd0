"""The seed experiment's report: accuracy over training per precision scheme beside the energy
each scheme spends, from committed training logs and a measured energy per MAC.

Training energy of a run = Σ over widths of MACs × energy per MAC at that width (measured on the
accelerator's gates by ``varimac power``; float32 MACs priced at the Horowitz ISSCC 2014 45 nm
FP32 multiply + add) + bits moved × a stated memory-access energy per bit.
"""

import io

from flows.horowitz import FLOAT32_MAC_PJ, SRAM_PJ_PER_BIT
from flows.targets import REPORT as TARGETS
from golden.train.registry import POLICIES

from . import report_seeds
from .report_inputs import ReportError, load_power, load_run  # noqa: F401 (the report's API)

FLOAT_WIDTH = "32"
ZOOM_POINTS = 3  # the zoomed Pareto panel shows final accuracies this close to the best


def _order():
    """The policies of ``golden.train.registry`` in its order, the fixed-point ones widest first
    (the report steps down from float32)."""
    first_fixed = next(i for i, p in enumerate(POLICIES) if p.startswith("fixed-"))
    return tuple(sorted(POLICIES, key=lambda p: (first_fixed, -int(p.removeprefix("fixed-")))
                        if p.startswith("fixed-") else (POLICIES.index(p), 0)))


ORDER = _order()


def energy_per_mac(power, *, source=None):
    """``{width (str): pJ per MAC}`` of the tunable array in a ``power.json`` dict: measured on
    replayed training traces where there are some, else on random-data jobs; with ``source``
    ("random" or "trace"), that source's measurements only (possibly none)."""
    try:
        runs = [r for r in power["runs"] if r["variant"] == "tunable"]
        table = {}
        for src in ("random", "trace"):  # traces, where present, override random data
            if source in (None, src):
                table.update({str(r["width"]): float(r["pj_per_mac"]) for r in runs
                              if r["source"] == src})
    except (KeyError, TypeError, ValueError):
        raise ReportError("power file has no runs of the tunable array (write it with "
                          "varimac power)") from None
    if not table and source is None:
        raise ReportError("power file has no runs of the tunable array (write it with "
                          "varimac power)")
    return table


def training_energy(run, per_mac, *, pj_per_bit=SRAM_PJ_PER_BIT):
    """Joules of a run: compute (per width) and memory, from its MAC and bit counts."""
    prices = dict(per_mac, **{FLOAT_WIDTH: FLOAT32_MAC_PJ})
    missing = sorted(set(run["macs_per_width"]) - set(prices), key=int)
    if missing:
        raise ReportError(f"{run['path']}: MACs at width(s) {', '.join(missing)} but the power "
                          f"file prices only {', '.join(sorted(per_mac, key=int))}")
    compute = sum(n * prices[w] for w, n in run["macs_per_width"].items()) * 1e-12
    memory = sum(run["bits_moved_per_width"].values()) * pj_per_bit * 1e-12
    return {"compute_j": compute, "memory_j": memory, "total_j": compute + memory}


def build(runs, power, *, pj_per_bit=SRAM_PJ_PER_BIT):
    """Rows of the report, one per policy (its seeds averaged: ``report_seeds``), ordered as
    ``ORDER``; energy relative to fixed-16 when present."""
    per_mac = energy_per_mac(power)
    rows = report_seeds.group_seeds(
        [dict(run, **training_energy(run, per_mac, pj_per_bit=pj_per_bit)) for run in runs])
    rows.sort(key=lambda r: (ORDER.index(r["policy"]) if r["policy"] in ORDER else len(ORDER),
                             r["policy"]))
    ref = next((r for r in rows if r["policy"] == "fixed-16" and r["complete"]), None)
    for r in rows:
        # Totals only compare between finished runs of the same length.
        same = ref is not None and r["complete"] and r["epochs"] == ref["epochs"]
        r["energy_vs_fixed16"] = r["total_j"] / ref["total_j"] if same else None
        total = sum(r["macs_per_width"].values())
        r["macs"] = total
        r["mac_share_per_width"] = {w: n / total for w, n in r["macs_per_width"].items()}
        # A width-squared energy proxy: MACs × width² (float32 MACs counted at 32 bits).
        r["macs_x_width2"] = sum(n * int(w) ** 2 for w, n in r["macs_per_width"].items())
        r["bits_moved"] = sum(r["bits_moved_per_width"].values())
    return rows


def pareto_front(rows):
    """Finished policies not beaten by another finished one on both energy (lower) and final
    accuracy (higher); runs still in progress are left out."""
    rows = [r for r in rows if r["complete"]]
    return [r["policy"] for r in rows
            if not any(o["total_j"] <= r["total_j"] and o["final_accuracy"] >= r["final_accuracy"]
                       and (o["total_j"], o["final_accuracy"]) != (r["total_j"], r["final_accuracy"])
                       for o in rows)]


def targets(rows):
    """The accuracy and energy targets of the seed experiment (issues 4 and 6), each as
    ``{"target", "measured", "verdict"}``: "met", "not met", or "pending" while a run it needs
    is missing or unfinished. Accuracy is final test accuracy; "at the accuracy of two-phase"
    is read as no lower than it."""
    done = {r["policy"]: r for r in rows if r["complete"]}

    def acc(a, b, slack):
        if a not in done or b not in done:
            return "pending", "pending"
        d = 100 * (done[a]["final_accuracy"] - done[b]["final_accuracy"])
        interval, v = report_seeds.compare(done[a], done[b], slack=slack / 100)
        if interval is not None:  # several seeds on both sides: judged by the 95% interval
            return (f"{d:+.2f} points, 95% [{100 * interval[1]:+.2f}, {100 * interval[2]:+.2f}]",
                    {"higher": "met", "lower": "not met"}.get(v, v))
        return (f"{done[a]['final_accuracy']:.2%} vs {done[b]['final_accuracy']:.2%} "
                f"({d:+.2f} points)"), "met" if d >= -slack else "not met"

    def energy(a, bound):
        ratio = done[a]["energy_vs_fixed16"] if a in done else None
        if ratio is None:
            return "pending", "pending"
        return f"{ratio:.2f}× fixed-16", "met" if ratio <= bound else "not met"

    def fewer_16bit(a, b):
        if a not in done or b not in done:
            return "pending", "pending"
        sa, sb = (done[p]["mac_share_per_width"].get("16", 0) for p in (a, b))
        return f"{sa:.0%} vs {sb:.0%} of MACs", "met" if sa < sb else "not met"

    judge = {"accuracy": acc, "energy": energy, "fewer_16bit": fewer_16bit}
    return [dict(zip(("target", "measured", "verdict"), (_label(kind, *args), *judge[kind](*args))))
            for kind, *args in TARGETS]


def _label(kind, scheme, *args):
    """A target of ``flows.targets.REPORT`` in words."""
    if kind == "energy":
        return f"{scheme} at ≤ {args[0]:.0%} of fixed-16's energy"
    if kind == "fewer_16bit":
        return f"{scheme} with fewer 16-bit MACs than {args[0]}"
    reference, points = args
    if points == 0:
        return f"{scheme} at the accuracy of {reference}"
    return f"{scheme} within {points:.1f} point{'' if points == 1 else 's'} of {reference}"


def markdown(rows, *, power_path, pj_per_bit):
    lines = ["| scheme | n | epochs | final acc. | best acc. | MACs | MACs per width | Σ MACs·W² | "
             "bits moved | energy (J) | vs fixed-16 | command |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        share = ", ".join(f"{'fp32' if w == FLOAT_WIDTH else w + '-bit'} {s:.0%}"
                          for w, s in sorted(r["mac_share_per_width"].items(), key=lambda x: int(x[0])))
        rel = f"{r['energy_vs_fixed16']:.2f}×" if r["energy_vs_fixed16"] else "–"
        epochs = f"{r['epochs']}/{r['epochs_planned']}" + ("" if r["complete"] else " (running)")
        n = f"n={r['n']}" + (f" (+{r['running']} running)" if r["running"] else "")
        final = f"{r['final_accuracy']:.2%}" + (f" ± {100 * r['final_std']:.2f}" if r["n"] > 1
                                                 else "")
        lines.append(f"| {r['policy']} | {n} | {epochs} | {final} | "
                     f"{r['best_accuracy']:.2%} | {r['macs']:.3g} | {share} | "
                     f"{r['macs_x_width2']:.3g} | {r['bits_moved']:.3g} | {r['total_j']:.3g} | "
                     f"{rel} | `{r['command']}` |")
    lines += ["", f"Energy = Σ MACs × energy per MAC (from `{power_path}`; float32 MACs at "
              f"{FLOAT32_MAC_PJ:g} pJ, Horowitz ISSCC 2014) + bits moved × {pj_per_bit:.4g} pJ/bit. "
              f"Σ MACs·W² is a width-squared energy proxy (float32 MACs at W = 32). "
              f"vs fixed-16 and the Pareto front compare finished runs only. On the front (no "
              f"finished run has both less energy and a higher final accuracy): "
              f"{', '.join(pareto_front(rows)) or '(no finished run yet)'}.",
              "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {t['verdict']} |" for t in targets(rows)]
    lines += report_seeds.markdown(rows)
    changes = [(r["policy"], c) for r in rows for c in r["width_changes"]]
    if changes:
        lines += ["", "Width changes while training (from each log's decisions):", "",
                  "| scheme | step | epoch | layer | from → to | reason |", "|---|---|---|---|---|---|"]
        lines += [f"| {p} | {c['step']} | {c['epoch'] + 1} | {c['layer']} | "
                  f"{_width(c['from'])} → {_width(c['to'])} | {_cell(c['reason'])} |"
                  for p, c in changes]
    return "\n".join(lines) + "\n"


def _width(w):
    """A logged width: an int, or "float32"."""
    return f"{w}-bit" if isinstance(w, int) else str(w)


def _cell(text):
    """Text for a Markdown table cell (a bare | would end the cell)."""
    return text.replace("|", "\\|")


def plot(rows):
    """``{"figure.png": PNG bytes (accuracy curves and energy bars), "pareto.png": ...}``,
    drawn in memory so that a failure writes nothing."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    for r in rows:
        epochs = range(1, len(r["accuracy"]) + 1)
        mean = [100 * a for a in r["accuracy"]]
        line, = left.plot(epochs, mean, marker=".", label=f"{r['policy']} (n={r['n']})")
        if r["n"] > 1:  # a band of ± one standard deviation over the seeds
            sd = [100 * s for s in r["accuracy_std"]]
            left.fill_between(epochs, [m - s for m, s in zip(mean, sd)],
                              [m + s for m, s in zip(mean, sd)], color=line.get_color(), alpha=0.2)
    left.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy during training")
    left.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    # A run in progress has spent only its finished epochs' energy: say so under its bar.
    names = [r["policy"] + ("" if r["complete"] else f"\n({r['epochs']}/{r['epochs_planned']} ep.)")
             for r in rows]
    compute = [r["compute_j"] for r in rows]
    memory = [r["memory_j"] for r in rows]
    right.bar(names, compute, label="MACs")
    right.bar(names, memory, bottom=compute, label="memory traffic")
    right.set(ylabel="estimated training energy (J)", title="Training energy per scheme")
    right.tick_params(axis="x", rotation=45)
    right.legend(fontsize=8)
    fig.tight_layout()
    figure = _png(fig, plt)

    # Each scheme keeps its colour from the curves; the right panel zooms in on the schemes that
    # trained (within ZOOM_POINTS of the best), which a run that did not would squash flat.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    front = set(pareto_front(rows))
    on_front = sorted((r for r in rows if r["policy"] in front), key=lambda r: r["total_j"])
    best = max(100 * r["final_accuracy"] for r in rows)
    for ax, zoom in zip(axes, (False, True)):
        shown = [r for r in rows if not zoom or 100 * r["final_accuracy"] >= best - ZOOM_POINTS]
        ax.plot([r["total_j"] for r in on_front], [100 * r["final_accuracy"] for r in on_front],
                color="0.6", zorder=1, label="Pareto front")
        for i, r in enumerate(rows):
            if r in shown:
                ax.scatter(r["total_j"], 100 * r["final_accuracy"], color=f"C{i}", s=60, zorder=2,
                           marker="os^Dv"[i % 5], edgecolors="black" if r["policy"] in front else "none",
                           label=r["policy"] + ("" if r["complete"] else " (running)"))
        if zoom:
            low = min(100 * r["final_accuracy"] for r in shown)
            ax.set_ylim(low - 0.25 * (best - low + 1), best + 0.25 * (best - low + 1))
        ax.set(xlabel="estimated training energy (J)", ylabel="final test accuracy (%)",
               title=f"Within {ZOOM_POINTS:g} points of the best" if zoom else "Accuracy vs energy")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right", title="black edge: on the front", title_fontsize=8)
    fig.tight_layout()
    return {"figure.png": figure, "pareto.png": _png(fig, plt)}


def _png(fig, plt):
    buf = io.BytesIO()
    fig.savefig(buf, dpi=120, format="png")
    plt.close(fig)
    return buf.getvalue()
