"""The liberty text parser: groups and attributes into ``flows.eda.liberty_cells`` objects,
values converted to SI units (farad, joule, watt, second); and the removal of never-use cells
from the text before Yosys reads it."""

import re
from dataclasses import dataclass, field

import numpy as np

from .liberty_cells import Cell, Library, Pin, PowerArc, Table

_UNIT_PREFIX = {"": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18,
                "k": 1e3}


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}();:,]|[^\s{}();:,"\\]+|\\', re.S)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


@dataclass
class _Group:
    type: str
    args: list
    attrs: dict = field(default_factory=dict)
    complex: list = field(default_factory=list)
    groups: list = field(default_factory=list)

    def all(self, type_):
        return [g for g in self.groups if g.type == type_]


def _unquote(token):
    if token.startswith('"'):
        return token[1:-1].replace("\\\n", " ").replace("\\\r\n", " ")
    return token


def parse_groups(text):
    """Liberty text to its top-level group tree (attributes keep their last value)."""
    tokens = [t for t in _TOKEN.findall(_COMMENT.sub(" ", text)) if t != "\\"]
    pos = 0
    root = _Group("root", [])
    stack = [root]
    n = len(tokens)
    while pos < n:
        tok = tokens[pos]
        if tok == "}":
            stack.pop()
            pos += 1
            if pos < n and tokens[pos] == ";":
                pos += 1
            continue
        name = tok
        nxt = tokens[pos + 1]
        if nxt == ":":
            # simple attribute: name : value ;  (value may be several words before ';')
            end = pos + 2
            while end < n and tokens[end] not in (";", "}") and \
                    not (tokens[end + 1] in (":", "(") if end + 1 < n else False):
                end += 1
            stack[-1].attrs[name] = " ".join(_unquote(t) for t in tokens[pos + 2:end])
            pos = end + 1 if end < n and tokens[end] == ";" else end
        elif nxt == "(":
            end = tokens.index(")", pos + 2)
            args = [_unquote(t) for t in tokens[pos + 2:end] if t != ","]
            pos = end + 1
            if pos < n and tokens[pos] == "{":
                group = _Group(name, args)
                stack[-1].groups.append(group)
                stack.append(group)
                pos += 1
            else:
                stack[-1].complex.append((name, args))
                if pos < n and tokens[pos] == ";":
                    pos += 1
        else:
            raise ValueError(f"liberty: unexpected token {nxt!r} after {name!r}")
    return root.groups


def _unit(text, base):
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([a-zA-Z]*)\s*", text)
    if not m or not m.group(2).endswith(base):
        raise ValueError(f"liberty: cannot read unit {text!r} (expected ...{base})")
    prefix = m.group(2)[: -len(base)]
    return float(m.group(1)) * _UNIT_PREFIX[prefix]


def _floats(text):
    return [float(x) for x in text.replace(",", " ").split()]


def _table(group, templates, scale, units):
    """A table in SI units: indices by their template variable (time or capacitance)."""
    template = templates.get(group.args[0] if group.args else "", {})
    idx = {}
    for i, k in enumerate(("index_1", "index_2"), start=1):
        found = [a for name, a in group.complex if name == k] or \
            ([template[k]] if k in template else [])
        var = template.get(f"variable_{i}", "")
        unit = units["time"] if "transition" in var else \
            units["cap"] if "capacitance" in var else 1.0
        idx[k] = tuple(x * unit for x in _floats(" ".join(found[0]))) if found else None
    values = [a for name, a in group.complex if name == "values"]
    if not values:
        return None
    vals = np.array(_floats(" ".join(values[0])), dtype=float) * scale
    if idx["index_1"] is None:
        return Table((0.0,), None, vals[:1]) if vals.size == 1 else None
    if idx["index_2"] is not None and vals.size != len(idx["index_1"]) * len(idx["index_2"]):
        idx["index_2"] = None
    return Table(idx["index_1"], idx["index_2"], vals)


def parse_liberty(text):
    """Liberty text to a ``Library`` in SI units."""
    groups = parse_groups(text)
    libs = [g for g in groups if g.type == "library"]
    if not libs:
        raise ValueError("liberty: no library group")
    lib = libs[0]
    a = lib.attrs
    time_unit = _unit(a.get("time_unit", "1ns"), "s")
    volt_unit = _unit(a.get("voltage_unit", "1V"), "V")
    leak_unit = _unit(a.get("leakage_power_unit", "1nW"), "W")
    cap = dict(lib.complex).get("capacitive_load_unit", ["1", "pf"])
    cap_unit = float(cap[0]) * _UNIT_PREFIX[cap[1].lower()[:-1]]
    energy_unit = cap_unit * volt_unit * volt_unit          # Liberty: C unit x V unit^2
    voltage = a.get("nom_voltage")
    if voltage is None:
        conds = lib.all("operating_conditions")
        default = a.get("default_operating_conditions")
        chosen = [g for g in conds if g.args and g.args[0] == default] or conds
        voltage = chosen[0].attrs.get("voltage") if chosen else None
    if voltage is None:
        raise ValueError("liberty: no nom_voltage or operating_conditions voltage")
    voltage = float(voltage) * volt_unit
    templates = {}
    for g in lib.groups:
        if g.type in ("power_lut_template", "lu_table_template") and g.args:
            templates[g.args[0]] = dict({name: args for name, args in g.complex},
                                        **{k: v for k, v in g.attrs.items() if "variable" in k})
    wire = {"cap": 0.0, "slope": 0.0, "fanout": ()}
    wl_name = a.get("default_wire_load")
    for g in lib.all("wire_load"):
        if g.args and g.args[0] == wl_name:
            wire = {"cap": float(g.attrs.get("capacitance", 0)) * cap_unit,
                    "slope": float(g.attrs.get("slope", 0)),
                    "fanout": tuple((float(x[0]), float(x[1]))
                                    for name, x in g.complex if name == "fanout_length")}
    cells = {}
    for g in lib.all("cell"):
        cell = _cell(g, templates, units={"time": time_unit, "cap": cap_unit},
                     cap_unit=cap_unit, energy_unit=energy_unit, leak_unit=leak_unit)
        cells[cell.name] = cell
    return Library(name=lib.args[0] if lib.args else "", voltage=voltage, time_unit=time_unit,
                   wire_cap_per_length=wire["cap"], wire_slope=wire["slope"],
                   wire_fanout_length=wire["fanout"], cells=cells)


def _truthy(value):
    return str(value).strip().lower() == "true"


def _cell(g, templates, *, units, cap_unit, energy_unit, leak_unit):
    pins = {}
    for p in g.all("pin"):
        pa = p.attrs
        power = []
        for ip in p.all("internal_power"):
            rise = [t for t in ip.groups if t.type == "rise_power"]
            fall = [t for t in ip.groups if t.type == "fall_power"]
            plain = [t for t in ip.groups if t.type == "power"]
            rise = _table(rise[0], templates, energy_unit, units) if rise else None
            fall = _table(fall[0], templates, energy_unit, units) if fall else None
            if plain and rise is None and fall is None:
                rise = fall = _table(plain[0], templates, energy_unit, units)
            power.append(PowerArc(ip.attrs.get("related_pin"), ip.attrs.get("when"), rise, fall))
        for name in p.args:
            pins[name] = Pin(
                name=name, direction=pa.get("direction", ""),
                capacitance=float(pa.get("capacitance", 0)) * cap_unit,
                function=pa.get("function") or pa.get("state_function"),
                clock=_truthy(pa.get("clock", "false")) or
                _truthy(pa.get("clock_gate_clock_pin", "false")),
                gate_enable=_truthy(pa.get("clock_gate_enable_pin", "false")),
                gate_out=_truthy(pa.get("clock_gate_out_pin", "false")), power=power)
    seq = {}
    for kind in ("ff", "latch"):
        found = g.all(kind)
        if found:
            seq[kind] = dict(found[0].attrs, names=tuple(found[0].args))
    return Cell(name=g.args[0], area=float(g.attrs.get("area", 0)),
                leakage=float(g.attrs.get("cell_leakage_power", 0)) * leak_unit, pins=pins,
                ff=seq.get("ff"), latch=seq.get("latch"),
                icg=g.attrs.get("clock_gating_integrated_cell"),
                dont_use=_truthy(g.attrs.get("dont_use", "false")))


def drop_cells(text, patterns):
    """Remove the ``cell`` groups whose names match the glob ``patterns`` from liberty text."""
    if not patterns:
        return text
    regex = re.compile("|".join(re.escape(p).replace(r"\*", ".*") for p in patterns))
    out, pos = [], 0
    head = re.compile(r'\bcell\s*\(\s*"?([^")\s]+)"?\s*\)\s*\{')
    for m in head.finditer(text):
        if m.start() < pos or not regex.fullmatch(m.group(1)):
            continue
        depth, i = 1, m.end()
        while depth:
            j = text.find("}", i)
            k = text.find("{", i, j)
            if k != -1:
                depth, i = depth + 1, k + 1
            else:
                depth, i = depth - 1, j + 1
        out.append(text[pos:m.start()])
        pos = i
    out.append(text[pos:])
    return "".join(out)
