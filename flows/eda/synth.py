"""Synthesis of generated Verilog to a liberty library with Yosys, keeping energy categories.

1. Read; give the flip-flop of every register the hw marks ``keep`` (a PE's own copy of the
   job's settings) the ``keep`` attribute, so that ``opt_merge`` cannot merge the identical
   copies of all PEs into one flop driving the whole array; flatten and map memories to
   flops; write the word-level netlist (``coarse.json``).
2. Classify every word-level cell (``flows.eda.breakdown``) and mark it with a Yosys ``submod``
   attribute, so that ``submod`` moves each category into its own module: technology mapping
   then cannot mix categories, and after the final ``flatten`` every gate's name starts with
   its category's instance (``vmcat_<category>``).
   Only the ports keep their names, and each port bit gets a buffer left in the top module,
   because ``submod`` follows wires rather than nets.
3. ``synth -noabc``; ``clockgate`` turns the flops sharing a clock enable into enable-less
   flops behind the library's integrated clock gate; ``dfflibmap`` and ``abc`` map to the
   liberty cells; ``flatten`` and write ``netlist.json``.

``synth.json`` holds area and cell statistics, in total and per category.
"""

import json
import os
import re
from pathlib import Path

from .breakdown import CATEGORIES, classify
from .liberty import icg_cell, prepare_liberty
from .netlist import Netlist
from .tools import yosys

# ABC's default liberty script without its slowest steps (scorr, dretime, &dch).
ABC_SCRIPT = "+strash;&get,-n;&fraig,-x;&put;dc2;strash;&get,-n;&nf;&put"
# With a clock target: map for delay, then buffer high fanouts and size gates for the target
# (Yosys's own -constr script, without its slowest steps).
ABC_TIMED_SCRIPT = ("+strash;&get,-n;&fraig,-x;&put;dc2;strash;&get,-n;&nf,{D};&put;"
                    "buffer;upsize,{D};dnsize,{D}")
# What ABC assumes drives and loads each of its inputs and outputs (liberty units: NanGate45
# counts capacitance in fF, sky130 in pF): a small buffer, about four gate inputs.
ABC_BOUNDARY = {"nangate45": ("BUF_X1", 4.0), "sky130": ("sky130_fd_sc_hd__buf_1", 0.008)}
# After ``proc``: the flip-flops of the registers hw marks ``keep`` (a PE's own copy of the job's
# settings) get Yosys' ``keep``, so ``opt_merge`` cannot merge the copies of all PEs into one.
KEEP_FLOPS = "setattr -set keep 1 a:keep %ci1:+[Q] t:$*dff* %i"
_CATEGORY_IN_NAME = re.compile(r"vmcat_([a-z_]+?)(?:\.|$)")


def category_of(cell_name):
    """The energy category of a mapped cell, from the ``vmcat_`` instance in its name."""
    m = _CATEGORY_IN_NAME.search(cell_name)
    return m.group(1) if m and m.group(1) in CATEGORIES else "other"


def _quote(path, cwd):
    """A path for a Yosys script run in ``cwd``: relative, since YoWASP maps /tmp elsewhere."""
    rel = os.path.relpath(Path(path).resolve(), Path(cwd).resolve())
    return '"' + rel.replace('"', '\\"') + '"'


def synthesize(*, sources, top, library_name, out_dir, build_dir, clock_gating=True,
               rules=None, delay_target_ps=None):
    """Synthesize Verilog ``sources`` (top module ``top``) into ``out_dir``.

    ``delay_target_ps`` (a clock period) makes ABC map for that delay, buffer and size gates;
    ``None`` maps for area as the power flow always did.

    Returns ``(netlist, stats)``: the flat ``Netlist`` and the dict written to ``synth.json``.
    """
    if not isinstance(clock_gating, bool):
        raise TypeError(f"clock_gating must be a bool, not {clock_gating!r}")
    if delay_target_ps is not None and not (isinstance(delay_target_ps, int)
                                            and delay_target_ps > 0):
        raise ValueError(f"delay_target_ps must be a positive int, not {delay_target_ps!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lib_path, library = prepare_liberty(library_name, build_dir=build_dir)
    reads = "\n".join(f"read_verilog -sv {_quote(s, out)}" for s in sources)
    yosys(f"""{reads}
hierarchy -check -top {top}
proc
{KEEP_FLOPS}
flatten
opt_clean
memory
opt
write_json {_quote(out / 'coarse.json', out)}
""", log_path=out / "coarse.log", cwd=out)

    with open(out / "coarse.json") as f:
        coarse = json.load(f)
    module = coarse["modules"][top]
    cats = classify(module) if rules is None else classify(module, rules=rules)
    for name, cat in cats.items():
        module["cells"][name].setdefault("attributes", {})["submod"] = f"vmcat_{cat}"
    # Only the ports keep their names: submod tracks wires, not nets, so a cell driving one
    # alias of a net and a cell reading another would leave the net undriven in a submodule.
    module["netnames"] = {n: v for n, v in module["netnames"].items() if n in module["ports"]}
    _buffer_ports(module)
    with open(out / "classified.json", "w") as f:
        json.dump(coarse, f)

    gating = ""
    if clock_gating:
        icg = library.cells[icg_cell(library_name)]
        en = [p.name for p in icg.pins.values() if p.gate_enable]
        ck = [p.name for p in icg.pins.values() if p.clock and p.direction == "input"]
        gck = [p.name for p in icg.pins.values() if p.gate_out]
        gating = f"clockgate -pos {icg.name} {en[0]}:{ck[0]}:{gck[0]}"
    lib = _quote(lib_path, out)
    abc = f"abc -script {ABC_SCRIPT} -liberty {lib}"
    if delay_target_ps is not None:
        driver, load = ABC_BOUNDARY[library_name]
        (out / "abc.constr").write_text(f"set_driving_cell {driver}\nset_load {load}\n")
        abc = (f"abc -script {ABC_TIMED_SCRIPT} -liberty {lib} -D {delay_target_ps} "
               f"-constr {_quote(out / 'abc.constr', out)}")
    yosys(f"""read_liberty -lib {lib}
read_json {_quote(out / 'classified.json', out)}
hierarchy -top {top}
submod
setattr -unset keep {top}/t:$pos
hierarchy -top {top}
synth -top {top} -noabc
{gating}
dfflibmap -liberty {lib}
{abc}
opt_clean
flatten
opt_clean -purge
write_json {_quote(out / 'netlist.json', out)}
""", log_path=out / "synth.log", cwd=out)

    netlist = Netlist(out / "netlist.json", top=top, category_of=category_of)
    stats = _stats(netlist, library, library_name=library_name, clock_gating=clock_gating)
    if delay_target_ps is not None:
        stats["delay_target_ps"] = delay_target_ps
    with open(out / "synth.json", "w") as f:
        json.dump(stats, f, indent=2)
    return netlist, stats


def _buffer_ports(module):
    """Put a one-bit ``$pos`` cell (kept in the top module) between every port bit and the
    cells, so that no submodule touches a port wire: ``submod`` tracks wires, and two ports
    on one net (``a__ready`` and ``b__ready``) would leave the net undriven in a reader."""
    used = [b for c in module["cells"].values() for v in c["connections"].values() for b in v]
    used += [b for p in module["ports"].values() for b in p["bits"]]
    fresh = max((b for b in used if isinstance(b, int)), default=1) + 1
    direction = {}
    for port in module["ports"].values():
        for b in port["bits"]:
            if isinstance(b, int):
                direction.setdefault(b, set()).add(port["direction"])
    remap = {}
    one = f"{1:032b}"
    for b, dirs in sorted(direction.items()):
        if len(dirs) != 1 or dirs & {"inout"}:
            continue                      # a feed-through or inout bit keeps its net
        remap[b] = fresh
        a, y = (b, fresh) if dirs == {"input"} else (fresh, b)
        module["cells"][f"$vm_port_{b}"] = {
            "hide_name": 1, "type": "$pos", "attributes": {"keep": f"{1:032b}"},
            "parameters": {"A_SIGNED": f"{0:032b}", "A_WIDTH": one, "Y_WIDTH": one},
            "port_directions": {"A": "input", "Y": "output"},
            "connections": {"A": [a], "Y": [y]}}
        fresh += 1
    for cname, cell in module["cells"].items():
        if not cname.startswith("$vm_port_"):
            for pin, conn in cell["connections"].items():
                cell["connections"][pin] = [remap.get(b, b) for b in conn]


def _stats(netlist, library, *, library_name, clock_gating):
    cells, area = {}, {}
    per_cat = {c: {"cells": 0, "area_um2": 0.0, "flops": 0} for c in CATEGORIES}
    flops = gates = 0
    for c in netlist.cells:
        lc = library.cells[c.type]
        cells[c.type] = cells.get(c.type, 0) + 1
        area[c.type] = area.get(c.type, 0.0) + lc.area
        cat = "clock" if lc.icg else c.category
        per_cat[cat]["cells"] += 1
        per_cat[cat]["area_um2"] += lc.area
        if lc.ff is not None:
            per_cat[cat]["flops"] += 1
            flops += 1
        gates += lc.icg is not None
    return {
        "library": library_name, "top": netlist.top, "clock_gating": clock_gating,
        "area_um2": round(sum(area.values()), 3), "cells": sum(cells.values()),
        "flops": flops, "clock_gates": gates,
        "by_category": {k: dict(v, area_um2=round(v["area_um2"], 3))
                        for k, v in per_cat.items()},
        "by_cell": {k: {"count": cells[k], "area_um2": round(area[k], 3)}
                    for k in sorted(cells)},
    }
