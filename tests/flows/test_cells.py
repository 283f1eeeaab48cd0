"""Liberty reading and the behavioural cell models generated from it."""

import pytest

from flows.eda.cellmodels import evaluate, models_verilog, parse_function, to_verilog
from flows.eda.gatesim import run_verilog
from flows.eda.liberty import prepare_liberty
from flows.eda.liberty_cells import Table
from flows.eda.liberty_parse import parse_liberty
from tests.support.paths import BUILD


MINI = r"""
/* a comment */
library (mini) {
  time_unit : "1ns";
  voltage_unit : "1V";
  leakage_power_unit : "1nW";
  capacitive_load_unit (1,ff);
  nom_voltage : 1.20;
  power_lut_template (p2) {
    variable_1 : input_transition_time;
    variable_2 : total_output_net_capacitance;
    index_1 ("0.1, 0.2");
    index_2 ("1.0, 3.0");
  }
  wire_load ("w") { capacitance : 0.5; slope : 2.0; fanout_length (1, 1.0); fanout_length (3, 5.0); }
  default_wire_load : "w";
  cell (NAND2) {
    area : 1.5;
    cell_leakage_power : 20.0;
    pin (A) { direction : input; capacitance : 2.0; }
    pin (B) { direction : input; capacitance : 4.0; }
    pin (Y) {
      direction : output;
      function : "!(A B)";
      internal_power () {
        related_pin : "A";
        rise_power (p2) { values ("1.0, 3.0", \
                                  "5.0, 7.0"); }
        fall_power (p2) { values ("0.0, 0.0", "0.0, 0.0"); }
      }
    }
  }
}
"""


def test_reads_units_cells_and_tables():
    lib = parse_liberty(MINI)
    assert lib.voltage == 1.2 and lib.time_unit == 1e-9
    cell = lib.cells["NAND2"]
    assert cell.area == 1.5 and cell.leakage == pytest.approx(20e-9)
    assert cell.pins["B"].capacitance == pytest.approx(4e-15)
    assert cell.pins["Y"].function == "!(A B)"
    arc = cell.pins["Y"].power[0]
    assert arc.related_pin == "A"
    # energies in fJ (1 fF x 1 V^2); bilinear in slew (ns -> s) and load (fF -> F)
    assert arc.rise.lookup(0.15e-9, 2e-15) == pytest.approx(4e-15)
    assert arc.energy(0.1e-9, 3e-15) == pytest.approx(1.5e-15)      # (3 + 0) / 2
    # wire: fanout 2 interpolates to length 3; fanout 5 extrapolates with slope 2
    assert lib.wire_cap(2) == pytest.approx(1.5e-15)
    assert lib.wire_cap(5) == pytest.approx(4.5e-15)
    assert lib.wire_cap(0) == 0.0


def test_table_extrapolates_linearly():
    t = Table((1.0, 2.0), None, __import__("numpy").array([10.0, 20.0]))
    assert t.lookup(3.0) == pytest.approx(30.0)
    assert t.lookup(0.0) == pytest.approx(0.0)


@pytest.mark.parametrize("text, table", [
    ("!(A B)", lambda a, b: 1 - (a & b)),
    ("A' + B", lambda a, b: (1 - a) | b),
    ("(A^B)", lambda a, b: a ^ b),
    ("A * !B | 1", lambda a, b: 1),
    ("A ^ B & A", lambda a, b: (a ^ b) & a),      # ^ binds tighter than AND
])
def test_functions(text, table):
    tree = parse_function(text)
    for a in (0, 1):
        for b in (0, 1):
            assert evaluate(tree, {"A": a, "B": b}) == table(a, b), (text, a, b)
    assert "A" in to_verilog(tree) or "1'b1" in to_verilog(tree)


def test_bad_function_is_refused():
    with pytest.raises(ValueError, match=r"liberty function '\(A B': expected '\)'"):
        parse_function("(A B")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nangate45", "sky130"])
def test_combinational_models_match_their_functions(name, tmp_path):
    """Every combinational cell's Verilog model, simulated exhaustively, against the liberty
    function evaluated in Python."""
    lib = prepare_liberty(name, build_dir=BUILD)[1]
    cells = [c for c in lib.cells.values() if c.ff is None and c.latch is None and c.icg is None
             and c.outputs() and all(p.function for p in c.outputs())
             and len(c.inputs()) <= 6 and not c.dont_use]
    assert len(cells) > 50
    # One input word drives every cell (cell k reads its low bits), so the testbench is a
    # single loop: small enough for Verilator to compile quickly.
    tb = ["module tb;", "  reg [5:0] v; integer j;"]
    for k, cell in enumerate(cells):
        ins, outs = cell.inputs(), cell.outputs()
        tb.append(f"  wire [{len(outs) - 1}:0] o{k};")
        conns = [f".{p.name}(v[{j}])" for j, p in enumerate(ins)]
        conns += [f".{p.name}(o{k}[{j}])" for j, p in enumerate(outs)]
        tb.append(f"  {cell.name} u{k} ({', '.join(conns)});")
    tb.append("  initial for (j = 0; j < 64; j = j + 1) begin")
    tb.append("    v = j; #1;")
    for k, cell in enumerate(cells):
        tb.append(f"    if (j < {1 << len(cell.inputs())}) "
                  f"$display(\"%0d %0d %b\", {k}, j, o{k});")
    tb += ["  end", "endmodule"]
    expected = []
    trees = [[parse_function(p.function) for p in cell.outputs()] for cell in cells]
    for v in range(64):
        for k, cell in enumerate(cells):
            if v < 1 << len(cell.inputs()):
                values = {p.name: (v >> j) & 1 for j, p in enumerate(cell.inputs())}
                bits = "".join(str(evaluate(t, values)) for t in reversed(trees[k]))
                expected.append(f"{k} {v} {bits}")
    (tmp_path / "cells.v").write_text(models_verilog(lib, [c.name for c in cells]))
    (tmp_path / "tb.v").write_text("\n".join(tb) + "\n")
    log = run_verilog([str(tmp_path / "cells.v"), str(tmp_path / "tb.v")], top="tb",
                      work=tmp_path)
    got = [line for line in log.splitlines() if line[:1].isdigit()]
    assert got == expected
