"""nextpnr's critical path, told in the hw modules it runs through.

nextpnr names packed cells after nets (``shift_out_TRELLIS_FF_Q_93_DI_LUT4_Z_...``), which say
nothing; the cells' ``src`` attributes in Yosys' netlist still point into the Verilog that was
read (``varimac.v:3400.17-3400.38``), and the Verilog's ``module`` blocks are the hw instances
Amaranth emitted (``varimac.drain.quantizer0``).
"""

import re

_MODULE = re.compile(r"^module\s+\\?(\S+?)\s*\(", re.M)
_SRC = re.compile(r"([^|:]+):(\d+)\.")
_ASSIGNED = re.compile(r"(?:^|\s)\\?([A-Za-z_$][\w$.]*)\s*(?:\[[^\]]*\]\s*)?<=")


def module_lines(verilog):
    """``[(first line, last line, module name), ...]`` of the modules in Verilog text."""
    spans, lines = [], verilog.splitlines()
    for m in _MODULE.finditer(verilog):
        first = verilog.count("\n", 0, m.start()) + 1
        last = next(i for i in range(first, len(lines) + 1)
                    if lines[i - 1].startswith("endmodule"))
        spans.append((first, last, m.group(1)))
    return spans


def _locate(src, sources):
    """``(module, line)`` of the first ``src`` entry inside one of ``sources``, else None."""
    for path, line in _SRC.findall(src or ""):
        if path in sources:
            line = int(line)
            for first, last, module in sources[path]["modules"]:
                if first <= line <= last:
                    return module, line
    return None


_PACKED = re.compile(r"(\$CCU2_COMB\d|\$CARRY|_DFFLC|_LC)$")
_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


class _Netlist:
    """Yosys' JSON netlist of one module, looked up by nextpnr's cell and net names."""

    def __init__(self, module):
        self.cells, self.nets = module["cells"], module["netnames"]
        self.driver, self.flop_of_d = {}, {}
        for name, cell in self.cells.items():
            dirs = cell.get("port_directions", {})
            for port, bits in cell.get("connections", {}).items():
                for bit in bits:
                    if dirs.get(port) == "output":
                        self.driver[bit] = name
                    elif port in ("D", "DI") and _is_flop(cell):
                        self.flop_of_d[bit] = name

    def cell(self, name):
        """The netlist cell behind a nextpnr cell (packing adds ``$CCU2_COMB0``/``_LC``)."""
        name = name if name in self.cells else _PACKED.sub("", name)
        return name if name in self.cells else None

    def net_driver(self, net):
        m = _INDEX.match(net)
        entry = self.nets.get(net) or (self.nets.get(m.group(1)) if m else None)
        if not entry:
            return None
        bits = entry["bits"]
        bit = bits[int(m.group(2))] if m and net not in self.nets and int(m.group(2)) < len(
            bits) else bits[0]
        return self.driver.get(bit)

    def flop_after(self, name):
        """``name`` if it is a flop, else the flop its output feeds (a packed LUT + FF)."""
        if name is None or _is_flop(self.cells[name]):
            return name
        outs = [b for p, bits in self.cells[name].get("connections", {}).items()
                if self.cells[name].get("port_directions", {}).get(p) == "output" for b in bits]
        return next((self.flop_of_d[b] for b in outs if b in self.flop_of_d), name)

    def src(self, name):
        return self.cells[name].get("attributes", {}).get("src") if name else None


def _is_flop(cell):
    return "DFF" in cell["type"] or cell["type"] == "TRELLIS_FF"


def _register(sources, src):
    """The register a flop's ``src`` assigns (``n0``), from the Verilog line it points to."""
    for path, line in _SRC.findall(src or ""):
        if path in sources:
            text = sources[path]["lines"]
            for k in range(int(line) - 1, min(int(line) + 3, len(text))):
                m = _ASSIGNED.search(text[k])
                if m:
                    return m.group(1)
    return None


def _end(net, info, cell, top_module):
    """``module: register`` of a path's end cell; a cell with no ``src`` in the sources (a
    block RAM's read register, which Yosys' RAM mapping leaves without one) is named by its
    netlist name in ``top_module`` (``varimac_fpga: ram_cmd__payload``)."""
    where = _locate(net.src(cell), info)
    if where:
        return f"{where[0]}: {_register(info, net.src(cell)) or '?'}"
    if cell and top_module:
        return f"{top_module}: {cell.lstrip(chr(92)).split('.')[0]}"
    return "?: ?"


def critical_path(report, netlist, sources, *, top_module=None):
    """The slowest clock-to-clock path of nextpnr's ``--report`` JSON as a dict: its delay,
    logic and routing share, cell count, start and end register, and the hw modules it
    passes through in order (consecutive repeats merged).

    ``sources``: ``{path as Yosys read it: Verilog text}``; ``netlist``: Yosys' JSON with
    module ``top_module`` (default: its only module)."""
    paths = [p for p in report.get("critical_paths", [])
             if p["from"].startswith("posedge") and p["to"].startswith("posedge")]
    if not paths:
        return None
    path = max(paths, key=lambda p: sum(e["delay"] for e in p["path"]))["path"]
    mods = netlist["modules"]
    net = _Netlist(mods[top_module or next(iter(mods))])
    info = {k: {"modules": module_lines(v), "lines": v.splitlines()}
            for k, v in sources.items()}
    through, steps = [], []
    for e in path:
        steps.append(net.net_driver(e["net"]) if e["type"] == "routing" and "net" in e
                     else net.cell(e["to"]["cell"]))
    start = next((s for s, e in zip(steps, path) if e["type"] == "routing"), None)
    end = net.flop_after(net.cell(path[-1]["to"]["cell"]))
    for name in [start] + steps + [end]:
        where = _locate(net.src(name), info)
        if where and (not through or through[-1] != where[0]):
            through.append(where[0])
    ends = [_end(net, info, c, top_module) for c in (start, end)]
    routing = sum(e["delay"] for e in path if e["type"] == "routing")
    total = sum(e["delay"] for e in path)
    return {"delay_ns": round(total, 2), "routing_ns": round(routing, 2),
            "logic_steps": sum(e["type"] == "logic" for e in path),
            "from": ends[0], "to": ends[1], "through": through}
