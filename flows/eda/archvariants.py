"""Architecture variants side by side (``varimac arch``): area, timing and energy per MAC of the
same array built with each ``AccelConfig`` architecture option, and of the fixed-width array,
from one run.

Per variant: the power flow's synthesis (area mapping, ``flows.eda.synth``), which is also what
``varimac timing --no-delay-target`` times: OpenSTA's period met and the area per block
(``flows.eda.timing.run_one``); then the power flow's random jobs at each width replayed on that
same netlist, checked bit for bit against golden, and its zero-delay energy per MAC
(``flows.eda.activity``, ``flows.eda.energy``); with training traces
(``flows.eda.power_plan.trace_jobs``) their jobs too, in rows whose ``source`` is "trace".
"""

from pathlib import Path

from hw.config import PLAIN_VARIANT

from .breakdown import CATEGORIES

# name -> AccelConfig overrides. "current" is the configuration as given (by default every
# option docs/power.md's measurements kept); "plain" is the array before those options, and
# each option alone is measured on top of it.
_PLAIN = {k: v for k, v in PLAIN_VARIANT.items() if k != "mult_stages"}
VARIANTS = {
    "current": {},
    "plain": _PLAIN,
    "folded": {**_PLAIN, "mult_tree": "folded"},
    "valid_gating": {**_PLAIN, "valid_gating": True},
    "zero_gating": {**_PLAIN, "zero_gating": True},
    "register_gates": {**_PLAIN, "clock_gates": "register"},
    "fused2d": {"mult_tree": "fused2d"},
    "fixed": {"tunable": False},
}
DEFAULT_WIDTHS = (16, 8, 4)


def variant_config(config, name):
    from hw.config import AccelConfig
    return AccelConfig(**{**config.params(), **VARIANTS[name]})


def replays(cfg, widths, traces):
    """``[(source, width, jobs), ...]`` for one variant: random jobs at each of ``widths`` it
    supports, and the trace jobs of ``traces`` (``{width: jobs}``, or None) at those widths."""
    out = []
    for width in [w for w in widths if w in cfg.widths]:
        out.append(("random", width, None))
        if traces and width in traces:
            out.append(("trace", width, traces[width]))
    return out


def run_variant(*, config, name, widths, library_name, out_dir, build_dir, target_ns, tick,
                traces=None):
    """One variant's entry: synthesis area, timing and energy per MAC per width (and per
    source, random or trace)."""
    from .activity import replay
    from .energy import compute_energy
    from .liberty import prepare_liberty
    from .netlist import Netlist
    from .power import DEFAULT_SLEW_S
    from .power_plan import random_jobs
    from .synth import category_of
    from .timing import run_one

    cfg = variant_config(config, name)
    work = Path(out_dir) / "work" / name.replace("+", "_")
    tick(f"synthesize and time {name}")
    timing = run_one(config=cfg, variant=name, library_name=library_name, target_ns=target_ns,
                     delay_target_ps=None, out_dir=work, build_dir=build_dir)
    netlist = Netlist(work / "synth" / "netlist.json", top="varimac", category_of=category_of)
    _, library = prepare_liberty(library_name, build_dir=build_dir)
    import json
    synth = json.loads((work / "synth" / "synth.json").read_text())
    runs = []
    for source, width, jobs in replays(cfg, widths, traces):
        tick(f"replay {name} {source} width {width}")
        jobs = jobs or random_jobs(cfg, width, seed=width)
        rep = replay(config=cfg, jobs=jobs, netlist=netlist, library=library,
                     work_dir=work / f"{source}_w{width}")
        e = compute_energy(netlist=netlist, library=library, toggles=rep.toggles,
                           slew=DEFAULT_SLEW_S[library_name], wire="library")
        pj = 1e12 / rep.macs
        runs.append({
            "source": source, "width": width, "jobs": len(jobs), "macs": rep.macs, "cycles": rep.cycles,
            "pj_per_mac": round(e.total_dynamic * pj, 4),
            "by_category_pj_per_mac": {c: round(e.dynamic[c] * pj, 4) for c in CATEGORIES},
            "clock_by_owner_pj_per_mac": {k: round(v * pj, 4)
                                          for k, v in e.clock_by_owner.items()},
        })
    return {
        "variant": name, "config": cfg.params(),
        "area_um2": synth["area_um2"], "cells": synth["cells"], "flops": synth["flops"],
        "clock_gates": synth["clock_gates"],
        "area_by_category_um2": {k: v["area_um2"] for k, v in synth["by_category"].items()},
        "area_by_block_um2": timing["area_um2"],
        "period_ns": timing["period_ns"], "fmax_mhz": timing["fmax_mhz"],
        "critical_path": {k: timing["critical_path"][k] for k in ("start", "end")
                          if k in timing["critical_path"]},
        "synth_s": timing["synth_s"], "runs": runs,
    }


def _pj(entry, source):
    return {r["width"]: r["pj_per_mac"] for r in entry["runs"]
            if r.get("source", "random") == source}


def ratios(entries):
    """Each variant's energy per MAC over the current design's at the same width, over the
    fixed array's 16-bit figure (trace rows: "trace_" ratios, over the fixed array's trace
    figure), and its area and period over the current design's."""
    by = {e["variant"]: e for e in entries}
    base, fixed = by.get("current"), by.get("fixed")
    out = {}
    for e in entries:
        r = {}
        for source, tag in (("random", ""), ("trace", "trace_")):
            pj = _pj(e, source)
            f = _pj(fixed, source) if fixed else {}
            if f:
                top = max(f)
                r.update({f"{tag}w{w}_over_fixed_w{top}": round(v / f[top], 3)
                          for w, v in pj.items()})
            if base and e is not base:
                b = _pj(base, source)
                r.update({f"{tag}w{w}_over_current": round(v / b[w], 3)
                          for w, v in pj.items() if w in b})
                if source == "random":
                    r["area_over_current"] = round(e["area_um2"] / base["area_um2"], 3)
                    r["period_over_current"] = round(e["period_ns"] / base["period_ns"], 3)
            if 4 in pj and 8 in pj:
                r[f"{tag}w4_over_w8"] = round(pj[4] / pj[8], 3)
        out[e["variant"]] = r
    return out


def markdown(report):
    """The tables of ``variants.md`` (trace columns and rows only where there are traces)."""
    runs = [r for e in report["variants"] for r in e["runs"]]
    widths = sorted({r["width"] for r in runs}, reverse=True)
    cols = [("random", w) for w in widths]
    traced = any(r.get("source") == "trace" for r in runs)
    if traced:
        cols += [("trace", w) for w in widths]
    cats = ("multipliers", "accumulators", "lane_registers", "clock", "quantizer", "control")
    lines = ["| variant | area µm² | flops | clock gates | period ns | "
             + " | ".join(f"pJ/MAC {'trace ' if s == 'trace' else ''}w{w}" for s, w in cols)
             + " |", "|---|---|---|---|---|" + "---|" * len(cols)]
    for e in report["variants"]:
        pj = {(r.get("source", "random"), r["width"]): r["pj_per_mac"] for r in e["runs"]}
        lines.append(f"| {e['variant']} | {e['area_um2']:,.0f} | {e['flops']} | "
                     f"{e['clock_gates']} | {e['period_ns']:.2f} | "
                     + " | ".join(f"{pj[c]:.3f}" if c in pj else "" for c in cols) + " |")
    src_head, src_rule = ("source | ", "---|") if traced else ("", "")
    lines += ["", f"| variant | {src_head}W | pJ/MAC | "
              + " | ".join(c.replace("_", " ") for c in cats) + " |",
              f"|---|{src_rule}---|---|" + "---|" * len(cats)]
    for e in report["variants"]:
        for r in e["runs"]:
            c = r["by_category_pj_per_mac"]
            src = f"{r.get('source', 'random')} | " if traced else ""
            lines.append(f"| {e['variant']} | {src}{r['width']} | **{r['pj_per_mac']:.3f}** | "
                         + " | ".join(f"{c[k]:.3f}" for k in cats) + " |")
    lines += ["", "| variant | ratio | value |", "|---|---|---|"]
    for name, r in report["ratios"].items():
        lines += [f"| {name} | {k} | {v} |" for k, v in r.items()]
    trace_note = (f"; trace jobs: {report['trace_note']}" if traced and "trace_note" in report
                  else "")
    lines += ["", f"{report['library']}, zero-delay activity, random jobs (2 per width, "
              f"K = 64){trace_note}, area-mapped netlists; period: OpenSTA's worst path on "
              "those netlists."]
    return "\n".join(lines) + "\n"
