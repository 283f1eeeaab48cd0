"""Glitch-aware gate-level simulation: the netlist with the delays of its cells, so that a net
can change several times in one clock cycle and every change is counted.

1. OpenSTA (``sta``) computes each timing arc's delay from the liberty's tables at the
   instance's propagated input slew and its actual load (input-pin capacitances plus the
   library's default wire-load model: the load ``flows.eda.energy`` prices) and writes them with
   ``write_sdf``.
2. ``read_sdf`` keeps per instance one rise and one fall delay per arc (input pin -> output
   pin): of OpenSTA's ``min::max`` pair the max; an arc OpenSTA splits by ``COND`` (the state
   of the other inputs, e.g. of an XOR or a full adder) gets the mean over its conditions
   (the simulation has no state-dependent delays); an empty value takes the other edge's.
   A negative value counts as zero: the liberty tables give one where a slow input ramp (a
   net of high fanout) crosses 50 % after the fast output it causes, but a simulated output
   cannot change before its cause, and Icarus given a negative delay computes wrong values.
   Interconnect delays are all zero without placed wires and are dropped. Cells that drive
   clock pins (the clock gates) keep no delay (``ideal_clock``): the clock is ideal, as in
   the timing flow.
3. ``output_delays`` gives each output one rise and one fall delay, the mean over the arcs
   into it (of a flop only those from its clock), and the generated cell models
   (``flows.eda.cellmodels``, ``delays=True``) apply them as inertial continuous-assignment
   delays set per instance (``delayed_verilog``), rounded to Icarus's 1 ps precision: a pulse
   shorter than a cell's delay does not pass that cell; a pulse that passes is two full
   toggles, priced as such. (Per-arc delays through ``specify`` paths and ``$sdf_annotate``
   work on small netlists, but Icarus's annotation searches the flat scope for every cell:
   on the 4x4 array's 65k cells it had not let the testbench out of reset after nine
   minutes.)

The simulation runs on Icarus Verilog; this module refuses to run without it.
"""

import re
from pathlib import Path

from .cellmodels import models_verilog
from .gatesim import compile_icarus
from .sta import STA, wire_load_name
from .tools import ToolError, find_tool, require_tool, run_tool
from .vcd import ToggleCounts

_TOKEN = re.compile(r"\(|\)|\"[^\"]*\"|[^\s()]+")


def write_sdf(*, liberty, verilog, top, work_dir):
    """OpenSTA's SDF of the flat netlist ``verilog`` (cells of ``liberty``); returns its path."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    wire = wire_load_name(Path(liberty).read_text(encoding="latin-1"))
    wl = f"set_wire_load_model -name {{{wire}}}\n" if wire else ""
    (work / "sdf.tcl").write_text(
        f"read_liberty {{{Path(liberty).resolve()}}}\nread_verilog {{{Path(verilog).resolve()}}}\n"
        f"link_design {top}\n{wl}write_sdf -no_timestamp -no_version -digits 4 opensta.sdf\n"
        "exit\n")
    run_tool([STA, "-no_init", "-no_splash", "-exit", "sdf.tcl"], log_path=work / "sdf.log",
             cwd=work)
    return work / "opensta.sdf"


def _tree(text):
    """The SDF's s-expression as nested lists of tokens."""
    stack = [[]]
    for tok in _TOKEN.findall(text):
        if tok == "(":
            stack.append([])
        elif tok == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    if len(stack) != 1:
        raise ValueError("SDF: unbalanced parentheses")
    return stack[0]


def _value(triple):
    """The max of an ``(a::b)`` / ``(a:b:c)`` / ``(v)`` value, at least 0 (see the module
    docstring), or ``None`` for ``()``."""
    if not triple:
        return None
    parts = [p for p in "".join(triple).split(":") if p]
    return max(0.0, *(float(p) for p in parts)) if parts else None


def _pin(spec):
    """An IOPATH port: ``A`` or ``(posedge CK)``."""
    return spec[-1] if isinstance(spec, list) else spec


def read_sdf(path):
    """``{instance: (celltype, {(in_pin, out_pin): (rise_ns, fall_ns)})}`` (see the module
    docstring for how conditions and min/max are reduced)."""
    root = _tree(Path(path).read_text())
    if not root or root[0][0] != "DELAYFILE":
        raise ValueError(f"{path}: not an SDF file")
    timescale = next((e for e in root[0][1:] if isinstance(e, list) and e[0] == "TIMESCALE"),
                     ["TIMESCALE", "1ns"])
    if "".join(timescale[1:]) != "1ns":
        raise ValueError(f"{path}: TIMESCALE {''.join(timescale[1:])}, expected 1ns")
    out = {}
    for cell in root[0][1:]:
        if not (isinstance(cell, list) and cell[0] == "CELL"):
            continue
        fields = {e[0]: e for e in cell[1:]}
        instance = fields["INSTANCE"][1] if len(fields["INSTANCE"]) > 1 else None
        celltype = fields["CELLTYPE"][1].strip('"')
        sums = {}
        for delay in (e for e in cell[1:] if e[0] == "DELAY"):
            for absolute in delay[1:]:
                for entry in absolute[1:]:
                    iopath = entry[-1] if entry[0] == "COND" else entry
                    if iopath[0] != "IOPATH":
                        continue        # INTERCONNECT: zero without placed wires
                    key = (_pin(iopath[1]), _pin(iopath[2]))
                    rise, fall = (_value(v) for v in (iopath[3:] + [iopath[3]])[:2])
                    acc = sums.setdefault(key, [[], []])
                    for lst, v in zip(acc, (rise, fall)):
                        if v is not None:
                            lst.append(v)
        if instance is None:
            continue
        arcs = {}
        for key, (rises, falls) in sums.items():
            rise = sum(rises) / len(rises) if rises else None
            fall = sum(falls) / len(falls) if falls else None
            if rise is not None or fall is not None:
                arcs[key] = (rise if rise is not None else fall,
                             fall if fall is not None else rise)
        out[instance] = (celltype, arcs)
    return out


def ideal_clock(arcs, *, netlist, library):
    """``arcs`` without the delays of cells that drive a clock pin (the clock gates): the
    clock is ideal, as in the timing flow (no clock tree to balance it; a clock gate's delay
    alone would be skew that breaks hold). Instances are ``c<index>`` (``Netlist``)."""
    loads = netlist.loads()
    clocked = set()
    for i, cell in enumerate(netlist.cells):
        for pin, net in cell.pins.items():
            if cell.directions[pin] == "output" and any(
                    library.cells[c.type].pins[p].clock for c, p in loads.get(net, [])):
                clocked.add(f"c{i}")
    return {inst: (t, {} if inst in clocked else a) for inst, (t, a) in arcs.items()}


def output_delays(arcs, library):
    """``{instance: {output: (rise_ns, fall_ns)}}``: per output the mean over the arcs into it
    (of a flop or latch only the arcs from its clock or enable pin: the others are reset)."""
    from .energy import _state_pins
    out = {}
    for instance, (celltype, a) in arcs.items():
        state = _state_pins(library.cells[celltype])
        by_out = {}
        for (pin_in, pin_out), delay in a.items():
            if not state or pin_in in state:
                by_out.setdefault(pin_out, []).append(delay)
        out[instance] = {o: tuple(sum(d[k] for d in ds) / len(ds) for k in (0, 1))
                         for o, ds in by_out.items()}
    return out


_INSTANCE_LINE = re.compile(r"^  (\S+) (c\d+) \(", re.MULTILINE)


def delayed_verilog(text, delays):
    """The netlist's Verilog (``Netlist.write_verilog``) with each instance's delays set."""
    def params(m):
        d = delays.get(m.group(2))
        if not d:
            return m.group(0)
        if min(min(rf) for rf in d.values()) < 0:
            raise ValueError(f"instance {m.group(2)}: negative delay {d}; an output cannot "
                             "change before its input (read_sdf counts one as zero)")
        values = ", ".join(f".R_{o}({r:.4f}), .F_{o}({f:.4f})" for o, (r, f) in sorted(d.items()))
        return f"  {m.group(1)} #({values}) {m.group(2)} ("
    return _INSTANCE_LINE.sub(params, text)


def simulate(*, netlist, library, testbench, tb_top, work_dir, arcs, plusargs=()):
    """``flows.eda.gatesim.simulate`` with the delays ``arcs`` (from ``read_sdf``) annotated;
    returns ``(toggles, log_text)``, ``toggles[net]`` every 0<->1 change of each net."""
    if find_tool("iverilog") is None:
        raise ToolError("the glitch-aware simulation needs Icarus Verilog (iverilog), "
                        "the only simulator here that reads SDF")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "cells.v").write_text(models_verilog(library, netlist.cell_types(), delays=True))
    netlist.write_verilog(work / "gates.v")
    (work / "gates.v").write_text(delayed_verilog((work / "gates.v").read_text(),
                                                  output_delays(arcs, library)))
    (work / "tb.v").write_text(testbench)
    vcd = work / "activity.vcd"
    sources = [str(work / n) for n in ("cells.v", "gates.v", "tb.v")]
    compile_icarus(sources, top=tb_top, work=work)
    run_tool([require_tool("vvp"), "-n", str(work / "sim.vvp"), f"+vcd={vcd}", *plusargs],
             log_path=work / "sim.log")
    log = (work / "sim.log").read_text()
    counts = ToggleCounts(vcd)
    toggles = {int(name[1:]): int(c[0]) for name, c in counts.by_name(f"{tb_top}.dut").items()
               if name.startswith("n") and name[1:].isdigit()}
    vcd.unlink()
    return toggles, log
