"""``varimac system``'s tables and figures: time and energy per scheme, roofline, RTL check."""

import os


def _x(v):
    return f"{v:.2f}×" if v is not None else "–"


CLAIM = ("two-phase", "adaptive")


def summary(data):
    """The seed's claim in one table: each scheme of ``CLAIM`` (and any finished scheme whose
    final accuracy is within 1.5 points of float32's that spends the least energy) against
    fixed-16 and float32, in time and full-system energy, per memory configuration."""
    lines = ["| scheme | memory | time vs fixed-16 | energy vs fixed-16 | time vs float32 | "
             "energy vs float32 | DRAM share of energy |", "|---|---|---|---|---|---|---|"]
    for mem in data["memories"]:
        rows = data["schemes"][mem["name"]]
        shown = [r for r in rows if r["policy"] in CLAIM]
        ref = next((r for r in rows if r["policy"] == "float32" and r["complete"]), None)
        if ref is not None:
            good = [r for r in rows if r["complete"] and r["policy"] not in CLAIM + ("float32",)
                    and r["final_accuracy"] >= ref["final_accuracy"] - 0.015]
            shown += sorted(good, key=lambda r: r["total_j"])[:1]
        for r in shown:
            lines.append(f"| {r['policy']} | {mem['name']} | {_x(r['time_vs_fixed-16'])} | "
                         f"{_x(r['energy_vs_fixed-16'])} | {_x(r['time_vs_float32'])} | "
                         f"{_x(r['energy_vs_float32'])} | {r['dram_j'] / r['total_j']:.0%} |")
    return "\n".join(lines) + "\n"


def markdown(data):
    """system.md from the dict that system.json holds."""
    lines = [f"Array {data['array']}, clock {data['period_ns']:g} ns ({data['clock_source']}); "
             f"energy per MAC from `{data['power']}`; cycles and memory energy by "
             f"ZigZag {data['zigzag_version']}.", "", summary(data)]
    for mem in data["memories"]:
        name = mem["name"]
        lines += [f"**{name}**: {mem['description']} (buffer {mem['buffer_bytes'] // 1024} KB, "
                  f"DRAM {mem['dram_bytes_per_second'] / 1e9:g} GB/s = "
                  f"{mem['dram_bits_per_cycle']} bits per cycle, "
                  f"{mem['dram_pj_per_bit']:.3g} pJ/bit; `{mem['file']}`)", "",
                  "| scheme | epochs | final acc. | time (h) | vs fixed-16 | vs float32 | "
                  "bandwidth-bound time | MACs (J) | buffer (J) | DRAM (J) | energy (J) | "
                  "vs fixed-16 | vs float32 | DRAM traffic (GB) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in data["schemes"][name]:
            epochs = f"{r['epochs']}/{r['epochs_planned']}" + \
                ("" if r["complete"] else " (running)")
            lines.append(
                f"| {r['policy']} | {epochs} | {r['final_accuracy']:.2%} | "
                f"{r['time_s'] / 3600:.3g} | {_x(r['time_vs_fixed-16'])} | "
                f"{_x(r['time_vs_float32'])} | {r['bandwidth_bound_share']:.0%} | "
                f"{r['mac_j']:.3g} | {r['buffer_j']:.3g} | {r['dram_j']:.3g} | "
                f"{r['total_j']:.3g} | {_x(r['energy_vs_fixed-16'])} | "
                f"{_x(r['energy_vs_float32'])} | {r['dram_bits'] / 8e9:.3g} |")
        lines.append("")
    lines += ["Cycle model against RTL simulation (ideal memory; simulated cycles from the "
              "committed files named):", "",
              "| jobs | array | M×K×N, width | predicted | simulated | predicted ÷ simulated |",
              "|---|---|---|---|---|---|"]
    for c in data["rtl_check"]:
        shapes = ", ".join(f"{m}×{k}×{n} W{w}" for m, k, n, w in c["jobs"][:1]) + \
            (f" (×{len(c['jobs'])})" if len(c["jobs"]) > 1 else "")
        lines.append(f"| {c['name']} | {c['array']} | {shapes} | {c['predicted']:.0f} | "
                     f"{c['simulated']} | {c['predicted_over_simulated']:.3f} |")
    return "\n".join(lines) + "\n"


def plot(data, out_dir):
    """``system.png`` (time and energy split per scheme) and ``roofline.png``; their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"font.size": 9, "axes.labelsize": 9, "axes.titlesize": 10}):
        return _plot(plt, data, out_dir)


def _plot(plt, data, out_dir):

    mems = data["memories"]
    fig, axes = plt.subplots(2, len(mems), figsize=(6 * len(mems), 8), squeeze=False)
    for j, mem in enumerate(mems):
        rows = data["schemes"][mem["name"]]
        names = [r["policy"] for r in rows]
        axes[0][j].bar(names, [r["time_s"] / 3600 for r in rows], color="C0")
        axes[0][j].set(ylabel="training time on the accelerator (h)",
                       title=f"{mem['name']}: time ({data['period_ns']:g} ns clock)")
        bottom = [0.0] * len(rows)
        for key, label in (("mac_j", "MACs"), ("buffer_j", "on-chip buffer"), ("dram_j", "DRAM")):
            vals = [r[key] for r in rows]
            axes[1][j].bar(names, vals, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, vals)]
        axes[1][j].set(ylabel="training energy (J)", title=f"{mem['name']}: energy")
        axes[1][j].legend(fontsize=8)
        for ax in axes[:, j]:
            ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    system = os.path.join(out_dir, "system.png")
    fig.savefig(system, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(mems), figsize=(6.5 * len(mems), 4.8), squeeze=False)
    for ax, mem in zip(axes[0], mems):
        roof = data["roofline"][mem["name"]]
        bw = roof["dram_bytes_per_cycle"]
        widths = sorted({max(p["a"], p["b"]) for p in roof["points"]})
        xs = [p["macs_per_dram_byte"] for p in roof["points"]]
        lo, hi = min(xs) / 2, max(xs) * 2
        for i, w in enumerate(widths):
            pts = [p for p in roof["points"] if max(p["a"], p["b"]) == w]
            peak = pts[0]["peak_macs_per_cycle"]
            label = "float32" if w == 32 else f"{w}-bit"
            ax.plot([lo, peak / bw, hi], [lo * bw, peak, peak], color=f"C{i}", lw=1, alpha=0.6)
            ax.scatter([p["macs_per_dram_byte"] for p in pts], [p["macs_per_cycle"] for p in pts],
                       color=f"C{i}", label=label, s=[40 if p["bandwidth_bound"] else 14
                                                      for p in pts], zorder=3)
        ax.set(xscale="log", yscale="log", xlabel="MACs per DRAM byte",
               ylabel="MACs per cycle (ZigZag)",
               title=f"{mem['name']}: DRAM {bw:g} bytes/cycle; large dots bandwidth-bound")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    roofline = os.path.join(out_dir, "roofline.png")
    fig.savefig(roofline, dpi=110)
    plt.close(fig)
    return system, roofline
