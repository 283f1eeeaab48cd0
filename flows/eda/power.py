"""The power flow: energy per MAC of a configuration at every runtime width, and of its
fixed-width baseline, from its own gates switching on GEMM jobs.

For each variant of the same size (``flows.eda.variants``): generate
the Verilog, synthesize it (``flows.eda.synth``), then per width replay jobs on the gate-level
netlist (``flows.eda.activity``) and turn the toggles into energy (``flows.eda.energy``). Jobs are
random (uniform over each width's range) and, when a trace directory is given, real training
jobs (``flows.eda.power_plan``); each job is replayed and priced alone and kept on disk
(``flows.eda.power_jobs``), so that every row has a spread over its jobs and a rerun resumes.
"""

from dataclasses import dataclass, field
from pathlib import Path

from flows.horowitz import INTEGER_PJ, integer_mac_pj
from flows.targets import POWER as TARGETS

from .breakdown import CATEGORIES
from .power_jobs import cached, job_figures, job_key
from .power_plan import POWER_RANDOM_JOBS, clocks_for, plan
from .power_report import ratio_errors, ratios
from .power_spread import row_summary
from .variants import VARIANT_ORDER, variant_configs

DEFAULT_SLEW_S = {"nangate45": 0.0171859e-9, "sky130": 0.0531329e-9}   # a table index point


def run_power(*, config, library_name, out_dir, build_dir, traces=None, slew=None,
              wire="library", progress=True, variants=VARIANT_ORDER, timing=None,
              clock_ns=None, glitches=True, random_count=POWER_RANDOM_JOBS):
    """Run the whole flow; returns the ``power.json`` dict (the caller writes it).

    Intermediate files go to ``out_dir``/work; ``progress`` shows a bar on stderr; ``variants``
    limits the variants measured (the demo measures only ``tunable``); ``timing`` and
    ``clock_ns`` set each variant's clock (``clocks_for``); ``random_count`` random jobs per
    width. Each job's figures are kept in the cache folder under ``out_dir``
    (``flows.eda.power_jobs``): a rerun replays only the jobs missing there.
    """
    from .liberty import prepare_liberty

    slew = DEFAULT_SLEW_S[library_name] if slew is None else slew
    work = Path(out_dir) / "work"
    lib_path, library = prepare_liberty(library_name, build_dir=build_dir)
    variants = {name: cfg for name, cfg in variant_configs(config).items() if name in variants}
    clocks = clocks_for(variants, library_name=library_name, timing=timing, clock_ns=clock_ns)
    runs = plan(variants, traces=traces, random_count=random_count)
    modes = ("zero_delay", "glitch") if glitches else ("zero_delay",)
    flow = _Flow(work=work, library_name=library_name, build_dir=build_dir, lib_path=lib_path,
                 library=library, slew=slew, wire=wire, clocks=clocks,
                 steps=_Steps(2 * len(variants) + sum(len(r[3]) for r in runs) * len(modes),
                                enabled=progress))
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
        "ratio_errors": ratio_errors(results),
        "ratio_errors_zero_delay": ratio_errors(results, mode="zero_delay"),
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
    driven: dict = field(default_factory=dict)

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
        """``(rows of power.json's runs, {variant: mean activity of its full-width random run})``.
        Job by job, the first job of every row before any row's second, so that an interrupted
        run leaves every row with as many jobs done (``flows.eda.power_jobs`` keeps each)."""
        parts = {}
        for j in range(max(len(jobs) for *_, jobs in runs)):
            for i, (variant, source, width, jobs) in enumerate(runs):
                for mode in modes if j < len(jobs) else ():
                    self.steps(f"replay {variant} width {width} ({source} job {j + 1} of "
                               f"{len(jobs)}, {mode.replace('_', ' ')})")
                    parts.setdefault((i, mode), []).append(self._job(
                        variant, variants[variant], jobs[j], netlists[variant], mode=mode,
                        arcs=arcs.get(variant) if mode == "glitch" else None))
        results, activity = [], {}
        for i, (variant, source, width, jobs) in enumerate(runs):
            cfg = variants[variant]
            clock = self.clocks[variant]["period_ns"]
            row = {"variant": variant, "source": source, "width": width, "jobs": len(jobs),
                   "clock_ns": clock,
                   "horowitz_scaled_pj_per_mac": round(integer_mac_pj(width, cfg.acc_width), 3)}
            for mode in modes:
                done = parts[(i, mode)]
                macs, cycles = sum(p["macs"] for p in done), sum(p["cycles"] for p in done)
                row.update(macs=macs, cycles=cycles, macs_per_cycle=round(macs / cycles, 3))
                row[mode] = row_summary(done, clock_ns=clock)
                if source == "random" and width == cfg.max_width and mode == "glitch":
                    nets = len(self._driven(variant, netlists[variant]))
                    activity[variant] = round(
                        sum(p["driven_toggles"] for p in done) / (nets * cycles), 5)
            headline = row[modes[-1]]
            row.update(delays=modes[-1], pj_per_mac=headline["pj_per_mac"],
                       by_category_pj_per_mac=headline["by_category_pj_per_mac"],
                       spread=headline["spread"])
            results.append(row)
        return results, activity

    def _job(self, variant, cfg, job, netlist, *, mode, arcs):
        """One job's ``job_figures``, from the cache or replayed (and then cached)."""
        from .activity import replay
        from .energy import compute_energy
        clock = self.clocks[variant]["period_ns"]
        key = job_key(config=cfg, job=job, mode=mode, clock_ns=clock, slew=self.slew,
                      wire=self.wire,
                      netlist_key=(self.work / variant / "synth" / "key.txt").read_text())

        def compute():
            rep = replay(config=cfg, jobs=[job], netlist=netlist, library=self.library,
                         work_dir=self.work / variant / f"replay_{mode}", clock_ns=clock,
                         arcs=arcs)
            e = compute_energy(netlist=netlist, library=self.library, toggles=rep.toggles,
                               slew=self.slew, wire=self.wire)
            nets = self._driven(variant, netlist)
            return job_figures(e, macs=rep.macs, cycles=rep.cycles,
                               toggles=sum(rep.toggles.values()),
                               driven_toggles=sum(rep.toggles.get(n, 0) for n in nets))
        return cached(self.work / "cache" / variant, key, compute)

    def _driven(self, variant, netlist):
        """The nets a cell drives and no clock pin loads: those the OpenSTA check gives its
        one activity (``flows.eda.opensta_power``)."""
        if variant not in self.driven:
            from .opensta_power import uniform_toggles
            self.driven[variant] = [n for n, a in uniform_toggles(netlist, self.library,
                                                                  1.0).items() if a == 1.0]
        return self.driven[variant]

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
