"""FPGA implementation with the open YoWASP flows: Yosys ``synth_ice40``/``synth_ecp5``, then
nextpnr place-and-route, for arrays of several sizes; utilization and Fmax from nextpnr's report.

The accelerator has far more port bits than a package has pins, so it is implemented inside a
generated I/O shell: one serial input shifts into a register that drives every input port
(clock and reset excepted), and every output port is captured into a register that shifts out
on one pin. The shell's flops (one per port bit) are part of the reported utilization and are
stated separately (``shell_ffs``).
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

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
TARGET_MHZ = {"ice40": 12.0, "ecp5": 25.0}
SHELL_TOP = "varimac_fpga"

_PORT = re.compile(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?"
                   r"(?:\[(\d+):(\d+)\]\s*)?([A-Za-z_][A-Za-z0-9_$]*)\s*;", re.M)


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


def top_ports(verilog, top):
    """``[(direction, name, width), ...]`` of module ``top`` in Verilog text."""
    m = re.search(rf"^module\s+\\?{re.escape(top)}\s*\(", verilog, re.M)
    if not m:
        raise ValueError(f"no module {top} in the Verilog")
    end = verilog.index("endmodule", m.end())
    return [(d, name, int(hi) - int(lo) + 1 if hi else 1)
            for d, hi, lo, name in _PORT.findall(verilog[m.end():end])]


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


def _synthesize(verilog_path, dev, out, *, dsp):
    synth = {"ice40": "synth_ice40" + (" -dsp" if dsp else ""),
             "ecp5": "synth_ecp5" + ("" if dsp else " -nodsp")}[dev.family]
    yosys(f"""read_verilog -sv {_rel(verilog_path, out)}
read_verilog -sv shell.v
{synth} -top {SHELL_TOP} -json synth.json
tee -q -o stat.json stat -json
""", log_path=out / "yosys.log", cwd=out)
    return _stat_cells(out / "stat.json")


def implement(*, verilog_path, top, dev, out_dir, seed=1):
    """Synthesize and place-and-route one design on ``dev``; returns its result dict.

    Multipliers go to DSP blocks where Yosys maps them, unless that needs more DSPs than the
    device has: then the design is synthesized again into logic only. A design that still does
    not fit (by Yosys' count, or nextpnr fails) returns ``{"fits": False, "reason": ...}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ports = top_ports(Path(verilog_path).read_text(), top)
    shell, shell_ffs = shell_verilog(ports, top=top)
    (out / "shell.v").write_text(shell)
    cells = _synthesize(verilog_path, dev, out, dsp=True)
    dsp = True
    if _summary(dev, cells)["dsps"] > dev.dsps:
        cells, dsp = _synthesize(verilog_path, dev, out, dsp=False), False
    result = {"device": dev.name, "family": dev.family, "shell_ffs": shell_ffs,
              "dsp_mapping": dsp, "cells": cells, **_summary(dev, cells)}
    if not result["estimate_fits"]:
        over = [k for k in ("luts", "ffs", "dsps", "brams")
                if result[k] > result["capacity"][k]]
        return dict(result, fits=False, reason="synthesis needs more than the device has: " +
                    ", ".join(f"{k} {result[k]} > {result['capacity'][k]}" for k in over))
    pnr = require_tool(f"yowasp-nextpnr-{dev.family}")
    argv = [pnr, *dev.nextpnr_args, "--json", "synth.json", "--report", "report.json",
            "--freq", str(TARGET_MHZ[dev.family]), "--timing-allow-fail", "--seed", str(seed)]
    argv.append("--pcf-allow-unconstrained" if dev.family == "ice40"
                else "--lpf-allow-unconstrained")
    if dev.family == "ecp5":
        argv += ["--textcfg", "design.config"]
    else:
        argv += ["--asc", "design.asc"]
    try:
        run_tool(argv, log_path=out / "nextpnr.log", cwd=out)
    except ToolError as exc:
        return dict(result, fits=False, reason=str(exc).splitlines()[-1][:300])
    with open(out / "report.json") as f:
        report = json.load(f)
    fmax = {clk: v.get("achieved") for clk, v in report.get("fmax", {}).items()}
    achieved = [v for v in fmax.values() if v]
    return dict(result, fits=True, fmax_mhz=round(min(achieved), 2) if achieved else None,
                fmax_by_clock=fmax, target_mhz=TARGET_MHZ[dev.family],
                utilization=report.get("utilization", {}))


def _stat_cells(path):
    with open(path) as f:
        stat = json.load(f)
    design = stat.get("design") or next(iter(stat["modules"].values()))
    return {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def _summary(dev, cells):
    """LUT/FF/DSP/BRAM counts from Yosys' cell statistics, with the device's capacity."""
    def count(pred):
        return sum(v for k, v in cells.items() if pred(k))
    if dev.family == "ice40":
        luts = count(lambda k: k == "SB_LUT4")
        ffs = count(lambda k: k.startswith("SB_DFF"))
        dsps = count(lambda k: k == "SB_MAC16")
        brams = count(lambda k: k.startswith("SB_RAM40"))
    else:
        luts = count(lambda k: k == "LUT4") + 2 * count(lambda k: k == "CCU2C")
        ffs = count(lambda k: k in ("TRELLIS_FF",) or k.startswith("FD"))
        dsps = count(lambda k: k.startswith("MULT18X18"))
        brams = count(lambda k: k.startswith("DP16KD") or k == "PDPW16KD")
    return {"luts": luts, "ffs": ffs, "dsps": dsps, "brams": brams,
            "capacity": {"luts": dev.luts, "ffs": dev.ffs, "dsps": dev.dsps,
                         "brams": dev.brams},
            "estimate_fits": luts <= dev.luts and ffs <= dev.ffs and dsps <= dev.dsps
            and brams <= dev.brams}


def run_sweep(*, configs, dev, out_dir, progress=True):
    """Implement each ``AccelConfig`` (smallest first) until one does not fit; returns the
    ``fpga.json`` dict."""
    from tqdm import tqdm

    from .cmd_verilog import write_verilog
    arrays = []
    bar = tqdm(configs, desc=f"fpga {dev.family} {dev.name}", unit="array",
               disable=not progress, dynamic_ncols=True)
    for config in bar:
        bar.set_postfix_str(f"{config.rows}x{config.cols}")
        work = Path(out_dir) / "work" / f"{config.rows}x{config.cols}"
        verilog = write_verilog(config, work)
        result = implement(verilog_path=verilog, top="varimac", dev=dev, out_dir=work)
        arrays.append({"rows": config.rows, "cols": config.cols, **result})
        if not result["fits"]:
            break
    bar.close()
    fitting = [a for a in arrays if a["fits"]]
    largest = max(fitting, key=lambda a: a["rows"] * a["cols"], default=None)
    return {
        "family": dev.family, "device": dev.name,
        "config": {k: v for k, v in configs[0].params().items() if k not in ("rows", "cols")},
        "target_mhz": TARGET_MHZ[dev.family], "shell": "serial I/O shell (see docs/fpga.md)",
        "largest_fitting": f"{largest['rows']}x{largest['cols']}" if largest else None,
        "arrays": arrays,
    }


def markdown(report):
    """The sweep as a Markdown table (``fpga.md``; docs/fpga.md quotes it)."""
    c = report["config"]
    packing = ", subword packing" if c.get("subword") else ""
    lines = [f"{report['family']} {report['device']}, {c['max_width']}-bit operands in "
             f"{c['lane_width']}-bit lanes{packing}, K ≤ {c['max_k']}; largest array that fits: "
             f"{report['largest_fitting'] or 'none'}",
             "", "| array | LUTs | FFs | DSPs | BRAMs | Fmax (MHz) | fits |",
             "|---|---|---|---|---|---|---|"]
    for r in report["arrays"]:
        cap = r["capacity"]
        if "luts" in r:
            row = (f"{r['luts']} / {cap['luts']} | {r['ffs']} | {r['dsps']} / {cap['dsps']} | "
                   f"{r['brams']} | {r['fmax_mhz'] if r['fits'] else '–'}")
        else:
            row = "– | – | – | – | –"
        verdict = "yes" if r["fits"] else f"no: {r['reason']}"
        lines.append(f"| {r['rows']}×{r['cols']} | {row} | {verdict} |")
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
