"""The power flow's outputs: ratios of energy per MAC against the targets
(``flows.targets.POWER``), and ``power.json``, ``power.md`` and ``power.png``."""

from itertools import pairwise
from pathlib import Path

import numpy as np

from flows.targets import POWER as TARGETS
from golden.files import save_figure, save_json, write_atomic

from .power_spread import ratio_error
from .variants import VARIANT_ORDER


def _pairs(results, mode):
    """``{source: [(key, numerator row, denominator row, same jobs), ...]}`` of ``ratios``
    (rows of ``mode``'s simulation, else the headline's)."""
    by = {(r["variant"], r["source"], r["width"]): r.get(mode or r.get("delays"), r)
          for r in results}
    out = {}
    for source in sorted({r["source"] for r in results}):
        pairs = out.setdefault(source, [])
        for variant, prefix in (("tunable", ""), ("gated", "gated_")):
            widths = sorted(w for v, s, w in by if v == variant and s == source)
            if not widths:
                continue
            full = widths[-1]
            fixed = by.get(("fixed", source, full))
            row = {w: by[(variant, source, w)] for w in widths}
            for w in widths[:-1]:
                if fixed:
                    pairs.append((f"{prefix}w{w}_over_fixed_w{full}", row[w], fixed, False))
                pairs.append((f"{prefix}w{w}_over_w{full}", row[w], row[full], False))
            if len(widths) > 2:
                pairs.append((f"{prefix}w{widths[0]}_over_w{widths[1]}", row[widths[0]],
                              row[widths[1]], False))
            if fixed:
                pairs.append((f"{prefix}tunable_w{full}_over_fixed_w{full}", row[full], fixed,
                              True))
    return out

def ratios(results, *, mode=None):
    """Per job source: each width's energy per MAC over the fixed array's at full width (the
    baseline the targets name), over the same array's full width, the two narrowest widths'
    ratio, and the full widths' ratio (keys of the ``gated`` variant prefixed ``gated_``);
    ``met`` for the issue's targets (the ``tunable`` array's). ``mode`` (``zero_delay`` or
    ``glitch``) picks that simulation's figure, else the headline ``pj_per_mac``."""
    out = {}
    for source, pairs in _pairs(results, mode).items():
        entry = {k: round(a["pj_per_mac"] / b["pj_per_mac"], 3) for k, a, b, _ in pairs}
        entry["met"] = {k: v <= TARGETS[k] for k, v in entry.items() if k in TARGETS}
        out[source] = entry
    return out

def ratio_errors(results, *, mode=None):
    """``ratios``' standard errors from the rows' per-job spreads
    (``flows.eda.power_spread.ratio_error``); a ratio without spreads is left out."""
    out = {}
    for source, pairs in _pairs(results, mode).items():
        errors = {k: ratio_error(a, b, paired=same) for k, a, b, same in pairs}
        out[source] = {k: e for k, e in errors.items() if e is not None}
    return out

def _ordered_runs(report):
    """Runs by job source, then variant, then width: the order of the table and the plot."""
    return sorted(report["runs"], key=lambda r: (
        r["source"], VARIANT_ORDER.index(r["variant"]), r["width"]))

SHORT_CATEGORIES = {"multipliers": "mult", "accumulators": "acc", "lane_registers": "lane regs",
                    "clock": "clock", "quantizer": "quant", "control": "ctrl"}

def markdown(report):
    """The runs and the ratios as Markdown tables (``power.md``; docs/power.md quotes it).
    Categories are the headline simulation's (glitch-aware unless run without)."""
    runs = _ordered_runs(report)
    sims = [m for m in ("zero_delay", "glitch") if any(m in r for r in runs)]
    heads = {"zero_delay": "zero-delay pJ/MAC", "glitch": "glitch-aware pJ/MAC"}
    spread = any("spread" in r for r in runs)      # files before per-job figures have none
    # files written before the glitch-aware simulation have one (zero-delay) figure per run
    lines = ["| array | jobs | W | MACs/cycle | "
             + (" | ".join(heads[m] for m in sims) if sims else "pJ/MAC") + " | "
             + ("per job: mean ± sd (n) | " if spread else "")
             + " | ".join(SHORT_CATEGORIES.values()) + " |",
             "|---|---|---|---|" + "---|" * (max(len(sims), 1) + spread + len(SHORT_CATEGORIES))]
    for r in runs:
        cats = " | ".join(f"{r['by_category_pj_per_mac'][c]:.2f}" for c in SHORT_CATEGORIES)
        figs = " | ".join((f"**{r[m]['pj_per_mac']:.2f}**" if m == r.get("delays")
                           else f"{r[m]['pj_per_mac']:.2f}") for m in sims if m in r) \
            or f"**{r['pj_per_mac']:.2f}**"
        if spread:
            s = r.get("spread")
            figs += f" | {s['mean']:.2f} ± {s['std']:.2f} ({s['n']})" if s else " | "
        lines.append(f"| {r['variant']} | {r['source']} | {r['width']} | "
                     f"{r['macs_per_cycle']:.1f} | {figs} | {cats} |")
    lines += [""] + _ratio_lines(report)
    if "clock" in report:       # files written before the clock was a parameter ran at 10 ns
        lines += ["", "Clock: " + "; ".join(
            f"{v} {c['period_ns']:g} ns ({c['source']}"
            + (f"; this array meets {c['met_ns']:g} ns" if c.get("met_ns") else "")
            + (f", synthesized for {c['delay_target_ps']} ps" if c["delay_target_ps"] else "")
            + ")" for v, c in report["clock"].items()) + "."]
    if report.get("opensta"):
        lines += ["", *_opensta_lines(report["opensta"])]
    if "synthesis" in report:
        lines += ["", "Area: " + "; ".join(
            f"{v} {st['area_um2']:,.0f} µm² ({st['cells']:,} cells, {st['flops']:,} flops, "
            f"{st['clock_gates']} clock gates)" for v, st in report["synthesis"].items()) + "."]
    return "\n".join(lines) + "\n"


def _opensta_lines(checked):
    """OpenSTA's figures beside the flow's, and the steps between them
    (``flows.eda.opensta_power.decompose``)."""
    lines = [("OpenSTA `report_power` against the flow's prices, one clock period at the "
              "full-width random run's mean activity on every non-clock pin (µW):"), "",
             "| array | activity | term | flow | OpenSTA | OpenSTA / flow |",
             "|---|---|---|---|---|---|"]
    for v, c in checked.items():
        for t in ("internal", "switching", "leakage", "total"):
            lines.append(f"| {v} | {c['activity']:g} | {t} | {c['flow'][t]:,.1f} | "
                         f"{c['opensta'][t]:,.1f} | {c['ratio'][t]} |")
    factored = {v: c for v, c in checked.items() if "total_steps" in c}
    if factored:
        lines += ["", ("Internal power and the total, one change at a time from the flow's "
                       "price to OpenSTA's (µW, × the factor of that change; the switching and "
                       "leakage the flow's):"), "",
                  ("| array | term | flow | OpenSTA's pin activities | OpenSTA's slews, data pins "
                   "| and clock pins | OpenSTA 2.0.17's rule for the groups | OpenSTA |"),
                  "|---|---|---|---|---|---|---|---|"]
        for v, c in factored.items():
            for term in ("internal", "total"):
                s = c[f"{term}_steps"]
                cells = [f"{s['flow']:,.1f}"] + [
                    f"{s[k]:,.1f} (×{s[k] / s[j]:.4f})" for j, k in
                    pairwise(("flow", "activities", "data_slews", "clock_slews", "rule",
                              "opensta"))]
                lines.append(f"| {v} | {term} | " + " | ".join(cells) + " |")
    return lines


def _ratio_lines(report):
    """The ratio table: per job source (headline, then zero-delay), each ratio ± its standard
    error where the rows have spreads, and each target met or not per source."""
    columns = [(s, "ratios") for s in report["ratios"]]
    if "ratios_zero_delay" in report and report.get("delays") == "glitch":
        columns += [(s, "ratios_zero_delay") for s in report["ratios_zero_delay"]]
    errors = {"ratios": report.get("ratio_errors", {}),
              "ratios_zero_delay": report.get("ratio_errors_zero_delay", {})}
    lines = ["| ratio | " + " | ".join(
        s + (" (zero-delay)" if k == "ratios_zero_delay" else "") for s, k in columns)
        + " | target |", "|---|" + "---|" * len(columns) + "---|"]
    keys = [k for k in next(iter(report["ratios"].values()), {}) if k != "met"]
    for key in keys:
        values = []
        for s, k in columns:
            value, error = report[k][s].get(key, ""), errors[k].get(s, {}).get(key)
            values.append(f"{value} ± {error}" if error is not None else str(value))
        target = TARGETS.get(key.removeprefix("gated_"))
        verdict = ""
        if key in TARGETS:
            met = {s: r["met"].get(key, False) for s, r in report["ratios"].items()}
            verdict = f"≤ {target}: " + (("met" if all(met.values()) else "not met")
                                          if len(met) == 1 else ", ".join(
                f"{s} {'met' if m else 'not met'}" for s, m in met.items()))
        elif target is not None:
            verdict = f"(≤ {target} for the tunable array)"
        lines.append(f"| {key} | {' | '.join(values)} | {verdict} |")
    if any(errors["ratios"].values()):
        lines += ["", ("± is the ratio's standard error from the rows' per-job figures: for two "
                       "arrays on the same jobs (tunable ÷ fixed) the sd / √n of the per-job "
                       "ratios; else each row's sd / √n relative to its mean, the two added in "
                       "quadrature (first order, the rows' jobs independent).")]
    return lines

def write_outputs(report, out_dir):
    """``power.json``, ``power.md`` and ``power.png`` in ``out_dir``, each written atomically."""
    import matplotlib.pyplot as plt
    out = Path(out_dir)
    fig = plot(report)
    try:
        save_figure(out / "power.png", fig, dpi=120)
    finally:
        plt.close(fig)
    write_atomic(out / "power.md", lambda f: f.write(markdown(report)))
    save_json(out / "power.json", report, indent=2)

def plot(report):
    """The figure of stacked bars of energy per MAC by category, per width and variant (random jobs first)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = _ordered_runs(report)
    labels = [f"{r['variant'][:3]} w{r['width']}\n{r['source']}" for r in runs]
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(runs) + 4), 4.5))
    bottom = np.zeros(len(runs))
    for cat in report["categories"]:
        vals = np.array([r["by_category_pj_per_mac"][cat] for r in runs])
        if vals.any():
            ax.bar(labels, vals, bottom=bottom, label=cat.replace("_", " "))
            bottom += vals
    h = report["horowitz_45nm_pj"]
    ax.axhline(h["mult8"] + h["add32"], color="k", ls="--", lw=0.8,
               label="Horowitz 45 nm: 8b mult + 32b add")
    ax.axhline(h["mult32"] + h["add32"], color="k", ls=":", lw=0.8,
               label="Horowitz 45 nm: 32b mult + 32b add")
    c = report["config"]
    ax.set_ylabel("dynamic energy per MAC (pJ)")
    ax.set_title(f"varimac {c['rows']}x{c['cols']}, {report['library']}, "
                 f"{report['voltage_v']} V")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
