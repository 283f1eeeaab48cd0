"""Internal power per instance by two rules, at per-pin slews: the flow's (``flows.eda.energy``)
and the one OpenSTA 2.0.17's ``report_power`` applies, so that the cross-check
(``flows.eda.opensta_power``) can name each factor between the two figures.

Both price a pin's ``internal_power`` groups as ``weight x (rise + fall)`` (a missing table
counts 0), times the pin's toggles; they differ in the weights and the slews:

- **flow**: one output toggle is one transition, half a rise and half a fall: each group
  weighs ``1/2``, averaged over the ``when`` conditions of a related pin and then over the
  related pins (a flop's or latch's output only over the arcs from its clock or enable); an
  input pin's groups ``1/2`` averaged over those not needing a reset state
  (``operating_arcs``). One fixed slew for every pin (``DEFAULT_SLEW_S``).
- **opensta** (read from its ``sta::set_debug power 2`` trace, and equal to its
  ``report_power`` instance by instance): the weight is the group's *duty*, rise and fall
  are **added** (not averaged) and the groups of a pin **added** (not averaged). The duty is
  that of the group's ``when`` with every pin at duty 0.5, each AND/OR/XOR of two terms taken
  as independent (a flop's Q and QN included); without a ``when`` the probability that the
  related pin toggles the output where OpenSTA finds the boolean difference
  (``difference_duty``: NAND3's A3 0.25), else 1 for a clock pin (a flop's CK -> Q), else 0.5
  (NAND3's A1 and A2). The slew is the related pin's propagated one of the same edge as the
  table (an inverter's ``rise_power`` at its input's *rise* slew, whatever the arc's
  unateness). Every non-clock pin has the global activity (pins on top-level inputs and
  constants too), every clock pin 2 per period.
"""

from bisect import bisect_left

from .cellmodels import parse_function
from .energy import _state_pins, operating_arcs

RULES = ("flow", "opensta")


def duty(tree, fixed=None):
    """OpenSTA's duty of a function AST: every pin 0.5 unless in ``fixed`` (name -> 0/1), and
    each two-input node's operands independent."""
    kind = tree[0]
    if kind == "var":
        return float(fixed[tree[1]]) if fixed and tree[1] in fixed else 0.5
    if kind == "const":
        return float(tree[1])
    if kind == "not":
        return 1.0 - duty(tree[1], fixed)
    a, b = duty(tree[1], fixed), duty(tree[2], fixed)
    return {"and": a * b, "or": 1 - (1 - a) * (1 - b), "xor": a * (1 - b) + b * (1 - a)}[kind]


def difference_duty(tree, pin):
    """OpenSTA's duty of the boolean difference of a function AST with respect to ``pin``, or
    ``None`` where it finds none: 1 when the function is the pin or its negation; where the
    pin is an operand of the top AND (OR) below any NOTs, the duty of the other operand (of
    its negation); deeper in the function, none (NAND3's A1 and A2, not A3)."""
    while tree[0] == "not":
        tree = tree[1]
    if tree == ("var", pin):
        return 1.0
    if tree[0] in ("and", "or"):
        for own, other in ((tree[1], tree[2]), (tree[2], tree[1])):
            if own == ("var", pin):
                return duty(other) if tree[0] == "and" else 1.0 - duty(other)
    return None


def group_duty(lib_cell, pin, arc):
    """The weight OpenSTA 2.0.17 gives ``arc``, one ``internal_power`` group of ``pin``: the
    duty of its ``when``; without one, ``difference_duty`` of the pin's function with respect
    to the related pin, else 1 for a clock pin, else 0.5."""
    if arc.when:
        return duty(parse_function(arc.when))
    rel = arc.related_pin
    func = lib_cell.pins[pin].function if lib_cell.pins[pin].direction == "output" else None
    found = difference_duty(parse_function(func), rel) if func and rel else None
    if found is not None:
        return found
    return 1.0 if rel in lib_cell.pins and lib_cell.pins[rel].clock else 0.5


def weights(lib_cell, pin, direction, rule):
    """``[(arc, weight)]`` of a pin's groups under ``rule``."""
    arcs = lib_cell.pins[pin].power
    if not arcs:
        return []
    if rule == "opensta":
        return [(a, group_duty(lib_cell, pin, a)) for a in arcs]
    if direction != "output":
        arcs = operating_arcs(lib_cell, arcs)
        return [(a, 0.5 / len(arcs)) for a in arcs]
    state = _state_pins(lib_cell)
    if state:
        arcs = [a for a in arcs if a.related_pin in state] or arcs
    by_pin = {}
    for a in arcs:
        by_pin.setdefault(a.related_pin, []).append(a)
    return [(a, 0.5 / len(by_pin) / len(group)) for group in by_pin.values() for a in group]


_TABLES = {}


def _axis(index, x):
    """``(i, t)``: ``x`` lies ``t`` of the way from ``index[i]`` to ``index[i + 1]``, linearly
    extrapolated beyond the ends (as ``liberty_cells.Table.lookup``, in plain floats: this
    runs for every pin of a netlist)."""
    if len(index) == 1:
        return 0, 0.0
    i = min(max(bisect_left(index, x) - 1, 0), len(index) - 2)
    return i, (x - index[i]) / (index[i + 1] - index[i])


def _lookup(table, slew, load):
    if table is None:
        return 0.0
    key = id(table)
    if key not in _TABLES:
        _TABLES[key] = (table, [float(v) for v in table.index_1],
                        [float(v) for v in table.index_2] if table.index_2 is not None else None,
                        table.values.reshape(len(table.index_1), -1).tolist())
    _, ix1, ix2, rows = _TABLES[key]
    i, t = _axis(ix1, slew)
    row = [a * (1 - t) + b * t for a, b in zip(rows[i], rows[i + 1])] if len(ix1) > 1 \
        else rows[0]
    if ix2 is None:
        return row[0]
    j, u = _axis(ix2, load)
    return row[j] * (1 - u) + row[j + 1] * u if len(ix2) > 1 else row[0]


def pin_terms(lib_cell, pin, direction, rule):
    """``[(arc, weight, input pin)]``: what prices one toggle of ``pin``."""
    return [(arc, w, arc.related_pin if direction == "output" and arc.related_pin else pin)
            for arc, w in weights(lib_cell, pin, direction, rule)]


def pin_energy(terms, *, slew_of, load):
    """Joules per toggle of a pin priced by ``terms`` (``pin_terms``); ``slew_of(input pin,
    edge)`` gives the input slew in seconds (edge ``"rise"`` or ``"fall"``), ``load`` the
    output's farads."""
    total = 0.0
    for arc, w, src in terms:
        total += w * (_lookup(arc.rise, slew_of(src, "rise"), load)
                      + _lookup(arc.fall, slew_of(src, "fall"), load))
    return total


def internal_by_instance(netlist, library, *, rule, toggles_of, slew_of, cap):
    """``[joules]`` per cell of ``netlist`` (its order): ``toggles_of(cell, pin, net)`` the
    pin's toggles, ``slew_of(index, pin, edge)`` its input slew, ``cap`` net -> farads."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    terms, out = {}, []
    for i, cell in enumerate(netlist.cells):
        lc = library.cells[cell.type]
        e = 0.0
        for pin, net in cell.pins.items():
            if not lc.pins[pin].power:
                continue
            t = toggles_of(cell, pin, net)
            if not t:
                continue
            d = cell.directions[pin]
            key = (cell.type, pin, d)
            if key not in terms:
                terms[key] = pin_terms(lc, pin, d, rule)
            e += t * pin_energy(terms[key], load=cap.get(net, 0.0) if d == "output" else 0.0,
                                slew_of=lambda p, edge, i=i: slew_of(i, p, edge))
        out.append(e)
    return out
