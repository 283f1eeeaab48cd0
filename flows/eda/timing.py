"""The ASIC timing flow: period met, Fmax, critical path and area per block of the netlists the
power flow synthesizes, per library and variant (``tunable``, ``gated``, ``fixed``: see
``flows.eda.variants``), all synthesized for the same clock target so that they compare at one period.

Per (library, array, variant): generate the Verilog, synthesize it (``flows.eda.synth``, with ABC's
delay target ``delay_target_ps``, below the target period since ABC's delay model has no wire
load; ``None``: exactly the power flow's area-mapped netlist), write the netlist as flat Verilog, run OpenSTA (``flows.eda.sta``) and name the hw
instances the critical path runs through and the area of each block (``flows.eda.blocks``).
"""

import re
import time
from pathlib import Path

from flows.targets import TIMING as TARGETS

from .blocks import HW_FILES, area_by_block, block_of, cell_instances
from .variants import VARIANT_ORDER


def array_name(config):
    return f"{config.rows}x{config.cols}"


def run_one(*, config, variant, library_name, target_ns, delay_target_ps, out_dir, build_dir):
    """Synthesize and time one variant; returns its ``timing.json`` entry."""
    from golden.files import write_atomic
    from hw.export import write_verilog
    from .liberty import prepare_liberty
    from .netlist import Netlist
    from .sta import run_sta
    from .synth import category_of, synthesize

    out = Path(out_dir)
    lib_path, library = prepare_liberty(library_name, build_dir=build_dir)
    verilog = Path(write_verilog(config, out / "verilog", write_atomic=write_atomic))
    start = time.monotonic()
    synthesize(sources=[verilog], top="varimac", library_name=library_name,
               out_dir=out / "synth", build_dir=build_dir,
               delay_target_ps=delay_target_ps)
    synth_s = time.monotonic() - start
    netlist = Netlist(out / "synth" / "netlist.json", top="varimac", category_of=category_of)
    netlist.write_verilog(out / "netlist.v")
    start = time.monotonic()
    report = run_sta(liberty=lib_path, verilog=out / "netlist.v", top="varimac",
                     target_ns=target_ns, work_dir=out / "sta")
    sta_s = time.monotonic() - start
    instances = cell_instances(netlist, out / "synth" / "netlist.json", verilog)
    fanout = fanouts(netlist)
    (out / "critical_path.txt").write_text(annotate(report.text, netlist, instances, fanout))
    area = area_by_block(netlist, library, instances)
    return {
        "library": library_name, "array": array_name(config), "variant": variant,
        "config": config.params(), "target_ns": target_ns,
        "delay_target_ps": delay_target_ps,
        "period_ns": report.period_ns, "fmax_mhz": round(1000.0 / report.period_ns, 3),
        "worst_slack_ns": round(report.worst_slack_ns, 4),
        "slack_at_period_ns": round(report.slack_at_period_ns, 4),
        "critical_path": critical_path(report, netlist, instances, fanout),
        "area_um2": area,
        "quantizer_area_share": round(area["quantizer"] / area["total"], 4),
        "cells": len(netlist.cells),
        "synth_s": round(synth_s, 1), "sta_s": round(sta_s, 1),
    }


def fanouts(netlist):
    """``{"c<i>/<pin>": number of cell inputs its net drives}`` for every cell output."""
    loads = {net: len(v) for net, v in netlist.loads().items()}
    return {f"c{i}/{pin}": loads.get(net, 0) for i, c in enumerate(netlist.cells)
            for pin, net in c.pins.items() if c.directions[pin] == "output"}


def annotate(text, netlist, instances, fanout):
    """The path report with each cell's hw instance, register, energy category, the evidence
    for the instance and (on an output pin) its fanout appended."""
    by_id = {f"c{i}": c for i, c in enumerate(netlist.cells)}

    def note(m):
        line, pin, cid = m.group(1), m.group(2), m.group(3)
        cell = by_id.get(cid)
        if cell is None:
            return line
        inst, reg, evidence = instances.get(cell.name, ("?", None, "none"))
        fo = f"; fanout {fanout[pin]}" if pin in fanout else ""
        how = {"src": "src", "fanout": "from its loads", "fanin": "from its drivers"}
        return (f"{line}   [{inst}{' ' + reg if reg else ''} ({how.get(evidence, evidence)}); "
                f"category {cell.category}{fo}]")
    return re.sub(r"^(.*[\^v] ((c\d+)/\S+) \([^)]*\))$", note, text, flags=re.M)


def critical_path(report, netlist, instances, fanout):
    """Start, end, cell count, arrival, the hw instances of ``report``'s worst path and its
    slowest stage (the output pin with the largest delay, and that pin's fanout)."""
    by_id = {f"c{i}": c for i, c in enumerate(netlist.cells)}

    def where(step):
        cell = by_id.get(step.instance)
        if cell is None:
            return {"pin": step.pin, "cell": "port", "instance": "varimac (port)",
                    "register": None, "block": "top", "category": None}
        inst, reg, evidence = instances.get(cell.name, ("varimac", None, "none"))
        return {"pin": step.pin, "cell": step.cell, "instance": inst, "register": reg,
                "block": block_of(inst), "category": cell.category, "evidence": evidence}

    cells = []
    for step in report.steps:
        if not cells or cells[-1][0] != step.instance:
            cells.append((step.instance, where(step)))
    through = []
    for _, w in cells:
        if through and through[-1]["instance"] == w["instance"]:
            through[-1]["cells"] += 1
        else:
            through.append({"instance": w["instance"], "block": w["block"], "cells": 1})
    blocks = list(dict.fromkeys(t["block"] for t in through))
    delays = [(b.arrival_ns - a.arrival_ns, b) for a, b in zip(report.steps, report.steps[1:])
              if b.pin in fanout]
    delay, slow = max(delays, key=lambda d: d[0]) if delays else (0.0, report.steps[0])
    return {
        "start": cells[0][1], "end": cells[-1][1], "start_kind": report.start_kind,
        "end_kind": report.end_kind, "cells": len(cells),
        "arrival_ns": round(report.arrival_ns, 4), "through": through, "blocks": blocks,
        "slowest_stage": {"pin": slow.pin, "cell": slow.cell, "delay_ns": round(delay, 4),
                          "fanout": fanout.get(slow.pin)},
        "hw_files": [HW_FILES[b] for b in blocks],
    }


def merge(old, new):
    """Entries of ``new`` replace those of ``old`` with the same (library, array, variant)."""
    key = lambda e: (e["library"], e["array"], e["variant"])     # noqa: E731
    seen = {key(e) for e in new}
    kept = [e for e in old if key(e) not in seen]
    order = lambda e: (e["library"], [int(x) for x in e["array"].split("x")],   # noqa: E731
                       VARIANT_ORDER.index(e["variant"]))
    return sorted(kept + list(new), key=order)


def verdicts(entries):
    """The issue's targets, met or not, on the 8x8 tunable array (when it was measured)."""
    out = []
    for e in entries:
        if e["array"] != "8x8" or e["variant"] != "tunable":
            continue
        if e["library"] == "nangate45":
            ok = e["fmax_mhz"] >= TARGETS["fmax_mhz_nangate45_8x8"] and \
                e["critical_path"]["blocks"] == ["pe"]
            out.append({"target": "NanGate45 8x8: Fmax >= 400 MHz, critical path inside a PE",
                        "measured": f"{e['fmax_mhz']:.0f} MHz, path through "
                                    f"{', '.join(e['critical_path']['blocks'])}",
                        "met": ok})
        share = e["quantizer_area_share"]
        out.append({"target": f"{e['library']} 8x8: quantizers <= 20% of the cell area",
                    "measured": f"{100 * share:.1f}%",
                    "met": share <= TARGETS["quantizer_area_share_8x8"]})
    return out


def _end(w):
    if w["cell"] == "port":
        return f"port `{w['pin']}`"
    reg = f" `{w['register']}`" if w["register"] else ""
    return f"{w['instance'].removeprefix('varimac.')}{reg}"


def _stage(s):
    return f"{s['cell']} {s['delay_ns']:.3f} ns, fanout {s['fanout']}"


def markdown(report):
    """The timing and area tables (``timing.md``; docs/hardware.md quotes it)."""
    runs = report["runs"]
    targets = sorted({e["target_ns"] for e in runs})
    synth = sorted({f"ABC delay target {e['delay_target_ps']} ps" if e["delay_target_ps"]
                    else "area mapping" for e in runs})
    lines = [f"Target period {', '.join(f'{t:g}' for t in targets)} ns; synthesis: "
             f"{', '.join(synth)}; OpenSTA, ideal clock, library wire-load model; the path's "
             "ends are a hw instance and register (`src`), its blocks those of its cells.", "",
             "| library | array | variant | period met (ns) | Fmax (MHz) | slack at target (ns) "
             "| critical path start → end | cells | arrival (ns) | slowest stage | blocks |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in runs:
        cp = e["critical_path"]
        lines.append(f"| {e['library']} | {e['array']} | {e['variant']} | {e['period_ns']:.3f} "
                     f"| {e['fmax_mhz']:.0f} | {e['worst_slack_ns']:.3f} | {_end(cp['start'])} → "
                     f"{_end(cp['end'])} | {cp['cells']} | {cp['arrival_ns']:.3f} | "
                     f"{_stage(cp['slowest_stage'])} | {' → '.join(cp['blocks'])} |")
    lines += ["", "| library | array | variant | PE | quantizer | control | drain/skew | top "
              "| total (µm²) | quantizer share |", "|---|---|---|---|---|---|---|---|---|---|"]
    for e in runs:
        a = e["area_um2"]
        cols = " | ".join(f"{a[k]:.0f}" for k in ("pe", "quantizer", "control", "drain_skew",
                                                  "top", "total"))
        lines.append(f"| {e['library']} | {e['array']} | {e['variant']} | {cols} | "
                     f"{100 * e['quantizer_area_share']:.1f}% |")
    if report["verdicts"]:
        lines += ["", "| target | measured | verdict |", "|---|---|---|"]
        lines += [f"| {v['target']} | {v['measured']} | {'met' if v['met'] else 'not met'} |"
                  for v in report["verdicts"]]
    return "\n".join(lines) + "\n"


def build_report(entries):
    return {"runs": entries, "targets": TARGETS, "verdicts": verdicts(entries)}
