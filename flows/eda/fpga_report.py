"""The FPGA sweep's report (``flows.eda.fpga.run_sweep``'s dict) as ``fpga.md``, Markdown
tables that docs/fpga.md and the README quote, and as ``fpga.png``, a chart of LUT use and
Fmax per array size."""


def markdown(report):
    """The sweep as Markdown tables (``fpga.md``; docs/fpga.md quotes it)."""
    c, t = report["config"], report["target"]
    packing = ", subword packing" if c.get("subword") else ""
    if c.get("mult_stages"):
        packing += f", {c['mult_stages']} register stage in the multiplier (`mult_stages`)"
    seeds = report["seeds"]
    verdict = "met" if t["met"] else "not met"
    lines = [f"{report['family']} {report['device']}, {c['max_width']}-bit operands in "
             f"{c['lane_width']}-bit lanes{packing}, K ≤ {c['max_k']}; largest array that fits: "
             f"{report['largest_fitting'] or 'none'}; target {t['array'].replace('x', '×')} at "
             f"≥ {t['mhz']:g} MHz: **{verdict}** ("
             + (f"{t['fmax_mhz']} MHz" if t["fmax_mhz"] else
                f"{t['array'].replace('x', '×')} not placed") + ")",
             "", f"| array | LUTs | FFs | DSPs | PEs on DSPs | BRAMs | Fmax (MHz), best of "
             f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} | fits |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["arrays"]:
        cap = r["capacity"]
        if "luts" in r:
            row = (f"{r['luts']} / {cap['luts']} | {r['ffs']} | {r['dsps']} / {cap['dsps']} | "
                   f"{r['pes_on_dsps']} of {r['pes_on_dsps'] + r['pes_in_logic']} | "
                   f"{r['brams']} | {r['fmax_mhz'] if r['fits'] else '–'}")
        else:
            row = "– | – | – | – | – | –"
        verdict = "yes" if r["fits"] else f"no: {r['reason']}".replace("|", "\\|")
        lines.append(f"| {r['rows']}×{r['cols']} | {row} | {verdict} |")
    lines += ["", "Critical path (nextpnr, best seed): the hw modules it runs through, from "
              "the `src` of its cells", "",
              "| array | delay (ns) | of it routing | logic steps | from | to | through |",
              "|---|---|---|---|---|---|---|"]
    for r in report["arrays"]:
        p = r.get("critical_path")
        if p:
            lines.append(f"| {r['rows']}×{r['cols']} | {p['delay_ns']} | {p['routing_ns']} | "
                         f"{p['logic_steps']} | `{p['from']}` | `{p['to']}` | "
                         f"{' → '.join(f'`{m}`' for m in p['through'])} |")
    blocks = report.get("area_per_block")
    if blocks:
        lines += ["", f"Area per block at {blocks['array'].replace('x', '×')} (Yosys per "
                  "module, synthesized without flattening; per instance, min–max):", "",
                  "| block | instances | LUTs | FFs | DSPs |", "|---|---|---|---|---|"]
        for name, b in blocks["blocks"].items():
            span = [f"{lo}" if lo == hi else f"{lo}–{hi}" for lo, hi in
                    (b["luts"], b["ffs"], b["dsps"])]
            lines.append(f"| {name} | {b['instances']} | {' | '.join(span)} |")
    return "\n".join(lines) + "\n"


def plot(report, path):
    """``fpga.png``: LUT use (of the device's) and Fmax per array size; sizes that do not fit
    are drawn hatched at Yosys' LUT count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = [r for r in report["arrays"] if "luts" in r]
    names = [f"{r['rows']}×{r['cols']}" for r in arrays]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, r in enumerate(arrays):
        ax.bar(i, r["luts"], color="C0" if r["fits"] else "none", edgecolor="C0",
               hatch=None if r["fits"] else "//")
    ax.axhline(arrays[0]["capacity"]["luts"] if arrays else 0, color="k", ls="--", lw=0.8,
               label="device LUTs")
    ax.set_xticks(range(len(arrays)), names)
    ax.set(xlabel="array (PEs)", ylabel="LUTs (hatched: does not fit)",
           title=f"varimac on {report['family']} {report['device']}")
    right = ax.twinx()
    fits = [(i, r["fmax_mhz"]) for i, r in enumerate(arrays) if r["fits"]]
    right.plot([i for i, _ in fits], [f for _, f in fits], "o-", color="C3", label="Fmax")
    right.set_ylabel("Fmax (MHz)", color="C3")
    right.set_ylim(0, 1.4 * max([f for _, f in fits], default=1))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
