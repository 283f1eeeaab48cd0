"""The energy model: toggle counts of a gate-level netlist to joules, by category.

For every net, ``C = sum of the input-pin capacitances it drives + wire(fanout)``, with the
wire capacitance from the library's default wire-load model (``wire="library"``) or none
(``wire="none"``); a top-level output counts as one load of zero pin capacitance.

- Net switching: ``1/2 C V^2`` per toggle, charged to the driving cell's category.
- Cell internal energy per toggle of an output pin: the mean of its ``rise_power`` and
  ``fall_power`` tables at (``slew``, C of the net), averaged over the ``when`` conditions of
  each related pin and then over the related pins (for flops and latches only the arcs from
  the clock or enable pin: a flop's output changes on its clock). Per toggle of an input pin
  with its own ``internal_power`` (a flop's clock pin, for example): the mean of its tables at
  ``slew``, averaged over its ``when`` conditions, leaving out those that need an asynchronous
  clear or preset active (reset states, which the replay window never visits).
- Clock: every net that reaches a clock pin, every clock-gate cell, and the clock-pin internal
  energy of every flop; a flop behind a closed clock gate sees no clock toggles and costs
  nothing there. ``clock_by_owner`` splits it by whose clock pins it charges: a clock net's
  energy in proportion to each load's pin capacitance (its wire shared equally), a flop's
  clock-pin energy to the flop's category, clock-gate cells to ``clock_gates``.
- Leakage: ``cell_leakage_power`` per cell, as power (W), kept apart from the dynamic energy.

Top-level inputs are driven from outside; their nets are charged to ``other``.
"""

from dataclasses import dataclass

import numpy as np

from .breakdown import CATEGORIES

WIRE_MODELS = ("library", "none")


@dataclass(frozen=True)
class Energy:
    """Energy of one simulated window: joules (dynamic) and watts (leakage) per category."""
    switching: dict
    internal: dict
    leakage: dict
    clock_by_owner: dict
    net_capacitance: dict           # net -> farad

    @property
    def dynamic(self):
        return {c: self.switching[c] + self.internal[c] for c in CATEGORIES}

    @property
    def total_dynamic(self):
        return sum(self.dynamic.values())

    @property
    def total_leakage(self):
        return sum(self.leakage.values())


def _interp(x, xs, ys):
    """Piecewise-linear ``ys(xs)`` at ``x`` (an array), extrapolated linearly at both ends."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) == 1:
        return np.full(np.shape(x), ys[0])
    i = np.clip(np.searchsorted(xs, x) - 1, 0, len(xs) - 2)
    t = (np.asarray(x, dtype=float) - xs[i]) / (xs[i + 1] - xs[i])
    return ys[i] * (1 - t) + ys[i + 1] * t


def _row(table, slew):
    """A table's values at ``slew`` as ``(index_2, values)`` (a 1-D table: one value)."""
    vals = table.values.reshape(len(table.index_1), -1)
    row = np.array([_interp(slew, table.index_1, vals[:, j]) for j in range(vals.shape[1])])
    return (table.index_2, row) if table.index_2 is not None else ((0.0,), row[:1])


def output_energy_fn(arcs, slew):
    """Energy per output toggle as a function of the load (vectorised), averaged as the
    module docstring says."""
    by_pin = {}
    for arc in arcs:
        rows = [_row(t, slew) for t in (arc.rise, arc.fall) if t is not None]
        by_pin.setdefault(arc.related_pin, []).append(rows)

    def energy(load):
        total = np.zeros(np.shape(load))
        for groups in by_pin.values():
            part = np.zeros(np.shape(load))
            for rows in groups:
                for xs, ys in rows:
                    part += _interp(load, xs, ys) / 2
            total += part / len(groups)
        return total / len(by_pin) if by_pin else total
    return energy


def input_energy(arcs, slew):
    """Energy per input toggle at ``slew``: the mean of the arcs' rise and fall halves."""
    return sum(float(_row(t, slew)[1][0]) / 2 for a in arcs for t in (a.rise, a.fall)
               if t is not None) / len(arcs) if arcs else 0.0


def operating_arcs(lib_cell, arcs):
    """``arcs`` without those whose ``when`` needs the cell's asynchronous clear or preset
    active (states the replay window, after reset, never visits); all of them if none is
    left."""
    from itertools import product

    from .cellmodels import evaluate, parse_function
    seq = lib_cell.ff or lib_cell.latch
    if seq is None:
        return arcs
    held = [parse_function(seq[k]) for k in ("clear", "preset") if k in seq]

    def names(tree):
        return {tree[1]} if tree[0] == "var" else set().union(*map(names, tree[1:])) \
            if tree[0] in ("not", "and", "or", "xor") else set()

    def possible(arc):
        if not arc.when or not held:
            return True
        when = parse_function(arc.when)
        pins = sorted(names(when).union(*map(names, held)))
        return any(evaluate(when, v) and not any(evaluate(h, v) for h in held)
                   for v in (dict(zip(pins, bits)) for bits in product((0, 1), repeat=len(pins))))
    return [a for a in arcs if possible(a)] or arcs


def _state_pins(lib_cell):
    """The pins that change a sequential cell's state (clock, enable), else ``None``."""
    seq = lib_cell.ff or lib_cell.latch
    if seq is None:
        return None
    expr = seq.get("clocked_on") or seq.get("enable") or ""
    for ch in "!()&|'*+^":
        expr = expr.replace(ch, " ")
    return set(expr.split()) & set(lib_cell.pins)


def compute_energy(*, netlist, library, toggles, slew, wire="library"):
    """``Energy`` of ``netlist`` for ``toggles`` (net -> 0<->1 changes); ``slew`` in seconds."""
    if wire not in WIRE_MODELS:
        raise ValueError(f"wire must be one of {', '.join(WIRE_MODELS)}, not {wire!r}")
    if not isinstance(slew, (int, float)) or isinstance(slew, bool) or slew <= 0:
        raise ValueError(f"slew must be a positive number of seconds, not {slew!r}")
    v2 = library.voltage ** 2
    cells = library.cells
    drivers, loads = netlist.drivers(), netlist.loads()
    out_ports = {}
    for direction, bits in netlist.ports.values():
        if direction == "output":
            for b in bits:
                if isinstance(b, int):
                    out_ports[b] = out_ports.get(b, 0) + 1

    def owner(cell):
        return "clock_gates" if cells[cell.type].icg else cell.category

    switching = dict.fromkeys(CATEGORIES, 0.0)
    internal = dict.fromkeys(CATEGORIES, 0.0)
    leakage = dict.fromkeys(CATEGORIES, 0.0)
    clock_by_owner = dict.fromkeys(CATEGORIES + ("clock_gates",), 0.0)
    cap = {}
    for net in netlist.nets:
        pins = loads.get(net, [])
        pin_caps = [cells[cell.type].pins[pin].capacitance for cell, pin in pins]
        fanout = len(pins) + out_ports.get(net, 0)
        c_wire = library.wire_cap(fanout) if wire == "library" else 0.0
        cap[net] = sum(pin_caps) + c_wire
        t = toggles.get(net, 0)
        if not t:
            continue
        e = 0.5 * cap[net] * v2 * t
        if any(cells[cell.type].pins[pin].clock for cell, pin in pins):
            switching["clock"] += e
            for (cell, _), c_pin in zip(pins, pin_caps):
                clock_by_owner[owner(cell)] += 0.5 * (c_pin + c_wire / fanout) * v2 * t
            continue
        drv = drivers.get(net)
        if drv is None or drv[0] == "port":
            switching["other"] += e
        else:
            switching["clock" if cells[drv[0].type].icg else drv[0].category] += e

    groups, in_energy = {}, {}        # (type, output pin) -> ([toggles], [load], [category])
    for cell in netlist.cells:
        lc = cells[cell.type]
        cat = "clock" if lc.icg else cell.category
        leakage[cat] += lc.leakage
        for pin, net in cell.pins.items():
            t = toggles.get(net, 0) if isinstance(net, int) else 0
            lp = lc.pins[pin]
            if not t or not lp.power:
                continue
            key = (cell.type, pin)
            if cell.directions[pin] == "output":
                g = groups.setdefault(key, ([], [], []))
                g[0].append(t)
                g[1].append(cap[net])
                g[2].append(cat)
                continue
            if key not in in_energy:
                in_energy[key] = input_energy(operating_arcs(lc, lp.power), slew)
            e = t * in_energy[key]
            if lp.clock or lc.icg:
                internal["clock"] += e
                clock_by_owner[owner(cell)] += e
            else:
                internal[cat] += e
    for (ctype, pin), (ts, loads_, cats) in groups.items():
        lc = cells[ctype]
        arcs, state = lc.pins[pin].power, _state_pins(lc)
        if state:
            arcs = [a for a in arcs if a.related_pin in state] or arcs
        energies = np.asarray(ts) * output_energy_fn(arcs, slew)(np.asarray(loads_))
        for cat, e in zip(cats, energies.tolist()):
            internal[cat] += e
            if lc.icg:
                clock_by_owner["clock_gates"] += e
    return Energy(switching=switching, internal=internal, leakage=leakage,
                  clock_by_owner=clock_by_owner, net_capacitance=cap)
