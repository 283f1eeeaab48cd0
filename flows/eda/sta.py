"""Static timing of a gate-level netlist with OpenSTA (``sta``, Debian package ``opensta``).

One clock ``clk`` at the target period, ideal (no clock tree), the library's default wire-load
model for every net (no placed wires), inputs arriving and outputs required at the clock edge
(zero external delay, i.e. registered neighbours), the asynchronous reset a false path (a real
design synchronizes and buffers it). The worst setup path is read from ``report_checks``;
the period the netlist meets is the target minus the worst slack (all paths are single-cycle
paths of one ideal clock), rounded up to a picosecond, and a second check at that period
confirms a slack >= 0.
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .tools import ToolError, run_tool

STA = "sta"
_PATH_LINE = re.compile(r"^\s*(-?\d+\.\d+)\s+(-?\d+\.\d+)\s+([\^v])\s+(\S+)\s+\(([^)]+)\)")
_ENDS = re.compile(r"^(Startpoint|Endpoint): (\S+)(?: \((.*)\))?")
_SLACK = re.compile(r"^vm_slack (\S+) (-?[\d.eE+-]+)$", re.M)


@dataclass(frozen=True)
class PathStep:
    pin: str            # "c123/ZN" or a port name
    instance: str       # "c123" (the port name for a port)
    cell: str           # liberty cell, or "port"
    arrival_ns: float


@dataclass(frozen=True)
class TimingReport:
    target_ns: float
    worst_slack_ns: float
    period_ns: float            # the period met
    slack_at_period_ns: float   # the second check, at ``period_ns``
    startpoint: str
    endpoint: str
    start_kind: str             # e.g. "rising edge-triggered flip-flop clocked by clk"
    end_kind: str
    arrival_ns: float           # data arrival time at the endpoint
    steps: tuple                # PathStep per pin of the data path
    text: str                   # the path report


def wire_load_name(lib_text):
    """The liberty's ``default_wire_load`` model name, or ``None``."""
    m = re.search(r'default_wire_load\s*:\s*"?([^";\s]+)"?\s*;', lib_text)
    return m.group(1) if m else None


def script(*, liberty, verilog, top, target_ns, wire_load):
    """The OpenSTA Tcl script: the report at the target, then the slack at the met period."""
    wl = f"set_wire_load_model -name {{{wire_load}}}\n" if wire_load else ""
    return f"""read_liberty {{{liberty}}}
read_verilog {{{verilog}}}
link_design {top}
{wl}create_clock -name clk -period {target_ns} [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports {{clk rst}}]]
set_output_delay 0 -clock clk [all_outputs]
set_false_path -from [get_ports rst]
report_checks -path_delay max -group_count 1 -digits 4
set ws [expr {{[sta::worst_slack_cmd max] * 1e9}}]
puts "vm_slack target [format %.6f $ws]"
set met [expr {{ceil(({target_ns} - $ws) * 1000.0 - 1e-6) / 1000.0}}]
create_clock -name clk -period $met [get_ports clk]
puts "vm_slack period [format %.6f $met]"
puts "vm_slack at_period [format %.6f [expr {{[sta::worst_slack_cmd max] * 1e9}}]]"
exit
"""


def run_sta(*, liberty, verilog, top, target_ns, work_dir):
    """Run OpenSTA on ``verilog`` (flat, cells of ``liberty``); returns a ``TimingReport``."""
    if not (isinstance(target_ns, (int, float)) and math.isfinite(target_ns) and target_ns > 0):
        raise ValueError(f"target_ns must be a positive number, not {target_ns!r}")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    lib_text = Path(liberty).read_text(encoding="latin-1")
    tcl = work / "sta.tcl"
    tcl.write_text(script(liberty=Path(liberty).resolve(), verilog=Path(verilog).resolve(),
                          top=top, target_ns=target_ns, wire_load=wire_load_name(lib_text)))
    log = work / "sta.log"
    run_tool([STA, "-no_init", "-no_splash", "-exit", tcl.name], log_path=log, cwd=work)
    return parse_report(log.read_text(), target_ns=target_ns)


def parse_report(text, *, target_ns):
    """A ``TimingReport`` from the log of ``script``; ``ToolError`` if it lacks a part."""
    slacks = dict(_SLACK.findall(text))
    ends, steps, arrival = {}, [], None
    for line in text.splitlines():
        m = _ENDS.match(line)
        if m and m.group(1) not in ends:
            ends[m.group(1)] = (m.group(2), m.group(3) or "")
            continue
        if "Endpoint" in ends and arrival is None:
            p = _PATH_LINE.match(line)
            if p:
                pin, cell = p.group(4), p.group(5)
                steps.append(PathStep(pin=pin, instance=pin.split("/")[0],
                                      cell="port" if cell in ("in", "out") else cell,
                                      arrival_ns=float(p.group(2))))
            elif line.strip().endswith("data arrival time"):
                arrival = float(line.split()[0])
    missing = [k for k in ("target", "period", "at_period") if k not in slacks]
    if missing or "Endpoint" not in ends or arrival is None or not steps:
        raise ToolError("OpenSTA report without a worst path or slack (see sta.log):\n"
                        + "\n".join(text.strip().splitlines()[-10:]))
    return TimingReport(
        target_ns=target_ns, worst_slack_ns=float(slacks["target"]),
        period_ns=float(slacks["period"]), slack_at_period_ns=float(slacks["at_period"]),
        startpoint=ends["Startpoint"][0], start_kind=ends["Startpoint"][1],
        endpoint=ends["Endpoint"][0], end_kind=ends["Endpoint"][1], arrival_ns=arrival,
        steps=tuple(steps), text=_path_text(text))


def _path_text(text):
    start = text.find("Startpoint:")
    end = text.find("vm_slack target")
    return text[start:end].rstrip() + "\n" if start >= 0 else ""
