"""Behavioural Verilog models of liberty cells, generated from their ``function``, ``ff``,
``latch`` and clock-gate descriptions, for zero-delay gate-level simulation.

Combinational outputs are continuous assignments without delay. Flip-flops update their state
``CLK_TO_Q_NS`` after the clock edge, so a flop clocked by a gated clock (which rises a delta
cycle after the root clock) still samples the values from before the edge, as in silicon.
Integrated clock gates (``latch_posedge``) latch the enable while the clock is low.
"""

import re

CLK_TO_Q_NS = 0.01
TIMESCALE = "`timescale 1ns/1ps"

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_\[\]]*)|([01])|(\S))")


def parse_function(text):
    """A liberty boolean function to an AST: ``("var", name)``, ``("const", 0|1)``,
    ``("not", x)``, ``("and"|"or"|"xor", x, y)``.

    Precedence, highest first: ``!`` and postfix ``'``, ``^``, AND (``&``, ``*`` or
    juxtaposition), OR (``|``, ``+``).
    """
    tokens = []
    for name, const, op in _TOKEN.findall(text):
        tokens.append(("var", name) if name else ("const", int(const)) if const else ("op", op))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else ("end", None)

    def take(op):
        nonlocal pos
        if peek() != ("op", op):
            raise ValueError(f"liberty function {text!r}: expected {op!r}")
        pos += 1

    def primary():
        nonlocal pos
        kind, value = peek()
        if kind in ("var", "const"):
            pos += 1
            node = (kind, value)
        elif (kind, value) == ("op", "!"):
            pos += 1
            node = ("not", primary())
        elif (kind, value) == ("op", "("):
            pos += 1
            node = orexpr()
            take(")")
        else:
            raise ValueError(f"liberty function {text!r}: unexpected {value!r}")
        while peek() == ("op", "'"):
            pos += 1
            node = ("not", node)
        return node

    def xorexpr():
        nonlocal pos
        node = primary()
        while peek() == ("op", "^"):
            pos += 1
            node = ("xor", node, primary())
        return node

    def andexpr():
        nonlocal pos
        node = xorexpr()
        while True:
            kind, value = peek()
            if (kind, value) in (("op", "&"), ("op", "*")):
                pos += 1
            elif not (kind in ("var", "const") or (kind, value) in (("op", "!"), ("op", "("))):
                return node
            node = ("and", node, xorexpr())

    def orexpr():
        nonlocal pos
        node = andexpr()
        while peek() in (("op", "|"), ("op", "+")):
            pos += 1
            node = ("or", node, andexpr())
        return node

    tree = orexpr()
    if pos != len(tokens):
        raise ValueError(f"liberty function {text!r}: trailing {peek()[1]!r}")
    return tree


def evaluate(tree, values):
    """Evaluate an AST from ``parse_function`` with ``values`` (name -> 0/1)."""
    kind = tree[0]
    if kind == "var":
        return values[tree[1]]
    if kind == "const":
        return tree[1]
    if kind == "not":
        return 1 - evaluate(tree[1], values)
    a, b = evaluate(tree[1], values), evaluate(tree[2], values)
    return {"and": a & b, "or": a | b, "xor": a ^ b}[kind]


def to_verilog(tree, rename=None):
    """A fully parenthesised Verilog expression for an AST; ``rename`` maps variable names."""
    kind = tree[0]
    if kind == "var":
        return (rename or {}).get(tree[1], tree[1])
    if kind == "const":
        return f"1'b{tree[1]}"
    if kind == "not":
        return f"(~{to_verilog(tree[1], rename)})"
    op = {"and": "&", "or": "|", "xor": "^"}[kind]
    return f"({to_verilog(tree[1], rename)} {op} {to_verilog(tree[2], rename)})"


def cell_model(cell, delays=False):
    """Verilog module text of one liberty ``Cell``; with ``delays`` every output ``X`` gets
    an inertial rise/fall delay from the parameters ``R_X``/``F_X`` (ns, default 0), which
    ``flows.eda.glitchsim`` sets per instance."""
    pins = [p for p in cell.pins.values() if p.direction in ("input", "output")]
    outs = [p.name for p in pins if p.direction == "output"]
    params = ", ".join(f"R_{o} = 0.0, F_{o} = 0.0" for o in outs)
    lines = [f"module {cell.name} {f'#(parameter real {params}) ' if delays else ''}"
             f"({', '.join(p.name for p in pins)});"]
    for p in pins:
        lines.append(f"  {p.direction} {p.name};")
    rename = {}
    delay = f"#{CLK_TO_Q_NS} "
    if cell.ff is not None or cell.latch is not None:
        seq = cell.ff if cell.ff is not None else cell.latch
        state, state_n = seq["names"]
        rename = {state: "IQ", state_n: "(~IQ)"}
        lines.append("  reg IQ;")
        clr = _expr(seq.get("clear", "0"))
        pre = _expr(seq.get("preset", "0"))
        lines.append(f"  wire clr_ = {clr};\n  wire pre_ = {pre};")
        if cell.ff is not None:
            lines.append(f"  wire clk_ = {_expr(seq['clocked_on'])};")
            lines.append(f"  wire next_ = {_expr(seq['next_state'])};")
            lines.append("  always @(posedge clk_ or posedge clr_ or posedge pre_)")
            lines.append(f"    if (clr_) IQ <= {delay}1'b0; else if (pre_) IQ <= {delay}1'b1;"
                         f" else IQ <= {delay}next_;")
        else:
            lines.append(f"  wire en_ = {_expr(seq['enable'])};")
            lines.append(f"  wire d_ = {_expr(seq['data_in'])};")
            lines.append("  always @*")
            lines.append(f"    if (clr_) IQ <= {delay}1'b0; else if (pre_) IQ <= {delay}1'b1;"
                         f" else if (en_) IQ <= {delay}d_;")
    elif cell.icg is not None:
        if cell.icg not in ("latch_posedge", "latch_negedge"):
            raise ValueError(f"cell {cell.name}: clock gate type {cell.icg!r} is not modelled")
        internal = [p.name for p in cell.pins.values() if p.direction == "internal"]
        clock = [p.name for p in cell.pins.values() if p.clock and p.direction == "input"]
        enables = [p.name for p in cell.pins.values() if p.direction == "input"
                   and not p.clock]
        if len(internal) != 1 or len(clock) != 1 or not enables:
            raise ValueError(f"cell {cell.name}: cannot find the clock gate's pins")
        rename = {internal[0]: "IQ"}
        open_ = f"~{clock[0]}" if cell.icg == "latch_posedge" else clock[0]
        lines.append("  reg IQ;")
        lines.append(f"  always @* if ({open_}) IQ = {' | '.join(enables)};")
    for p in pins:
        if p.direction == "output":
            if p.function is None:
                raise ValueError(f"cell {cell.name}: output {p.name} has no function")
            delay = f"#(R_{p.name}, F_{p.name}) " if delays else ""
            lines.append(f"  assign {delay}{p.name} = "
                         f"{to_verilog(parse_function(p.function), rename)};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def models_verilog(library, cell_names, *, delays=False):
    """One Verilog text holding the models of ``cell_names`` from ``library`` (``delays``: see
    ``cell_model``)."""
    parts = [TIMESCALE, "// generated from the liberty by flows/eda/cellmodels.py", ""]
    for name in sorted(set(cell_names)):
        if name not in library.cells:
            raise ValueError(f"cell {name} is not in liberty library {library.name}")
        parts.append(cell_model(library.cells[name], delays))
    return "\n".join(parts)


def _expr(text):
    return to_verilog(parse_function(text))
