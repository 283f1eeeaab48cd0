"""FPGA implementation with the open YoWASP flows: Yosys ``synth_ice40``/``synth_ecp5``, then
nextpnr place-and-route, for arrays of several sizes; utilization and Fmax from nextpnr's report.

The accelerator has far more port bits than a package has pins, so it is implemented inside a
generated I/O shell: one serial input shifts into a register that drives every input port
(clock and reset excepted), and every output port is captured into a register that shifts out
on one pin. The shell's flops (one per port bit) are part of the reported utilization and are
stated separately (``shell_ffs``). On iCE40 the inputs come from block RAM instead
(``fpga_shell``).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hw.export import top_ports

from ..targets import FPGA_ARRAY, FPGA_MHZ
from .fpga_path import critical_path
from .fpga_shell import ram_shell_verilog
from .fpga_synth import (block_areas, count_resources, dsp_plan, dsps_per_pe, module_cells,
                         pe_multipliers, synth_script)
from .tools import ToolError, require_tool, run_tool, yosys


@dataclass(frozen=True)
class Device:
    family: str
    name: str
    nextpnr_args: tuple
    luts: int
    ffs: int
    dsps: int
    brams: int


DEVICES = {
    "ice40": {
        "up5k": Device("ice40", "up5k", ("--up5k", "--package", "sg48"), 5280, 5280, 8, 30),
        "hx8k": Device("ice40", "hx8k", ("--hx8k", "--package", "ct256"), 7680, 7680, 0, 32),
        "hx1k": Device("ice40", "hx1k", ("--hx1k", "--package", "tq144"), 1280, 1280, 0, 16),
    },
    "ecp5": {
        "12k": Device("ecp5", "12k", ("--12k", "--package", "CABGA381"), 12288, 12288, 28, 32),
        "25k": Device("ecp5", "25k", ("--25k", "--package", "CABGA381"), 24288, 24288, 28, 56),
        "45k": Device("ecp5", "45k", ("--45k", "--package", "CABGA381"), 43848, 43848, 72, 108),
        "85k": Device("ecp5", "85k", ("--85k", "--package", "CABGA381"), 83640, 83640, 156,
                      208),
    },
}
DEFAULT_DEVICE = {"ice40": "up5k", "ecp5": "25k"}
# AccelConfig.mult_stages per family unless given: ECP5 registers its DSP blocks' outputs
# (docs/fpga.md); the UP5K has no flip-flops to spare.
MULT_STAGES = {"ice40": 0, "ecp5": 1}
SHELL_TOP = "varimac_fpga"


def device(family, name=None):
    """The ``Device`` ``name`` of ``family`` (its default when ``None``); ``ValueError`` if
    either is unknown."""
    if family not in DEVICES:
        raise ValueError(f"family must be one of {', '.join(DEVICES)}, not {family!r}")
    name = DEFAULT_DEVICE[family] if name is None else name
    if name not in DEVICES[family]:
        raise ValueError(f"device {name!r} is not a known {family} device; choose from "
                         f"{', '.join(DEVICES[family])}")
    return DEVICES[family][name]


def shell_verilog(ports, *, top, clock="clk", reset="rst"):
    """The I/O shell around ``top``: pins clk, rst, sin, load, sout."""
    ins = [(n, w) for d, n, w in ports if d == "input" and n not in (clock, reset)]
    outs = [(n, w) for d, n, w in ports if d == "output"]
    n_in = max(1, sum(w for _, w in ins))
    n_out = max(1, sum(w for _, w in outs))
    lines = [f"module {SHELL_TOP} (input clk, input rst, input sin, input load, output sout);",
             f"  reg [{n_in - 1}:0] shift_in;",
             f"  reg [{n_out - 1}:0] shift_out;",
             f"  wire [{n_out - 1}:0] outs;",
             "  always @(posedge clk) shift_in <= {shift_in, sin};"
             if n_in > 1 else "  always @(posedge clk) shift_in <= sin;",
             "  always @(posedge clk) shift_out <= load ? outs : (shift_out >> 1);",
             "  assign sout = shift_out[0];"]
    conns, pos = [f".{clock}(clk)", f".{reset}(rst)"], 0
    for name, width in ins:
        conns.append(f".{name}(shift_in[{pos + width - 1}:{pos}])")
        pos += width
    pos = 0
    for name, width in outs:
        conns.append(f".{name}(outs[{pos + width - 1}:{pos}])")
        pos += width
    lines.append(f"  {top} core ({', '.join(conns)});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n", n_in + n_out


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

    from hw.multiplier import DSP_PLATFORM

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


def markdown(report):
    """The sweep as Markdown tables (``fpga.md``; docs/fpga.md quotes it)."""
    c, t = report["config"], report["target"]
    packing = ", subword packing" if c.get("subword") else ""
    if c.get("mult_stages"):
        packing += f", {c['mult_stages']} register stage in the multiplier (`mult_stages`)"
    seeds = report["seeds"]
    verdict = "met" if t["met"] else "not met"
    lines = [f"{report['family']} {report['device']}, {c['max_width']}-bit operands in "
             f"{c['lane_width']}-bit lanes{packing}, K ≤ {c['max_k']}; largest array that fits: "
             f"{report['largest_fitting'] or 'none'}; target {t['array'].replace('x', '×')} at "
             f"≥ {t['mhz']:g} MHz: **{verdict}** ("
             + (f"{t['fmax_mhz']} MHz" if t["fmax_mhz"] else
                f"{t['array'].replace('x', '×')} not placed") + ")",
             "", f"| array | LUTs | FFs | DSPs | PEs on DSPs | BRAMs | Fmax (MHz), best of "
             f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} | fits |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["arrays"]:
        cap = r["capacity"]
        if "luts" in r:
            row = (f"{r['luts']} / {cap['luts']} | {r['ffs']} | {r['dsps']} / {cap['dsps']} | "
                   f"{r['pes_on_dsps']} of {r['pes_on_dsps'] + r['pes_in_logic']} | "
                   f"{r['brams']} | {r['fmax_mhz'] if r['fits'] else '–'}")
        else:
            row = "– | – | – | – | – | –"
        verdict = "yes" if r["fits"] else f"no: {r['reason']}".replace("|", "\\|")
        lines.append(f"| {r['rows']}×{r['cols']} | {row} | {verdict} |")
    lines += ["", "Critical path (nextpnr, best seed): the hw modules it runs through, from "
              "the `src` of its cells", "",
              "| array | delay (ns) | of it routing | logic steps | from | to | through |",
              "|---|---|---|---|---|---|---|"]
    for r in report["arrays"]:
        p = r.get("critical_path")
        if p:
            lines.append(f"| {r['rows']}×{r['cols']} | {p['delay_ns']} | {p['routing_ns']} | "
                         f"{p['logic_steps']} | `{p['from']}` | `{p['to']}` | "
                         f"{' → '.join(f'`{m}`' for m in p['through'])} |")
    blocks = report.get("area_per_block")
    if blocks:
        lines += ["", f"Area per block at {blocks['array'].replace('x', '×')} (Yosys per "
                  "module, synthesized without flattening; per instance, min–max):", "",
                  "| block | instances | LUTs | FFs | DSPs |", "|---|---|---|---|---|"]
        for name, b in blocks["blocks"].items():
            span = [f"{lo}" if lo == hi else f"{lo}–{hi}" for lo, hi in
                    (b["luts"], b["ffs"], b["dsps"])]
            lines.append(f"| {name} | {b['instances']} | {' | '.join(span)} |")
    return "\n".join(lines) + "\n"


def plot(report, path):
    """``fpga.png``: LUT use (of the device's) and Fmax per array size; sizes that do not fit
    are drawn hatched at Yosys' LUT count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = [r for r in report["arrays"] if "luts" in r]
    names = [f"{r['rows']}×{r['cols']}" for r in arrays]
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, r in enumerate(arrays):
        ax.bar(i, r["luts"], color="C0" if r["fits"] else "none", edgecolor="C0",
               hatch=None if r["fits"] else "//")
    ax.axhline(arrays[0]["capacity"]["luts"] if arrays else 0, color="k", ls="--", lw=0.8,
               label="device LUTs")
    ax.set_xticks(range(len(arrays)), names)
    ax.set(xlabel="array (PEs)", ylabel="LUTs (hatched: does not fit)",
           title=f"varimac on {report['family']} {report['device']}")
    right = ax.twinx()
    fits = [(i, r["fmax_mhz"]) for i, r in enumerate(arrays) if r["fits"]]
    right.plot([i for i, _ in fits], [f for _, f in fits], "o-", color="C3", label="Fmax")
    right.set_ylabel("Fmax (MHz)", color="C3")
    right.set_ylim(0, 1.4 * max([f for _, f in fits], default=1))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
