"""Yosys for the FPGA flow: which PEs' multipliers go to DSP blocks, the synthesis scripts, and
the area of each hardware block from Yosys' per-module statistics.

The PE's FPGA multiplier (``hw.platform.DSP_PLATFORM``) is a few DSP-sized products. The PEs
in row-major order take DSP blocks while the device has enough for a whole PE; the products of
the rest are retyped to Yosys' ``$__soft_mul`` before DSP mapping, so they become logic.
"""

import json
import re

from .synth import KEEP_FLOPS
from .tools import yosys

_PE_MUL = re.compile(r"^module\s+\\(\S*\.pe_(\d+)_(\d+)\.mul)\s*\(", re.M)
# Hardware blocks by the instance names hw/ gives them (hw/top.py, array.py, drain.py).
BLOCKS = (("pe", re.compile(r"\.pe_\d+_\d+$")), ("quantizer", re.compile(r"\.quantizer\d+$")),
          ("control", re.compile(r"^varimac\.control$")),
          ("drain", re.compile(r"^varimac\.drain$")),
          ("array (skew, wiring)", re.compile(r"^varimac\.array$")),
          ("top", re.compile(r"^varimac$")), ("I/O shell", re.compile(r"^varimac_fpga$")))


def pe_multipliers(verilog):
    """Module names of the PEs' multipliers in the generated Verilog, row-major."""
    found = [(int(r), int(c), name) for name, r, c in _PE_MUL.findall(verilog)]
    return [name for _, _, name in sorted(found)]


def dsp_plan(pe_muls, *, per_pe, available):
    """``(on_dsp, in_logic)``: the first PEs (row-major) whose ``per_pe`` DSPs fit into
    ``available``, and the rest."""
    count = len(pe_muls) if per_pe == 0 else max(0, min(len(pe_muls), available // per_pe))
    return list(pe_muls[:count]), list(pe_muls[count:])


def _synth_command(dev, top, flatten):
    opts = f"-top {top}" + ("" if flatten else " -noflatten")
    return {"ice40": f"synth_ice40 -dsp {opts}", "ecp5": f"synth_ecp5 {opts}"}[dev.family]


def synth_script(dev, *, sources, top, soft_muls, flatten=True, tail=""):
    """Yosys script: synthesis with the ``$mul`` cells of ``soft_muls`` kept out of DSPs."""
    synth = _synth_command(dev, top, flatten)
    soft = " ".join(f"{m}/t:$mul" for m in soft_muls)
    lines = [f"read_verilog -sv {s}" for s in sources]
    if dev.family == "ice40":
        # begin (read, hierarchy, proc); retype; the rest (its coarse step types them back).
        # No KEEP_FLOPS: a UP5K logic cell holds a LUT and the flop it feeds, so a PE's copy
        # of a setting (a flop fed by a flop) takes a cell of its own; merged, they cost none.
        lines += [f"{synth} -run :flatten"]
        lines += [f"chtype -set $__soft_mul {soft}"] if soft else []
        lines += [f"{synth} -run flatten:"]
    else:
        # synth_ecp5 processes and flattens in its coarse step, which also maps the DSPs
        lines += [f"{synth} -run :coarse", "proc", KEEP_FLOPS]
        lines += [f"chtype -set $__soft_mul {soft}"] if soft else []
        lines += [f"{synth} -run coarse:map_ram", "chtype -set $mul t:$__soft_mul",
                  f"{synth} -run map_ram:"]
    return "\n".join(lines + [tail]) + "\n"


def dsps_per_pe(dev, *, verilog_name, module, out):
    """DSP blocks one PE's multiplier takes (Yosys on that module alone, up to DSP mapping)."""
    synth = _synth_command(dev, module, True)
    stop = {"ice40": "map_ram", "ecp5": "map_ram"}[dev.family]
    yosys(f"read_verilog -sv {verilog_name}\nhierarchy -top {module}\n"
          f"{synth} -run :{stop}\ntee -q -o pe_dsp.json stat -json\n",
          log_path=out / "pe_dsp.log", cwd=out)
    cells = module_cells(out / "pe_dsp.json")
    return sum(count_resources(dev, c)["dsps"] for c in cells.values())


def module_cells(stat_path):
    """``{module: {cell type: count}}`` from ``stat -json`` (each module's own cells)."""
    with open(stat_path) as f:
        stat = json.load(f)
    return {name.lstrip("\\"): {k: int(v) for k, v in m.get("num_cells_by_type", {}).items()}
            for name, m in stat["modules"].items()}


def count_resources(dev, cells):
    """LUTs, FFs, DSPs and BRAMs in a cell count (Yosys' names for ``dev``'s family)."""
    def count(pred):
        return sum(v for k, v in cells.items() if pred(k))
    if dev.family == "ice40":
        return {"luts": count(lambda k: k == "SB_LUT4"),
                "ffs": count(lambda k: k.startswith("SB_DFF")),
                "dsps": count(lambda k: k in ("SB_MAC16", "$__MUL16X16")),
                "brams": count(lambda k: k.startswith("SB_RAM40"))}
    return {"luts": count(lambda k: k == "LUT4") + 2 * count(lambda k: k == "CCU2C"),
            "ffs": count(lambda k: k in ("TRELLIS_FF",) or k.startswith("FD")),
            "dsps": count(lambda k: k.startswith("MULT18X18") or k == "$__MUL18X18"),
            "brams": count(lambda k: k.startswith("DP16KD") or k == "PDPW16KD")}


def block_of(module):
    """``(block, instance)`` of a module name: the hw block it belongs to, and which one."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        instance = ".".join(parts[:depth])
        for block, pattern in BLOCKS:
            if pattern.search(instance):
                return block, instance
    return "other", module


def block_areas(dev, modules):
    """Per hw block: instances, and LUTs/FFs/DSPs per instance (min and max over them).

    PEs whose multiplier is on DSPs and PEs in logic are separate rows."""
    per_instance = {}
    for module, cells in modules.items():
        block, instance = block_of(module)
        acc = per_instance.setdefault((block, instance), {"luts": 0, "ffs": 0, "dsps": 0})
        res = count_resources(dev, cells)
        for k in acc:
            acc[k] += res[k]
    rows = {}
    for (block, _), res in sorted(per_instance.items()):
        if block == "pe":
            block = "PE, multiplier on DSPs" if res["dsps"] else "PE, multiplier in LUTs"
        rows.setdefault(block, []).append(res)
    order = ["PE, multiplier on DSPs", "PE, multiplier in LUTs"] + [b for b, _ in BLOCKS[1:]]
    return {block: {"instances": len(items),
                    **{k: [min(r[k] for r in items), max(r[k] for r in items)]
                       for k in ("luts", "ffs", "dsps")}}
            for block, items in sorted(rows.items(), key=lambda kv: (
                order.index(kv[0]) if kv[0] in order else len(order), kv[0]))}
