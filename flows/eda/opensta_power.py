"""An independent price check: OpenSTA's ``report_power`` against ``flows.eda.energy`` on the same
netlist, at the same activity, term by term (internal, switching, leakage).

OpenSTA 2.0.17 (the ``sta`` here) cannot be fed per-pin activities: it has no ``read_vcd`` or
``read_saif``, its ``set_power_activity -pins`` calls an undefined ``get_pins_error``, and
``sta::set_power_pin_activity`` leaves ``report_power`` unchanged. What it does take is one
global activity, ``set_power_activity -global -activity A -duty 0.5`` (A transitions per clock
period on every pin that is not a clock pin; clock pins, gated ones included, 2 per period).
So both sides are given exactly that activity: ``uniform_toggles`` is the toggle map with which
``flows.eda.energy`` prices one clock period of it, and ``check`` compares the two per term and per
category (OpenSTA's per-instance powers summed by each cell's category; a flop's clock-pin
energy, which ``flows.eda.energy`` books under ``clock``, stays with the flop in OpenSTA's figure,
so ``total`` is the figure to hold against the target). What this checks is the pricing (tables,
loads, wire model, units, averaging); the activities are the simulation's own either way.
"""

import re
from pathlib import Path

from .sta import STA, wire_load_name
from .tools import ToolError, run_tool

_INSTANCE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(c\d+)\s*$", re.MULTILINE)
TERMS = ("internal", "switching", "leakage")


def script(*, liberty, verilog, top, period_ns, activity, wire_load):
    wl = f"set_wire_load_model -name {{{wire_load}}}\n" if wire_load else ""
    return f"""read_liberty {{{liberty}}}
read_verilog {{{verilog}}}
link_design {top}
{wl}create_clock -name clk -period {period_ns} [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_power_activity -global -activity {activity} -duty 0.5
report_power -instances [get_cells *] -digits 8
exit
"""


def run_report(*, liberty, verilog, top, period_ns, activity, work_dir):
    """``{instance: (internal, switching, leakage)}`` in watts from OpenSTA."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    wire = wire_load_name(Path(liberty).read_text(encoding="latin-1"))
    (work / "power.tcl").write_text(script(
        liberty=Path(liberty).resolve(), verilog=Path(verilog).resolve(), top=top,
        period_ns=period_ns, activity=activity, wire_load=wire))
    run_tool([STA, "-no_init", "-no_splash", "-exit", "power.tcl"], log_path=work / "power.log",
             cwd=work)
    text = (work / "power.log").read_text()
    found = {m[4]: tuple(float(x) for x in m[:3]) for m in _INSTANCE.findall(text)}
    if not found:
        raise ToolError("OpenSTA report_power without instances (see power.log):\n"
                        + "\n".join(text.strip().splitlines()[-10:]))
    return found


def uniform_toggles(netlist, library, activity):
    """Toggles per clock period under OpenSTA's global activity: ``activity`` on every net,
    2 on nets that reach a clock pin, none on nets driven from outside (OpenSTA charges a
    net's switching to the cell driving it; a top-level input has none)."""
    loads, drivers = netlist.loads(), netlist.drivers()
    out = {}
    for net in netlist.nets:
        drv = drivers.get(net)
        clock = any(library.cells[c.type].pins[p].clock for c, p in loads.get(net, []))
        if drv is None or drv[0] == "port":
            continue
        out[net] = 2.0 if clock else activity
    return out


def when_probability(lib_cell, when):
    """The probability of ``when`` with every input pin and the cell's state at duty 0.5, its
    outputs computed from them (so a flop's ``Q`` and ``QN`` are never both 1)."""
    from itertools import product

    from .cellmodels import evaluate, parse_function
    if not when:
        return 1.0
    seq = lib_cell.ff or lib_cell.latch
    state = list(seq["names"]) if seq else []
    inputs = [p.name for p in lib_cell.pins.values() if p.direction in ("input", "internal")]
    outputs = {p.name: parse_function(p.function) for p in lib_cell.pins.values()
               if p.direction == "output" and p.function}
    tree, hits, total = parse_function(when), 0, 0
    for bits in product((0, 1), repeat=len(inputs) + bool(state)):
        v = dict(zip(inputs, bits))
        if state:
            v[state[0]], v[state[1]] = bits[-1], 1 - bits[-1]
        try:
            v.update({name: evaluate(f, v) for name, f in outputs.items()})
            hits += evaluate(tree, v)
        except KeyError:
            return 0.5 ** len(set(when.split()) & set(lib_cell.pins))
        total += 1
    return hits / total


def internal_as_opensta(netlist, library, toggles, slew, cap):
    """Joules of internal energy priced by the rule OpenSTA 2.0.17 applies (read from its
    ``sta::set_debug power 2`` trace): an output pin's ``internal_power`` groups (every
    related pin and ``when``) added, each at the pin's full activity; an input pin's groups
    each weighted by the probability of its ``when`` (``when_probability``)."""
    from .energy import input_energy, output_energy_fn
    total = 0.0
    for cell in netlist.cells:
        lc = library.cells[cell.type]
        for pin, net in cell.pins.items():
            arcs = lc.pins[pin].power
            t = toggles.get(net, 0) if isinstance(net, int) else 0
            if not t or not arcs:
                continue
            if cell.directions[pin] == "output":
                total += t * sum(float(output_energy_fn([a], slew)(cap[net])) for a in arcs)
            else:
                total += t * sum(input_energy([a], slew) * when_probability(lc, a.when)
                                 for a in arcs)
    return total


def check(*, netlist, library, liberty, verilog, period_ns, activity, slew, wire, work_dir):
    """Both prices of one clock period at ``activity``: ``{"flow"|"opensta": {term: µW,
    "total": µW, "by_category": {category: µW}}, "ratio": opensta / flow per term}``."""
    from .breakdown import CATEGORIES
    from .energy import compute_energy
    e = compute_energy(netlist=netlist, library=library, slew=slew, wire=wire,
                       toggles=uniform_toggles(netlist, library, activity))
    period = period_ns * 1e-9
    flow = {"internal": sum(e.internal.values()) / period,
            "switching": sum(e.switching.values()) / period, "leakage": e.total_leakage,
            "by_category": {c: (e.dynamic[c] / period + e.leakage[c]) * 1e6
                            for c in CATEGORIES}}
    report = run_report(liberty=liberty, verilog=verilog, top=netlist.top, period_ns=period_ns,
                        activity=activity, work_dir=work_dir)
    sta = dict.fromkeys(TERMS, 0.0)
    by_cat = dict.fromkeys(CATEGORIES, 0.0)
    for i, cell in enumerate(netlist.cells):
        powers = report.get(f"c{i}")
        if powers is None:
            raise ToolError(f"OpenSTA reported no power for instance c{i} ({cell.type})")
        for term, p in zip(TERMS, powers):
            sta[term] += p
        cat = "clock" if library.cells[cell.type].icg else cell.category
        by_cat[cat] += sum(powers) * 1e6
    sta["by_category"] = by_cat
    out = {}
    for name, side in (("flow", flow), ("opensta", sta)):
        out[name] = {t: round(side[t] * 1e6, 3) for t in TERMS}
        out[name]["total"] = round(sum(side[t] for t in TERMS) * 1e6, 3)
        out[name]["by_category"] = {c: round(v, 3) for c, v in side["by_category"].items()}
    out["ratio"] = {t: round(out["opensta"][t] / out["flow"][t], 4) if out["flow"][t] else None
                    for t in (*TERMS, "total")}
    rule = internal_as_opensta(netlist, library, uniform_toggles(netlist, library, activity),
                               slew, e.net_capacitance) / period * 1e6
    out["flow_by_opensta_rule"] = {"internal": round(rule, 3), "total": round(
        rule + out["flow"]["switching"] + out["flow"]["leakage"], 3)}
    out["ratio_to_opensta_rule"] = {
        t: round(out["opensta"][t] / out["flow_by_opensta_rule"][t], 4)
        for t in ("internal", "total")}
    out.update(activity=activity, period_ns=period_ns, duty=0.5)
    return out


def by_type(*, netlist, library, report_log, activity, slew, wire, period_ns):
    """``[(cell type, count, OpenSTA internal µW, flow by OpenSTA's rule µW, flow µW)]``,
    largest OpenSTA figure first, from the ``power.log`` a ``check`` left."""
    from types import SimpleNamespace

    from .energy import compute_energy
    toggles = uniform_toggles(netlist, library, activity)
    cap = compute_energy(netlist=netlist, library=library, toggles=toggles, slew=slew,
                         wire=wire).net_capacitance
    found = {m[4]: float(m[0]) for m in _INSTANCE.findall(Path(report_log).read_text())}
    groups = {}
    for i, cell in enumerate(netlist.cells):
        groups.setdefault(cell.type, []).append((i, cell))
    rows = []
    for ctype, cells in groups.items():
        sub = SimpleNamespace(cells=[c for _, c in cells])
        flow_sub = compute_energy(netlist=_subset(netlist, sub.cells), library=library,
                                  toggles=toggles, slew=slew, wire=wire)
        rows.append((ctype, len(cells), sum(found[f"c{i}"] for i, _ in cells) * 1e6,
                     internal_as_opensta(sub, library, toggles, slew, cap)
                     / (period_ns * 1e-9) * 1e6,
                     sum(flow_sub.internal.values()) / (period_ns * 1e-9) * 1e6))
    return sorted(rows, key=lambda r: -r[2])


def _subset(netlist, cells):
    """``netlist`` with only ``cells`` priced, each net's load still the whole netlist's."""
    from types import SimpleNamespace
    return SimpleNamespace(cells=cells, nets=netlist.nets, ports=netlist.ports,
                           drivers=netlist.drivers, loads=netlist.loads)


def by_type_markdown(root, variant):
    """The per-cell-type table of a power run's OpenSTA check (``root`` holds ``power.json`` and
    ``work/``) as Markdown: ``varimac power-by-type``."""
    import json

    from .liberty import prepare_liberty
    from .netlist import Netlist
    from .synth import category_of
    report = json.loads((Path(root) / "power.json").read_text())
    c = report["opensta"][variant]
    work = Path(root) / "work" / variant
    _, library = prepare_liberty(report["library"],
                                 build_dir=Path(__file__).resolve().parents[2] / "build")
    netlist = Netlist(work / "synth" / "netlist.json", top="varimac", category_of=category_of)
    rows = by_type(netlist=netlist, library=library, report_log=work / "opensta" / "power.log",
                   activity=c["activity"], slew=report["slew_ps"] * 1e-12,
                   wire=report["wire_model"], period_ns=c["period_ns"])
    lines = [f"Internal power (µW) by cell type, {variant} array, activity {c['activity']:g} per "
             f"cycle at {c['period_ns']:g} ns (`varimac power-by-type {root} {variant}`)", "",
             "| cell | count | OpenSTA | flow, OpenSTA's group rule | OpenSTA / rule | flow |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {ctype} | {n} | {sta:,.1f} | {rule:,.1f} | "
              f"{sta / rule if rule else float('nan'):.2f} | {flow:,.1f} |"
              for ctype, n, sta, rule, flow in rows[:12]]
    return "\n".join(lines) + "\n"
