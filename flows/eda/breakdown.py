"""Energy categories: which part of the accelerator each word-level cell belongs to.

Cells are classified on the flattened word-level netlist (before technology mapping) from the
public names of the wires they drive, ``scope.leaf`` (generated leaves such as ``$215`` are
ignored) (``scope`` is the instance path, e.g.
``array.pe_0_1``), by the first matching rule of ``RULES``. A cell that drives only unnamed
wires takes the category of the cells it feeds (else of the cells feeding it); what is still
unclassified is ``other``. A flip-flop never counts as a multiplier: the (combinational)
multiplier's input ports are other names of the operand registers that feed it. Clock-gate cells and clock nets are counted as ``clock`` later, by
the energy model, whatever their category here.
"""

import re

CATEGORIES = ("multipliers", "accumulators", "lane_registers", "clock", "quantizer", "control",
              "other")

# (category, scope regex, leaf regex); None matches anything. First match wins.
RULES = (
    ("quantizer", r"(^|\.)drain(\.|$)", None),           # the result path: quantizers, deskew
    ("control", r"(^|\.)control(\.|$)", None),
    ("multipliers", r"(^|\.)mul(\.|$)", None),            # incl. the operand masks feeding it
    ("accumulators", None, r"^acc"),
    ("accumulators", None, r"^result"),                   # a PE's result read-out
    ("lane_registers", None, r"^(a|b|p)(_lane\d+)?($|\$)"),
    ("lane_registers", None, r"^[ab]_skew"),
    ("control", r"(^|\.)pe_\d+_\d+$", None),              # a PE's flag pipeline
    ("control", r"(^|\.)array$", r"skew|valid"),
)
_SKIP = {"$scopeinfo"}


def split_name(name):
    """``"array.pe_0_1.acc_lane0$next"`` -> ``("array.pe_0_1", "acc_lane0$next")``."""
    scope, _, leaf = name.rpartition(".")
    return scope, leaf


def _meaningful(name):
    """Generated names (``$215``, ``port$476$0``) say nothing about a cell's role."""
    leaf = split_name(name)[1]
    return not leaf.startswith("$") and "port$" not in leaf


def rule_category(names, rules=RULES):
    """The category of the first rule matching any of ``names``, else ``None``."""
    for category, scope_re, leaf_re in rules:
        for name in names:
            scope, leaf = split_name(name)
            if (scope_re is None or re.search(scope_re, scope)) and \
                    (leaf_re is None or re.search(leaf_re, leaf)):
                return category
    return None


def classify(module, *, rules=RULES):
    """``{cell name: category}`` for a flattened Yosys JSON module (word-level cells)."""
    public = {}
    for name, net in module["netnames"].items():
        if not net.get("hide_name", 0):
            for bit in net["bits"]:
                if isinstance(bit, int):
                    public.setdefault(bit, []).append(name)
    outs, ins = {}, {}
    for cname, cell in module["cells"].items():
        if cell["type"] in _SKIP:
            continue
        dirs = cell.get("port_directions", {})
        o, i = set(), set()
        for pin, bits in cell["connections"].items():
            target = o if dirs.get(pin) == "output" else i
            target.update(b for b in bits if isinstance(b, int))
        outs[cname], ins[cname] = o, i
    category = {}
    for cname, o in outs.items():
        names = sorted({n for b in o for n in public.get(b, ()) if _meaningful(n)})
        if "dff" in module["cells"][cname]["type"]:
            # a register feeding the multiplier is also named as the multiplier's port
            names = [n for n in names if not re.search(r"(^|\.)mul(\.|$)", split_name(n)[0])]
        if not cname.startswith("$") and _meaningful(cname):
            names.append(cname)
        found = rule_category(names, rules)
        if found is not None:
            category[cname] = found
    # Unnamed logic joins the cells it feeds, else the cells that feed it.
    readers, writers = {}, {}
    for cname in outs:
        for b in ins[cname]:
            readers.setdefault(b, []).append(cname)
        for b in outs[cname]:
            writers.setdefault(b, []).append(cname)
    for neighbours in (lambda c: [r for b in outs[c] for r in readers.get(b, ())],
                       lambda c: [w for b in ins[c] for w in writers.get(b, ())]):
        changed = True
        while changed:
            changed = False
            for cname in outs:
                if cname in category:
                    continue
                votes = [category[n] for n in neighbours(cname) if n in category]
                if votes:
                    category[cname] = max(sorted(set(votes)), key=votes.count)
                    changed = True
    return {cname: category.get(cname, "other") for cname in outs}
