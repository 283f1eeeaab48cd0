"""Zero-delay gate-level simulation of a netlist on Icarus Verilog, and its toggle counts.

The netlist is written with one scalar wire per net (``flows.netlist``) together with
behavioural models of its cells (``flows.cellmodels``). A testbench (Verilog text) instantiates
the netlist's module as ``dut`` and dumps it with ``$dumpvars(1, <tb>.dut)`` into the file named
by the ``+vcd=`` plusarg; the VCD's value changes are then counted per net. The testbench
should assert reset after time 0 (an asynchronous clear needs an edge to act on).
"""

from pathlib import Path

from .cellmodels import models_verilog
from .tools import find_tool, require_tool, run_tool
from .vcd import ToggleCounts


def icarus_available():
    return find_tool("iverilog") is not None and find_tool("vvp") is not None


def simulate(*, netlist, library, testbench, tb_top, work_dir, plusargs=()):
    """Run ``testbench`` (top module ``tb_top``) around ``netlist``; returns
    ``(toggles, log_text)`` with ``toggles[net]`` the 0<->1 changes of each net."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "cells.v").write_text(models_verilog(library, netlist.cell_types()))
    netlist.write_verilog(work / "gates.v")
    (work / "tb.v").write_text(testbench)
    vcd = work / "activity.vcd"
    run_tool([require_tool("iverilog"), "-g2012", "-o", str(work / "sim.vvp"), "-s", tb_top,
              str(work / "cells.v"), str(work / "gates.v"), str(work / "tb.v")],
             log_path=work / "iverilog.log")
    run_tool([require_tool("vvp"), "-n", str(work / "sim.vvp"), f"+vcd={vcd}", *plusargs],
             log_path=work / "vvp.log")
    counts = ToggleCounts(vcd).by_name(f"{tb_top}.dut")
    toggles = {}
    for name, c in counts.items():
        if name.startswith("n") and name[1:].isdigit():
            toggles[int(name[1:])] = int(c[0])
    vcd.unlink()
    return toggles, (work / "vvp.log").read_text()
