"""The power flow: energy per MAC of a configuration at every runtime width, and of its
fixed-width baseline, from its own gates switching on GEMM jobs.

Variants of the same size: ``tunable`` (the configuration as given: lane gating and, by default,
subword packing), ``gated`` (lane gating without subword packing, when the configuration
packs: the design before packing, kept so that the effect of each change stays visible) and
``fixed`` (``tunable=False``: one max_width datapath). For each: generate
the Verilog, synthesize it (``flows.eda.synth``), then per width replay jobs on the gate-level
netlist (``flows.eda.activity``) and turn the toggles into energy (``flows.eda.energy``). Jobs are
random (uniform over each width's range) and, when a trace directory is given, real training
jobs (``traces/w<W>/*.npz`` from ``varimac train --trace``), cut down to at most two tiles in
each dimension by keeping evenly spaced rows and columns (real operand values from the whole
matrix, not one corner of it), K as in training up to the array's ``max_k``.
"""

import glob
from pathlib import Path

import numpy as np

from golden.files import save_figure, save_json, write_atomic

from .breakdown import CATEGORIES

# M. Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm, 0.9 V (pJ per operation).
HOROWITZ_45NM_PJ = {"add8": 0.03, "add32": 0.1, "mult8": 0.2, "mult32": 3.1}
DEFAULT_SLEW_S = {"nangate45": 0.0171859e-9, "sky130": 0.0531329e-9}   # a table index point
RANDOM_JOBS_PER_WIDTH = 2
VARIANT_ORDER = ("tunable", "gated", "fixed")
TARGETS = {"w8_over_fixed_w16": 0.35, "w4_over_fixed_w16": 0.15, "w4_over_w8": 0.30,
           "tunable_w16_over_fixed_w16": 1.05}


def horowitz_mac_pj(width, acc_width):
    """A MAC scaled from Horowitz's table: multiplier energy quadratic in the width between
    his 8- and 32-bit points, adder energy linear in the accumulator width."""
    mult = HOROWITZ_45NM_PJ["mult32"] * (width / 32) ** 2 if width > 8 else \
        HOROWITZ_45NM_PJ["mult8"] * (width / 8) ** 2
    add = HOROWITZ_45NM_PJ["add32"] * acc_width / 32
    return mult + add


def random_jobs(config, width, *, seed, count=RANDOM_JOBS_PER_WIDTH):
    """``count`` jobs of 2x2 tiles and K = min(max_k, 64), uniform operands at ``width``."""
    from golden import GemmJob
    rng = np.random.default_rng([seed, width])
    m, n, k = 2 * config.rows, 2 * config.cols, min(config.max_k, 64)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    frac = width - 1
    return [GemmJob(a=rng.integers(lo, hi, (m, k)), b=rng.integers(lo, hi, (k, n)),
                    a_width=width, a_frac=frac, b_width=width, b_frac=frac,
                    out_width=width, out_frac=frac, rounding=i % 2, seed=int(rng.integers(1 << 32)))
            for i in range(count)]


def trace_jobs(directory, config, *, per_width):
    """``{width: [jobs]}`` from ``directory``/w<W>/*.npz (or ``directory``/traces/w<W>/, or
    ``directory``/<run>/traces/w<W>/ of several training runs), each cropped to fit
    ``config``; ``ValueError`` when there are none for any supported width."""
    from golden import GemmJob
    from golden.inputs import InputError
    from sim import host
    root = Path(directory)
    if (root / "traces").is_dir():
        root = root / "traces"
    if not root.is_dir():
        raise ValueError(f"--jobs: {directory} is not a directory")
    out = {}
    for width in config.widths:
        files = sorted(glob.glob(str(root / f"w{width}" / "*.npz"))) or \
            sorted(glob.glob(str(root / "*" / "traces" / f"w{width}" / "*.npz")))
        if len(files) > per_width:          # spread over layers and GEMM kinds
            files = [files[i] for i in np.linspace(0, len(files) - 1, per_width).astype(int)]
        jobs = []
        for path in files:
            try:   # InputError names the file
                job = _crop(GemmJob.load(path), config)
                host.check_job(config, job)
            except InputError as exc:
                raise ValueError(f"--jobs: {exc}") from None
            except ValueError as exc:
                raise ValueError(f"--jobs: {path}: {exc}") from None
            jobs.append(job)
        if jobs:
            out[width] = jobs
    if not out:
        raise ValueError(f"--jobs: no job files in {root}/w<W>/ for widths "
                         f"{', '.join(map(str, config.widths))}")
    return out


def _crop(job, config):
    from golden import GemmJob
    m, k, n = job.shape
    m2, n2, k2 = min(m, 2 * config.rows), min(n, 2 * config.cols), min(k, config.max_k)
    shift = min(max(job.shift, config.min_shift), config.max_shift)
    out_frac = job.a_frac + job.b_frac - shift
    rows, cols, ks = (np.linspace(0, size - 1, keep).round().astype(int)
                      for size, keep in ((m, m2), (n, n2), (k, k2)))
    return GemmJob(a=job.a[np.ix_(rows, ks)], b=job.b[np.ix_(ks, cols)], a_width=job.a_width,
                   a_frac=job.a_frac, b_width=job.b_width, b_frac=job.b_frac,
                   out_width=job.out_width, out_frac=out_frac, rounding=job.rounding,
                   seed=job.seed)


def variant_configs(config):
    """``{variant: AccelConfig}``: the configuration as given and its baselines (see above)."""
    from hw.config import AccelConfig
    if not config.tunable:
        return {"fixed": config}
    variants = {"tunable": config}
    if config.subword:
        variants["gated"] = AccelConfig(**dict(config.params(), subword=False))
    variants["fixed"] = AccelConfig(**dict(config.params(), tunable=False))
    return variants


def plan(variants, *, traces):
    """The replays to run for ``{variant: config}``: ``[(variant, source, width, jobs), ...]``."""
    runs = []
    for variant, cfg in variants.items():
        for width in cfg.widths:
            runs.append((variant, "random", width, random_jobs(cfg, width, seed=width)))
            if traces and width in traces:
                runs.append((variant, "trace", width, traces[width]))
    return runs


def clocks_for(variants, *, library_name, timing=None, clock_ns=None):
    """``{variant: {"period_ns", "delay_target_ps", "source", "met_ns"}}``: the period each
    variant's testbench runs at and the delay target it is synthesized for. From ``timing``
    (the runs of a ``timing.json``): every variant synthesized for its entry's target and
    clocked at the longest period any of them met (``met_ns`` its own), so that all compare at
    one clock that all of them meet; else ``clock_ns`` (area-mapped netlists); else the 10 ns
    the flow always assumed. ``ValueError`` when ``timing`` lacks a variant."""
    out = {}
    for variant, cfg in variants.items():
        if timing is None:
            out[variant] = {"period_ns": clock_ns or _clock_ns(), "delay_target_ps": None,
                            "source": "--clock-ns" if clock_ns else "default"}
            continue
        array = f"{cfg.rows}x{cfg.cols}"
        found = [e for e in timing if (e.get("library"), e.get("array"), e.get("variant"))
                 == (library_name, array, variant) and e.get("config") == cfg.params()]
        if not found:
            raise ValueError(f"no {library_name} {array} {variant} entry for this "
                             "configuration")
        out[variant] = {"period_ns": found[0]["period_ns"], "met_ns": found[0]["period_ns"],
                        "delay_target_ps": found[0]["delay_target_ps"],
                        "source": "the longest period met in timing.json"}
    if timing is not None:
        common = max(c["period_ns"] for c in out.values())
        for c in out.values():
            c["period_ns"] = common
    return out


def run_power(*, config, library_name, out_dir, build_dir, traces=None, slew=None,
              wire="library", progress=True, variants=VARIANT_ORDER, timing=None,
              clock_ns=None, glitches=True):
    """Run the whole flow; returns the ``power.json`` dict (the caller writes it).

    Intermediate files go to ``out_dir``/work; ``progress`` shows a bar on stderr; ``variants``
    limits the variants measured (the demo measures only ``tunable``); ``timing`` and
    ``clock_ns`` set each variant's clock (``clocks_for``).
    """
    from .activity import replay
    from golden.files import write_atomic
    from hw.export import write_verilog
    from .energy import compute_energy
    from .glitchsim import ideal_clock, read_sdf, write_sdf
    from .liberty import prepare_liberty
    from .opensta_power import check

    slew = DEFAULT_SLEW_S[library_name] if slew is None else slew
    out = Path(out_dir)
    work = out / "work"
    lib_path, library = prepare_liberty(library_name, build_dir=build_dir)
    variants = {name: cfg for name, cfg in variant_configs(config).items() if name in variants}
    clocks = clocks_for(variants, library_name=library_name, timing=timing, clock_ns=clock_ns)
    runs = plan(variants, traces=traces)
    delay_modes = ("zero_delay", "glitch") if glitches else ("zero_delay",)
    from tqdm import tqdm
    bar = tqdm(total=2 * len(variants) + len(runs) * len(delay_modes), desc="power", unit="step",
               disable=not progress, dynamic_ncols=True)

    started = []

    def tick(what):
        if started:
            bar.update(1)
        started.append(what)
        bar.set_postfix_str(what or "done")
    netlists, synth_stats, arcs, activity = {}, {}, {}, {}
    for variant, cfg in variants.items():
        tick(f"synthesize {variant} {cfg.rows}x{cfg.cols} ({library_name})")
        vdir = work / variant
        write_verilog(cfg, vdir / "verilog", write_atomic=write_atomic)
        netlists[variant], synth_stats[variant] = _synthesized(
            vdir, library_name=library_name, build_dir=build_dir, lib_path=lib_path,
            delay_target_ps=clocks[variant]["delay_target_ps"])
        if glitches:
            netlists[variant].write_verilog(vdir / "netlist.v")
            arcs[variant] = ideal_clock(
                read_sdf(write_sdf(liberty=lib_path, verilog=vdir / "netlist.v", top="varimac",
                                   work_dir=vdir / "sdf")), netlist=netlists[variant],
                library=library)
    results = []
    for variant, source, width, jobs in runs:
        cfg = variants[variant]
        clock = clocks[variant]["period_ns"]
        row = {"variant": variant, "source": source, "width": width, "jobs": len(jobs),
               "clock_ns": clock,
               "horowitz_scaled_pj_per_mac": round(horowitz_mac_pj(width, cfg.acc_width), 3)}
        for mode in delay_modes:
            tick(f"replay {variant} width {width} ({source} jobs, {mode.replace('_', ' ')})")
            rep = replay(config=cfg, jobs=jobs, netlist=netlists[variant], library=library,
                         work_dir=work / variant / f"{source}_w{width}_{mode}", clock_ns=clock,
                         arcs=arcs[variant] if mode == "glitch" else None)
            e = compute_energy(netlist=netlists[variant], library=library,
                               toggles=rep.toggles, slew=slew, wire=wire)
            row.update(macs=rep.macs, cycles=rep.cycles,
                       macs_per_cycle=round(rep.macs / rep.cycles, 3))
            row[mode] = energy_summary(e, macs=rep.macs, seconds=rep.cycles * 1e-9 * clock,
                                       toggles=sum(rep.toggles.values()))
            if source == "random" and width == cfg.max_width and mode == "glitch":
                activity[variant] = mean_activity(netlists[variant], library, rep)
        headline = row["glitch" if glitches else "zero_delay"]
        row.update(delays="glitch" if glitches else "zero_delay",
                   pj_per_mac=headline["pj_per_mac"],
                   by_category_pj_per_mac=headline["by_category_pj_per_mac"])
        results.append(row)
    opensta = {}
    for variant, act in activity.items():
        tick(f"OpenSTA report_power {variant}")
        vdir = work / variant
        netlists[variant].write_verilog(vdir / "netlist.v")
        opensta[variant] = check(netlist=netlists[variant], library=library, liberty=lib_path,
                                 verilog=vdir / "netlist.v", period_ns=clocks[variant]["period_ns"],
                                 activity=act, slew=slew, wire=wire, work_dir=vdir / "opensta")
    tick(None)
    bar.close()
    periods = {c["period_ns"] for c in clocks.values()}
    return {
        "config": config.params(), "library": library_name, "voltage_v": library.voltage,
        "clock_ns": periods.pop() if len(periods) == 1 else None, "clock": clocks,
        "slew_ps": round(slew * 1e12, 3), "wire_model": wire,
        "categories": list(CATEGORIES), "synthesis": synth_stats, "runs": results,
        "delays": "glitch" if glitches else "zero_delay",
        "ratios": ratios(results), "targets": TARGETS,
        "ratios_zero_delay": ratios(results, mode="zero_delay"), "opensta": opensta,
        "horowitz_45nm_pj": HOROWITZ_45NM_PJ,
    }


def _synthesized(vdir, *, library_name, build_dir, lib_path, delay_target_ps):
    """``synthesize`` the Verilog in ``vdir``/verilog, or reuse the netlist a previous run left
    in ``vdir``/synth for the same Verilog, library file, target and synthesis code."""
    import hashlib
    import json

    from .netlist import Netlist
    from .synth import category_of, synthesize
    source = vdir / "verilog" / "varimac.v"
    key = hashlib.sha256(b"|".join([
        source.read_bytes(), Path(lib_path).read_bytes(), str(delay_target_ps).encode(),
        Path(__file__).with_name("synth.py").read_bytes(),
        Path(__file__).with_name("breakdown.py").read_bytes()])).hexdigest()
    stamp, out = vdir / "synth" / "key.txt", vdir / "synth"
    if stamp.is_file() and stamp.read_text() == key and (out / "synth.json").is_file():
        return (Netlist(out / "netlist.json", top="varimac", category_of=category_of),
                json.loads((out / "synth.json").read_text()))
    result = synthesize(sources=[source], top="varimac", library_name=library_name,
                        out_dir=out, build_dir=build_dir, delay_target_ps=delay_target_ps)
    stamp.write_text(key)
    return result


def mean_activity(netlist, library, rep):
    """Mean toggles per clock cycle of the nets a cell drives and no clock pin loads: the
    activity the OpenSTA check gives every such pin (``flows.eda.opensta_power``)."""
    from .opensta_power import uniform_toggles
    nets = [n for n, a in uniform_toggles(netlist, library, 1.0).items() if a == 1.0]
    return round(sum(rep.toggles.get(n, 0) for n in nets) / (len(nets) * rep.cycles), 5)


def energy_summary(e, *, macs, seconds, toggles):
    """One simulation's ``Energy`` per MAC: total, by category, by term, leakage."""
    pj = 1e12 / macs
    return {
        "pj_per_mac": round(e.total_dynamic * pj, 4),
        "by_category_pj_per_mac": {c: round(e.dynamic[c] * pj, 4) for c in CATEGORIES},
        "clock_by_owner_pj_per_mac": {k: round(v * pj, 4) for k, v in e.clock_by_owner.items()},
        "switching_pj_per_mac": round(sum(e.switching.values()) * pj, 4),
        "internal_pj_per_mac": round(sum(e.internal.values()) * pj, 4),
        "leakage_uw": round(e.total_leakage * 1e6, 3),
        "leakage_pj_per_mac": round(e.total_leakage * seconds * pj, 4),
        "toggles": int(toggles),
    }


def _clock_ns():
    from .activity import CLOCK_NS
    return CLOCK_NS


def ratios(results, *, mode=None):
    """Per job source: each width's energy per MAC over the fixed array's at full width (the
    baseline the targets name), over the same array's full width, the two narrowest widths'
    ratio, and the full widths' ratio (keys of the ``gated`` variant prefixed ``gated_``);
    ``met`` for the issue's targets (the ``tunable`` array's). ``mode`` (``zero_delay`` or
    ``glitch``) picks that simulation's figure, else the headline ``pj_per_mac``."""
    out = {}
    by = {(r["variant"], r["source"], r["width"]):
          r[mode]["pj_per_mac"] if mode else r["pj_per_mac"] for r in results}
    for source in sorted({r["source"] for r in results}):
        entry = {}
        for variant, prefix in (("tunable", ""), ("gated", "gated_")):
            widths = sorted(w for v, s, w in by if v == variant and s == source)
            if not widths:
                continue
            full = widths[-1]
            fixed = by.get(("fixed", source, full))
            for w in widths[:-1]:
                if fixed:
                    entry[f"{prefix}w{w}_over_fixed_w{full}"] = round(
                        by[(variant, source, w)] / fixed, 3)
                entry[f"{prefix}w{w}_over_w{full}"] = round(
                    by[(variant, source, w)] / by[(variant, source, full)], 3)
            if len(widths) > 2:
                entry[f"{prefix}w{widths[0]}_over_w{widths[1]}"] = round(
                    by[(variant, source, widths[0])] / by[(variant, source, widths[1])], 3)
            if fixed:
                entry[f"{prefix}tunable_w{full}_over_fixed_w{full}"] = round(
                    by[(variant, source, full)] / fixed, 3)
        entry["met"] = {k: v <= TARGETS[k] for k, v in entry.items() if k in TARGETS}
        out[source] = entry
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
    # files written before the glitch-aware simulation have one (zero-delay) figure per run
    lines = ["| array | jobs | W | MACs/cycle | "
             + (" | ".join(heads[m] for m in sims) if sims else "pJ/MAC") + " | "
             + " | ".join(SHORT_CATEGORIES.values()) + " |",
             "|---|---|---|---|" + "---|" * (max(len(sims), 1) + len(SHORT_CATEGORIES))]
    for r in runs:
        cats = " | ".join(f"{r['by_category_pj_per_mac'][c]:.2f}" for c in SHORT_CATEGORIES)
        figs = " | ".join((f"**{r[m]['pj_per_mac']:.2f}**" if m == r.get("delays")
                           else f"{r[m]['pj_per_mac']:.2f}") for m in sims if m in r) \
            or f"**{r['pj_per_mac']:.2f}**"
        lines.append(f"| {r['variant']} | {r['source']} | {r['width']} | "
                     f"{r['macs_per_cycle']:.1f} | {figs} | {cats} |")
    columns = [(s, "ratios") for s in report["ratios"]]
    if "ratios_zero_delay" in report and report.get("delays") == "glitch":
        columns += [(s, "ratios_zero_delay") for s in report["ratios_zero_delay"]]
    lines += ["", "| ratio | " + " | ".join(
        s + (" (zero-delay)" if k == "ratios_zero_delay" else "") for s, k in columns)
        + " | target |", "|---|" + "---|" * len(columns) + "---|"]
    keys = [k for k in next(iter(report["ratios"].values()), {}) if k != "met"]
    for key in keys:
        values = " | ".join(str(report[k][s].get(key, "")) for s, k in columns)
        target = TARGETS.get(key.removeprefix("gated_"))
        verdict = ""
        if key in TARGETS:
            met = all(r["met"].get(key, False) for r in report["ratios"].values())
            verdict = f"≤ {target}: {'met' if met else 'not met'}"
        elif target is not None:
            verdict = f"(≤ {target} for the tunable array)"
        lines.append(f"| {key} | {values} | {verdict} |")
    if "clock" in report:       # files written before the clock was a parameter ran at 10 ns
        lines += ["", "Clock: " + "; ".join(
            f"{v} {c['period_ns']:g} ns ({c['source']}"
            + (f"; this array meets {c['met_ns']:g} ns" if c.get("met_ns") else "")
            + (f", synthesized for {c['delay_target_ps']} ps" if c["delay_target_ps"] else "")
            + ")" for v, c in report["clock"].items()) + "."]
    if report.get("opensta"):
        lines += ["", ("OpenSTA `report_power` against the flow's prices, one clock period at "
                       "the full-width random run's mean activity on every non-clock pin (µW):"),
                  "", ("| array | activity | term | flow | OpenSTA | OpenSTA / flow | flow, "
                       "OpenSTA's group rule | OpenSTA / that |"),
                  "|---|---|---|---|---|---|---|---|"]
        for v, c in report["opensta"].items():
            for t in ("internal", "switching", "leakage", "total"):
                rule = c["flow_by_opensta_rule"].get(t)
                lines.append(
                    f"| {v} | {c['activity']:g} | {t} | {c['flow'][t]:,.1f} | "
                    f"{c['opensta'][t]:,.1f} | {c['ratio'][t]} | "
                    + (f"{rule:,.1f} | {c['ratio_to_opensta_rule'][t]} |" if rule else " | |"))
    if "synthesis" in report:
        lines += ["", "Area: " + "; ".join(
            f"{v} {st['area_um2']:,.0f} µm² ({st['cells']:,} cells, {st['flops']:,} flops, "
            f"{st['clock_gates']} clock gates)" for v, st in report["synthesis"].items()) + "."]
    return "\n".join(lines) + "\n"


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
