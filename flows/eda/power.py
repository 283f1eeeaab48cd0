"""The power flow: energy per MAC of a configuration at every runtime width, and of its
fixed-width baseline, from its own gates switching on GEMM jobs.

For each variant of the same size (``flows.eda.variants``): generate
the Verilog, synthesize it (``flows.eda.synth``), then per width replay jobs on the gate-level
netlist (``flows.eda.activity``) and turn the toggles into energy (``flows.eda.energy``). Jobs are
random (uniform over each width's range) and, when a trace directory is given, real training
jobs (``traces/w<W>/*.npz`` from ``varimac train --trace``), cut down to at most two tiles in
each dimension by keeping evenly spaced rows and columns (real operand values from the whole
matrix, not one corner of it), K as in training up to the array's ``max_k``.
"""

from dataclasses import dataclass
from pathlib import Path

from flows.horowitz import INTEGER_PJ, integer_mac_pj
from flows.targets import POWER as TARGETS

from .breakdown import CATEGORIES
from .power_plan import clocks_for, plan
from .power_report import ratios
from .variants import VARIANT_ORDER, variant_configs

DEFAULT_SLEW_S = {"nangate45": 0.0171859e-9, "sky130": 0.0531329e-9}   # a table index point


def run_power(*, config, library_name, out_dir, build_dir, traces=None, slew=None,
              wire="library", progress=True, variants=VARIANT_ORDER, timing=None,
              clock_ns=None, glitches=True):
    """Run the whole flow; returns the ``power.json`` dict (the caller writes it).

    Intermediate files go to ``out_dir``/work; ``progress`` shows a bar on stderr; ``variants``
    limits the variants measured (the demo measures only ``tunable``); ``timing`` and
    ``clock_ns`` set each variant's clock (``clocks_for``).
    """
    from .liberty import prepare_liberty

    slew = DEFAULT_SLEW_S[library_name] if slew is None else slew
    work = Path(out_dir) / "work"
    lib_path, library = prepare_liberty(library_name, build_dir=build_dir)
    variants = {name: cfg for name, cfg in variant_configs(config).items() if name in variants}
    clocks = clocks_for(variants, library_name=library_name, timing=timing, clock_ns=clock_ns)
    runs = plan(variants, traces=traces)
    modes = ("zero_delay", "glitch") if glitches else ("zero_delay",)
    flow = _Flow(work=work, library_name=library_name, build_dir=build_dir, lib_path=lib_path,
                 library=library, slew=slew, wire=wire, clocks=clocks,
                 steps=_Steps(2 * len(variants) + len(runs) * len(modes), enabled=progress))
    netlists, synth_stats, arcs = flow.synthesize(variants, glitches=glitches)
    results, activity = flow.replay(runs, variants, netlists, arcs, modes=modes)
    opensta = flow.opensta(activity, netlists)
    flow.steps.close()
    periods = {c["period_ns"] for c in clocks.values()}
    return {
        "config": config.params(), "library": library_name, "voltage_v": library.voltage,
        "clock_ns": periods.pop() if len(periods) == 1 else None, "clock": clocks,
        "slew_ps": round(slew * 1e12, 3), "wire_model": wire,
        "categories": list(CATEGORIES), "synthesis": synth_stats, "runs": results,
        "delays": "glitch" if glitches else "zero_delay",
        "ratios": ratios(results), "targets": TARGETS,
        "ratios_zero_delay": ratios(results, mode="zero_delay"), "opensta": opensta,
        "horowitz_45nm_pj": INTEGER_PJ,
    }


class _Steps:
    """The progress bar: ``steps(what)`` closes the step before and names the one starting."""

    def __init__(self, total, *, enabled):
        from tqdm import tqdm
        self.bar = tqdm(total=total, desc="power", unit="step", disable=not enabled,
                        dynamic_ncols=True)
        self.started = False

    def __call__(self, what):
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_postfix_str(what or "done")

    def close(self):
        self(None)
        self.bar.close()


@dataclass
class _Flow:
    """One run's settings, shared by its three stages: synthesis, replay, the OpenSTA check."""
    work: Path
    library_name: str
    build_dir: Path
    lib_path: Path
    library: object
    slew: float
    wire: str
    clocks: dict
    steps: _Steps

    def synthesize(self, variants, *, glitches):
        """``(netlists, synthesis stats, cell delays or {})`` per variant."""
        from golden.files import write_atomic
        from hw.export import write_verilog

        from .glitchsim import ideal_clock, read_sdf, write_sdf
        netlists, stats, arcs = {}, {}, {}
        for variant, cfg in variants.items():
            self.steps(f"synthesize {variant} {cfg.rows}x{cfg.cols} ({self.library_name})")
            vdir = self.work / variant
            write_verilog(cfg, vdir / "verilog", write_atomic=write_atomic)
            netlists[variant], stats[variant] = _synthesized(
                vdir, library_name=self.library_name, build_dir=self.build_dir,
                lib_path=self.lib_path, delay_target_ps=self.clocks[variant]["delay_target_ps"])
            if glitches:
                netlists[variant].write_verilog(vdir / "netlist.v")
                sdf = write_sdf(liberty=self.lib_path, verilog=vdir / "netlist.v", top="varimac",
                                work_dir=vdir / "sdf")
                arcs[variant] = ideal_clock(read_sdf(sdf), netlist=netlists[variant],
                                            library=self.library)
        return netlists, stats, arcs

    def replay(self, runs, variants, netlists, arcs, *, modes):
        """``(rows of power.json's runs, {variant: mean activity of its full-width random run})``."""
        results, activity = [], {}
        for variant, source, width, jobs in runs:
            cfg = variants[variant]
            clock = self.clocks[variant]["period_ns"]
            row = {"variant": variant, "source": source, "width": width, "jobs": len(jobs),
                   "clock_ns": clock,
                   "horowitz_scaled_pj_per_mac": round(integer_mac_pj(width, cfg.acc_width), 3)}
            for mode in modes:
                self.steps(f"replay {variant} width {width} ({source} jobs, "
                           f"{mode.replace('_', ' ')})")
                rep = self._simulate(variant, cfg, jobs, netlists[variant], clock=clock,
                                     arcs=arcs[variant] if mode == "glitch" else None,
                                     work_dir=self.work / variant / f"{source}_w{width}_{mode}")
                row.update(macs=rep.macs, cycles=rep.cycles,
                           macs_per_cycle=round(rep.macs / rep.cycles, 3))
                row[mode] = self._energy(netlists[variant], rep, clock=clock)
                if source == "random" and width == cfg.max_width and mode == "glitch":
                    activity[variant] = mean_activity(netlists[variant], self.library, rep)
            headline = row[modes[-1]]
            row.update(delays=modes[-1], pj_per_mac=headline["pj_per_mac"],
                       by_category_pj_per_mac=headline["by_category_pj_per_mac"])
            results.append(row)
        return results, activity

    def _simulate(self, variant, cfg, jobs, netlist, *, clock, arcs, work_dir):
        from .activity import replay
        return replay(config=cfg, jobs=jobs, netlist=netlist, library=self.library,
                      work_dir=work_dir, clock_ns=clock, arcs=arcs)

    def _energy(self, netlist, rep, *, clock):
        from .energy import compute_energy
        e = compute_energy(netlist=netlist, library=self.library, toggles=rep.toggles,
                           slew=self.slew, wire=self.wire)
        return energy_summary(e, macs=rep.macs, seconds=rep.cycles * 1e-9 * clock,
                              toggles=sum(rep.toggles.values()))

    def opensta(self, activity, netlists):
        """OpenSTA's ``report_power`` against the flow's prices, per variant with an activity."""
        from .opensta_power import check
        out = {}
        for variant, act in activity.items():
            self.steps(f"OpenSTA report_power {variant}")
            vdir = self.work / variant
            netlists[variant].write_verilog(vdir / "netlist.v")
            out[variant] = check(netlist=netlists[variant], library=self.library,
                                 liberty=self.lib_path, verilog=vdir / "netlist.v",
                                 period_ns=self.clocks[variant]["period_ns"], activity=act,
                                 slew=self.slew, wire=self.wire, work_dir=vdir / "opensta")
        return out

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
