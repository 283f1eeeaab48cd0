"""Which hardware block (hw/ module instance) each gate of a synthesized netlist belongs to.

Evidence, not names guessed from a path: a cell that Yosys kept a ``src`` attribute for (every
flip-flop: ``varimac.v:6420.3-6422.30``) lies in the generated Verilog module that contains that
line, i.e. an Amaranth instance such as ``varimac.array.pe_1_0``, and the line names the
register (``acc_lane0``). ABC's gates keep no ``src``; each one takes the instance of the cells
its output feeds (the majority, transitively, up to the first flops), and a gate that feeds
only ports takes the instance of the cells feeding it. Instances group into the blocks of
``BLOCKS``.
"""

import bisect
import json
import re
from collections import Counter
from pathlib import Path

BLOCKS = ("pe", "quantizer", "control", "drain_skew", "top")
# (block, instance-path regex); first match wins. The quantizer's own submodules (a PRNG
# stage, say) belong to it.
BLOCK_RULES = (
    ("pe", r"^varimac\.array\.pe_\d+_\d+(\.|$)"),
    ("quantizer", r"^varimac\.drain\.(quantizer|prng)[^.]*(\.|$)"),
    ("drain_skew", r"^varimac\.(drain|array)(\.|$)"),
    ("control", r"^varimac\.control(\.|$)"),
    ("top", r"^varimac$"),
)
HW_FILES = {"pe": "hw/pe.py, hw/multiplier.py", "quantizer": "hw/quantizer.py, hw/prng.py",
            "drain_skew": "hw/drain.py, hw/array.py", "control": "hw/control.py",
            "top": "hw/top.py"}
_MODULE = re.compile(r"^module\s+\\?(\S+)")
_SRC = re.compile(r"varimac\.v:(\d+)\.\d+-(\d+)\.\d+")
_ASSIGN = re.compile(r"(\\?[A-Za-z_$][\w$.]*)\s*(?:\[[^\]]*\]\s*)?<=")


def block_of(instance):
    """The block of an instance path (``varimac.drain.quantizer0`` -> ``quantizer``)."""
    for block, pattern in BLOCK_RULES:
        if re.search(pattern, instance):
            return block
    return "top"


class VerilogSource:
    """The generated Verilog: which module (instance) and register each line belongs to."""

    def __init__(self, path):
        self.lines = Path(path).read_text().splitlines()
        self.starts, self.modules = [], []
        for i, line in enumerate(self.lines, 1):
            m = _MODULE.match(line)
            if m:
                self.starts.append(i)
                self.modules.append(m.group(1))

    def locate(self, src):
        """``(instance, register)`` for a ``src`` attribute, or ``None`` if it names no line."""
        m = _SRC.search(src or "")
        if not m or not self.starts:
            return None
        first, last = int(m.group(1)), int(m.group(2))
        idx = bisect.bisect_right(self.starts, first) - 1
        if idx < 0:
            return None
        text = " ".join(self.lines[first - 1:last])
        regs = [r.lstrip("\\") for r in _ASSIGN.findall(text)]
        return self.modules[idx], (regs[-1] if regs else None)


def cell_instances(netlist, netlist_json, verilog):
    """``{cell name: (instance, register or None, evidence)}`` for every cell of ``netlist``;
    evidence is ``"src"`` or ``"fanout"``/``"fanin"`` (inherited)."""
    with open(netlist_json) as f:
        raw = json.load(f)["modules"][netlist.top]["cells"]
    source = VerilogSource(verilog)
    out = {}
    for c in netlist.cells:
        where = source.locate(raw[c.name].get("attributes", {}).get("src"))
        if where is not None:
            out[c.name] = (where[0], where[1], "src")
    readers, writers = {}, {}
    for c in netlist.cells:
        for pin, net in c.pins.items():
            if isinstance(net, int):
                (writers if c.directions[pin] == "output" else readers).setdefault(
                    net, []).append(c.name)
    fanout = {c.name: [r for pin, n in c.pins.items() if c.directions[pin] == "output"
                       for r in readers.get(n, ())] for c in netlist.cells}
    fanin = {c.name: [w for pin, n in c.pins.items() if c.directions[pin] == "input"
                      for w in writers.get(n, ())] for c in netlist.cells}
    for neighbours, evidence in ((fanout, "fanout"), (fanin, "fanin")):
        _inherit(out, neighbours, evidence)
    return out


def _inherit(known, neighbours, evidence):
    """Give every cell without an instance the majority instance of its ``neighbours``,
    resolving chains depth first (an explicit stack: netlists have deep cones)."""
    done = set()
    for root in list(neighbours):
        if root in known or root in done:
            continue
        stack, active = [(root, iter(neighbours[root]))], {root}
        while stack:
            name, it = stack[-1]
            nxt = next((n for n in it if n not in known and n not in done
                        and n not in active), None)
            if nxt is not None:
                active.add(nxt)
                stack.append((nxt, iter(neighbours[nxt])))
                continue
            stack.pop()
            active.discard(name)
            done.add(name)
            votes = Counter(known[n][0] for n in neighbours[name] if n in known)
            if votes:
                best = max(sorted(votes), key=votes.__getitem__)
                known[name] = (best, None, evidence)


def area_by_block(netlist, library, instances):
    """``{block: um^2}`` over ``BLOCKS`` (cells with no instance count as ``top``), and
    ``total``."""
    area = dict.fromkeys(BLOCKS, 0.0)
    for c in netlist.cells:
        inst = instances.get(c.name)
        area[block_of(inst[0]) if inst else "top"] += library.cells[c.type].area
    out = {k: round(v, 3) for k, v in area.items()}
    out["total"] = round(sum(area.values()), 3)
    return out
