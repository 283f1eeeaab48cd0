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

``decompose`` names every factor between the flow's internal power and OpenSTA's, instance by
instance, in this order: OpenSTA's pin activities, OpenSTA's propagated slews off the clock
network and then on it (the flow prices every pin at one fixed slew), OpenSTA 2.0.17's rule
for ``internal_power`` groups (``flows.eda.opensta_rule``), and what is left (OpenSTA over
that replica).
"""

import re
from itertools import pairwise
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
set f [open slews.txt w]
foreach pin [get_pins */*] {{
  if {{[$pin is_load]}} {{
    foreach v [$pin vertices] {{
      puts $f "[get_full_name $pin] [$v slew rise max] [$v slew fall max]"
    }}
  }}
}}
close $f
exit
"""


def run_report(*, liberty, verilog, top, period_ns, activity, work_dir):
    """``{instance: (internal, switching, leakage)}`` in watts from OpenSTA; the input pins'
    propagated slews are left in ``work_dir``/slews.txt (``read_slews``)."""
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
    drivers, clock = netlist.drivers(), clock_nets(netlist, library)
    out = {}
    for net in netlist.nets:
        drv = drivers.get(net)
        if drv is None or drv[0] == "port":
            continue
        out[net] = 2.0 if net in clock else activity
    return out


def read_slews(path):
    """``{"c<i>/<pin>": (rise, fall)}`` in seconds, from the slews.txt of ``run_report``."""
    out = {}
    for line in Path(path).read_text().splitlines():
        name, rise, fall = line.split()
        out[name] = (float(rise), float(fall))
    return out


def clock_nets(netlist, library):
    """The nets that reach a clock pin (OpenSTA's clock network, gated clocks included)."""
    loads = netlist.loads()
    return {n for n in netlist.nets
            if any(library.cells[c.type].pins[p].clock for c, p in loads.get(n, []))}


def pin_activity(netlist, library, activity):
    """Toggles per period OpenSTA gives a pin, as ``toggles_of(cell, pin, net)``: 2 on a
    net that reaches a clock pin, ``activity`` on every other pin, also those on top-level
    inputs and constants (its global activity)."""
    clock = clock_nets(netlist, library)
    return lambda cell, pin, net: 2.0 if net in clock else activity


# each step changes one thing from the one before (``decompose``); then OpenSTA itself
STEPS = ("flow", "activities", "data_slews", "clock_slews", "rule")


def decompose(*, netlist, library, activity, slew, cap, slews):
    """``{step: [joules per period per cell]}``: the flow's internal energy (``flow``: its
    rule, its fixed ``slew``, ``uniform_toggles``), then with OpenSTA's pin activities
    (``activities``), then with the slews OpenSTA propagates to the pins off the clock
    network (``data_slews``: ``slews`` from ``read_slews``), then to the clock pins too
    (``clock_slews``), then with OpenSTA's rule (``rule``: the replica of its figure)."""
    from .opensta_rule import internal_by_instance
    toggles = uniform_toggles(netlist, library, activity)
    clock = clock_nets(netlist, library)
    everywhere = pin_activity(netlist, library, activity)
    out = {}
    for name in STEPS:
        propagated = {"data_slews": "data", "clock_slews": "all", "rule": "all"}.get(name)

        def slew_of(i, pin, edge, propagated=propagated):
            if propagated is None or (propagated == "data"
                                      and netlist.cells[i].pins[pin] in clock):
                return slew
            return slews[f"c{i}/{pin}"][edge == "fall"]
        out[name] = internal_by_instance(
            netlist, library, rule="opensta" if name == "rule" else "flow",
            toggles_of=everywhere if name != "flow" else
            lambda c, p, n: toggles.get(n, 0) if isinstance(n, int) else 0,
            slew_of=slew_of, cap=cap)
    return out


def check(*, netlist, library, liberty, verilog, period_ns, activity, slew, wire, work_dir):
    """Both prices of one clock period at ``activity``: ``{"flow"|"opensta": {term: µW,
    "total": µW, "by_category": {category: µW}}, "ratio": opensta / flow per term,
    "internal_steps": {step: µW} and "factors" between them (``decompose``), "total_steps":
    each step's internal power plus the flow's switching and leakage (OpenSTA's own last)}``."""
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
    parts = decompose(netlist=netlist, library=library, activity=activity, slew=slew,
                      cap=e.net_capacitance, slews=read_slews(Path(work_dir) / "slews.txt"))
    steps = {k: sum(v) / period * 1e6 for k, v in parts.items()}
    steps["opensta"] = out["opensta"]["internal"]
    out["internal_steps"] = {k: round(v, 3) for k, v in steps.items()}
    rest = out["flow"]["switching"] + out["flow"]["leakage"]
    out["total_steps"] = {k: round(v + rest, 3) for k, v in steps.items()}
    out["total_steps"]["opensta"] = out["opensta"]["total"]
    names = (*STEPS, "opensta")
    out["factors"] = {b: round(steps[b] / steps[a], 4) if steps[a] else None
                      for a, b in pairwise(names)}
    out.update(activity=activity, period_ns=period_ns, duty=0.5)
    return out
