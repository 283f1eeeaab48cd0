"""A flat gate-level netlist read from Yosys JSON, and its Verilog with one wire per net.

Every net is a bit number of the Yosys JSON; in the Verilog written here it is the scalar wire
``n<bit>``, so a waveform of that module names each net directly. Ports keep their names and
widths. Each cell has its liberty type, its pin connections and its energy category.
"""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class GateCell:
    name: str
    type: str
    category: str
    pins: dict          # pin -> net (int bit) or constant "0"/"1"/"x"/"z"
    directions: dict    # pin -> "input" / "output"


class Netlist:
    """The top module of a flat Yosys JSON netlist; ``category_of(cell_name)`` names each
    cell's energy category."""

    def __init__(self, path, *, top, category_of):
        with open(path) as f:
            data = json.load(f)
        if top not in data["modules"]:
            raise ValueError(f"{path}: no module {top}")
        mod = data["modules"][top]
        self.top = top
        self.ports = {name: (p["direction"], p["bits"]) for name, p in mod["ports"].items()}
        self.cells = []
        for name, c in mod["cells"].items():
            if c["type"] == "$scopeinfo":
                continue
            if c["type"].startswith("$"):
                raise ValueError(f"{path}: cell {name} is the unmapped Yosys cell {c['type']}")
            pins = {pin: bits[0] for pin, bits in c["connections"].items() if len(bits) == 1}
            if len(pins) != len(c["connections"]):
                raise ValueError(f"{path}: cell {name} has a multi-bit pin")
            self.cells.append(GateCell(name=name, type=c["type"], category=category_of(name),
                                       pins=pins, directions=c["port_directions"]))
        self.names = {}
        for name, n in mod["netnames"].items():
            for bit in n["bits"]:
                if isinstance(bit, int) and (bit not in self.names or
                                             _better(name, self.names[bit])):
                    self.names[bit] = name
        nets = set()
        for c in self.cells:
            nets.update(b for b in c.pins.values() if isinstance(b, int))
        for _, bits in self.ports.values():
            nets.update(b for b in bits if isinstance(b, int))
        self.nets = sorted(nets)

    def drivers(self):
        """net -> (cell, pin) of its driving cell output, or ("port", name) for a top input."""
        out = {}
        for name, (direction, bits) in self.ports.items():
            if direction == "input":
                for b in bits:
                    if isinstance(b, int):
                        out[b] = ("port", name)
        for c in self.cells:
            for pin, b in c.pins.items():
                if c.directions[pin] == "output" and isinstance(b, int):
                    out[b] = (c, pin)
        return out

    def loads(self):
        """net -> [(cell, pin), ...] of the cell inputs it drives."""
        out = {b: [] for b in self.nets}
        for c in self.cells:
            for pin, b in c.pins.items():
                if c.directions[pin] == "input" and isinstance(b, int):
                    out[b].append((c, pin))
        return out

    def cell_types(self):
        return sorted({c.type for c in self.cells})

    def write_verilog(self, path, *, module=None):
        """Write the netlist as Verilog, every net a scalar wire ``n<bit>``."""
        lines = [f"module {module or self.top} ({', '.join(self.ports)});"]
        for name, (direction, bits) in self.ports.items():
            rng = f"[{len(bits) - 1}:0] " if len(bits) > 1 else ""
            lines.append(f"  {direction} {rng}{name};")
        lines.extend(f"  wire n{b};" for b in self.nets)
        for name, (direction, bits) in self.ports.items():
            for i, b in enumerate(bits):
                sel = f"{name}[{i}]" if len(bits) > 1 else name
                if direction == "input" and isinstance(b, int):
                    lines.append(f"  assign n{b} = {sel};")
                elif direction == "output":
                    lines.append(f"  assign {sel} = {_ref(b)};")
        for i, c in enumerate(self.cells):
            conns = ", ".join(f".{pin}({_ref(b)})" for pin, b in c.pins.items())
            lines.append(f"  {c.type} c{i} ({conns});")
        lines.append("endmodule")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


def _ref(bit):
    if isinstance(bit, int):
        return f"n{bit}"
    return {"0": "1'b0", "1": "1'b1"}.get(bit, "1'bx")


def _better(name, old):
    """Prefer public names, then shorter ones, as a net's display name."""
    return (name.startswith("$"), len(name)) < (old.startswith("$"), len(old))
