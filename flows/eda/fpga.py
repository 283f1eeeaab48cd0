"""FPGA implementation with the open YoWASP flows: Yosys ``synth_ice40``/``synth_ecp5``, then
nextpnr place-and-route, for arrays of several sizes; utilization and Fmax from nextpnr's report.

Each design is implemented inside a generated I/O shell (``fpga_shell``: the accelerator has far
more port bits than a package has pins) on a device of ``fpga_devices``; ``fpga_synth`` writes
the Yosys scripts and plans which PEs' multipliers go to DSP blocks, ``fpga_path`` names the
critical path's hw modules, and ``fpga_report`` renders the sweep as ``fpga.md`` and
``fpga.png``.
"""

import json
import os
from pathlib import Path

from hw.export import top_ports

from ..targets import FPGA_ARRAY, FPGA_MHZ
from .fpga_path import critical_path
from .fpga_shell import SHELL_TOP, ram_shell_verilog, shell_verilog
from .fpga_synth import (block_areas, count_resources, dsp_plan, dsps_per_pe, module_cells,
                         pe_multipliers, synth_script)
from .tools import ToolError, require_tool, run_tool, yosys


def _rel(path, cwd):
    """``path`` relative to ``cwd``: YoWASP maps /tmp to a private folder."""
    return os.path.relpath(Path(path).resolve(), Path(cwd).resolve())


def _synthesize(verilog_path, dev, out, *, soft_muls):
    script = synth_script(dev, sources=[_rel(verilog_path, out), "shell.v"], top=SHELL_TOP,
                          soft_muls=soft_muls,
                          tail="tee -q -o stat.json stat -json\nwrite_json synth.json")
    yosys(script, log_path=out / "yosys.log", cwd=out)
    return module_cells(out / "stat.json")[SHELL_TOP]


def implement(*, verilog_path, top, dev, out_dir, seeds=(1,), progress=None):
    """Synthesize and place-and-route one design on ``dev``; returns its result dict.

    As many PEs as the device has DSP blocks for get their multipliers on DSPs, the rest in
    logic (``fpga_synth.dsp_plan``). nextpnr runs once per placement seed; the best Fmax is
    kept. A design that does not fit (by Yosys' count, or nextpnr fails) returns
    ``{"fits": False, "reason": ...}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    verilog = Path(verilog_path).read_text()
    ports = top_ports(verilog, top)
    shell, shell_ffs = (ram_shell_verilog(ports, top=top, shell_top=SHELL_TOP)
                        if dev.family == "ice40" else shell_verilog(ports, top=top))
    (out / "shell.v").write_text(shell)
    muls = pe_multipliers(verilog)
    per_pe = dsps_per_pe(dev, verilog_name=_rel(verilog_path, out), module=muls[0],
                         out=out) if muls and dev.dsps else 0
    on_dsp, soft = dsp_plan(muls, per_pe=per_pe, available=dev.dsps)
    cells = _synthesize(verilog_path, dev, out, soft_muls=soft)
    result = {"device": dev.name, "family": dev.family, "shell_ffs": shell_ffs,
              "pes_on_dsps": len(on_dsp), "pes_in_logic": len(soft), "dsps_per_pe": per_pe,
              "soft_multipliers": soft, "cells": cells, **_summary(dev, cells)}
    if not result["estimate_fits"]:
        over = [k for k in ("luts", "ffs", "dsps", "brams")
                if result[k] > result["capacity"][k]]
        return dict(result, fits=False, reason="synthesis needs more than the device has: " +
                    ", ".join(f"{k} {result[k]} > {result['capacity'][k]}" for k in over))
    runs = []
    for seed in seeds:
        if progress:
            progress(f"nextpnr seed {seed}")
        try:
            runs.append(_place_and_route(dev, out / f"seed{seed}", seed, sources={
                _rel(verilog_path, out): verilog, "shell.v": shell}))
        except ToolError as exc:    # nextpnr's own error line, not its closing summary
            lines = str(exc).splitlines()
            reason = next((x for x in reversed(lines) if "ERROR" in x), lines[-1])
            return dict(result, fits=False, reason=reason.strip()[:300])
    best = max(runs, key=lambda r: r["fmax_mhz"] or 0)
    return dict(result, fits=True, fmax_mhz=best["fmax_mhz"], seed=best["seed"],
                fmax_by_seed={str(r["seed"]): r["fmax_mhz"] for r in runs},
                target_mhz=FPGA_MHZ[dev.family], utilization=best["utilization"],
                critical_path=best["critical_path"])


def _place_and_route(dev, out, seed, *, sources):
    out.mkdir(parents=True, exist_ok=True)
    pnr = require_tool(f"yowasp-nextpnr-{dev.family}")
    argv = [pnr, *dev.nextpnr_args, "--json", "../synth.json", "--report", "report.json",
            "--freq", str(FPGA_MHZ[dev.family]), "--timing-allow-fail", "--seed", str(seed)]
    argv.append("--pcf-allow-unconstrained" if dev.family == "ice40"
                else "--lpf-allow-unconstrained")
    argv += ["--textcfg", "design.config"] if dev.family == "ecp5" else ["--asc", "design.asc"]
    run_tool(argv, log_path=out / "nextpnr.log", cwd=out)
    with open(out / "report.json") as f:
        report = json.load(f)
    fmax = [v.get("achieved") for v in report.get("fmax", {}).values() if v.get("achieved")]
    with open(out.parent / "synth.json") as f:
        netlist = json.load(f)
    return {"seed": seed, "fmax_mhz": round(min(fmax), 2) if fmax else None,
            "utilization": report.get("utilization", {}),
            "critical_path": critical_path(report, netlist, sources, top_module=SHELL_TOP)}


def _summary(dev, cells):
    """LUT/FF/DSP/BRAM counts from Yosys' cell statistics, with the device's capacity."""
    res = count_resources(dev, cells)
    return {**res, "capacity": {"luts": dev.luts, "ffs": dev.ffs, "dsps": dev.dsps,
                                "brams": dev.brams},
            "estimate_fits": res["luts"] <= dev.luts and res["ffs"] <= dev.ffs
            and res["dsps"] <= dev.dsps and res["brams"] <= dev.brams}


def block_areas_of(*, verilog_path, dev, out_dir, soft_muls):
    """Area per hw block: the design synthesized again without flattening (same DSP plan),
    from Yosys' per-module statistics (``fpga_synth.block_areas``)."""
    out = Path(out_dir)
    script = synth_script(dev, sources=[_rel(verilog_path, out), "shell.v"], top=SHELL_TOP,
                          soft_muls=soft_muls, flatten=False,
                          tail="tee -q -o blocks.json stat -json")
    yosys(script, log_path=out / "blocks.log", cwd=out)
    return block_areas(dev, module_cells(out / "blocks.json"))


def run_sweep(*, configs, dev, out_dir, seeds=(1,), progress=True):
    """Implement each ``AccelConfig`` (smallest first) until one does not fit, then the area
    per block of the largest that fits; returns the ``fpga.json`` dict."""
    from tqdm import tqdm

    from hw.platform import DSP_PLATFORM

    from golden.files import write_atomic
    from hw.export import write_verilog
    arrays = []
    bar = tqdm(configs, desc=f"fpga {dev.family} {dev.name}", unit="array",
               disable=not progress, dynamic_ncols=True)
    for config in bar:
        size = f"{config.rows}x{config.cols}"
        bar.set_postfix_str(f"{size} yosys")
        work = Path(out_dir) / "work" / size
        verilog = write_verilog(config, work, write_atomic=write_atomic, platform=DSP_PLATFORM)
        result = implement(verilog_path=verilog, top="varimac", dev=dev, out_dir=work,
                           seeds=seeds, progress=lambda s: bar.set_postfix_str(f"{size} {s}"))
        arrays.append({"rows": config.rows, "cols": config.cols, **result})
        if not result["fits"]:
            break
    fitting = [a for a in arrays if a["fits"]]
    largest = max(fitting, key=lambda a: a["rows"] * a["cols"], default=None)
    blocks = None
    if largest:
        bar.set_postfix_str(f"{largest['rows']}x{largest['cols']} area per block")
        work = Path(out_dir) / "work" / f"{largest['rows']}x{largest['cols']}"
        blocks = {"array": f"{largest['rows']}x{largest['cols']}",
                  "blocks": block_areas_of(verilog_path=work / "varimac.v", dev=dev,
                                           out_dir=work, soft_muls=largest["soft_multipliers"])}
    bar.close()
    rows, cols = FPGA_ARRAY[dev.family]
    at = next((a for a in fitting if (a["rows"], a["cols"]) == (rows, cols)), None)
    return {
        "family": dev.family, "device": dev.name,
        "config": {k: v for k, v in configs[0].params().items() if k not in ("rows", "cols")},
        "target": {"array": f"{rows}x{cols}", "mhz": FPGA_MHZ[dev.family],
                   "fmax_mhz": at["fmax_mhz"] if at else None,
                   "met": bool(at and at["fmax_mhz"] and at["fmax_mhz"] >= FPGA_MHZ[dev.family])},
        "seeds": list(seeds), "shell": "serial I/O shell (see docs/fpga.md)",
        "largest_fitting": f"{largest['rows']}x{largest['cols']}" if largest else None,
        "arrays": arrays, "area_per_block": blocks,
    }
