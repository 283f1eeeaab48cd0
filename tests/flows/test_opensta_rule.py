"""The two rules for internal power (flows/eda/opensta_rule.py): values computed by hand from the
raw NanGate45 liberty tables, the duties OpenSTA 2.0.17's trace prints, the flow's rule equal to
flows.eda.energy, and the OpenSTA rule equal to report_power instance by instance."""

import pytest

from flows.eda.cellmodels import parse_function
from flows.eda.energy import compute_energy
from flows.eda.liberty import prepare_liberty
from flows.eda.opensta_power import (
    pin_activity,
    read_slews,
    run_report,
    uniform_toggles,
)
from flows.eda.opensta_rule import (
    difference_duty,
    group_duty,
    internal_by_instance,
    pin_energy,
    pin_terms,
)
from flows.eda.tools import find_tool
from tests.support.netlists import make_netlist
from tests.support.paths import BUILD

SLEW = 0.0171859e-9             # index_1's third point in these tables
FJ = 1e-15


@pytest.fixture(scope="module")
def nangate():
    return prepare_liberty("nangate45", build_dir=BUILD)


def energy(lib, cell, pin, rule, load_ff):
    lc = lib.cells[cell]
    return pin_energy(pin_terms(lc, pin, "output", rule), slew_of=lambda p, edge: SLEW,
                      load=load_ff * FJ)


# (rise_power, fall_power) at index_1 = 0.0171859 ns and index_2's second point, copied from
# nangate45_typ.lib: INV_X1 at 1.897810 fF, BUF_X1 at 1.895430, MUX2_X1 at 1.890660 fF
INV = (1.925712, -0.000278)
BUF = (1.785255, 2.758257)
MUX = {"A": [(2.454628, 3.401348), (2.464600, 3.401423)],      # when !B & !S, B & !S
       "B": [(2.145389, 3.660012), (2.145417, 3.656319)],      # !A & S, A & S
       "S": [(2.192189, 4.704895), (4.995101, 2.947089)]}      # !A & B, A & !B


def test_inverter_and_buffer_by_hand(nangate):
    _, lib = nangate
    # the flow: one output toggle is half a rise and half a fall
    assert energy(lib, "INV_X1", "ZN", "flow", 1.897810) == pytest.approx(
        (1.925712 - 0.000278) / 2 * FJ, rel=1e-6)
    assert energy(lib, "BUF_X1", "Z", "flow", 1.895430) == pytest.approx(
        (1.785255 + 2.758257) / 2 * FJ, rel=1e-6)
    # OpenSTA 2.0.17: rise plus fall, duty 1 (the output follows every input toggle): twice
    assert energy(lib, "INV_X1", "ZN", "opensta", 1.897810) == pytest.approx(
        1.0 * (1.925712 - 0.000278) * FJ, rel=1e-6)
    assert energy(lib, "BUF_X1", "Z", "opensta", 1.895430) == pytest.approx(
        1.0 * (1.785255 + 2.758257) * FJ, rel=1e-6)


def test_mux_by_hand(nangate):
    _, lib = nangate
    sums = {pin: [r + f for r, f in groups] for pin, groups in MUX.items()}
    # the flow: the mean over the two `when`s of a related pin, then over A, B and S
    flow = sum(sum(s) / 2 / 2 for s in sums.values()) / 3
    assert energy(lib, "MUX2_X1", "Z", "flow", 1.890660) == pytest.approx(flow * FJ, rel=1e-6)
    # OpenSTA 2.0.17: all six groups added, each rise plus fall at its `when`'s duty 1/4
    sta = sum(0.25 * x for s in sums.values() for x in s)
    assert energy(lib, "MUX2_X1", "Z", "opensta", 1.890660) == pytest.approx(sta * FJ, rel=1e-6)
    assert sta / flow == pytest.approx(3.0)


def test_duties_as_opensta_prints_them(nangate):
    _, lib = nangate

    def duty_of(cell, pin, related, when=None):
        arc = next(a for a in lib.cells[cell].pins[pin].power
                   if a.related_pin == related and a.when == when)
        return group_duty(lib.cells[cell], pin, arc)
    assert duty_of("INV_X1", "ZN", "A") == 1.0
    assert duty_of("MUX2_X1", "Z", "S", "A & !B") == 0.25
    assert duty_of("NAND3_X1", "ZN", "A3") == 0.25        # A1 & A2
    assert duty_of("NAND3_X1", "ZN", "A1") == 0.5         # nested: no difference found
    assert duty_of("NOR4_X1", "ZN", "A4") == 0.125        # !((A1 | A2) | A3)
    assert duty_of("DFFR_X1", "Q", "CK") == 1.0           # a clock pin outside the function
    assert duty_of("DFFR_X1", "Q", "RN", "!CK & !D") == 0.25
    # an input pin's `when`: Q and QN taken as independent, 1/16
    assert group_duty(lib.cells["DFFR_X1"], "D", lib.cells["DFFR_X1"].pins["D"].power[0]) \
        == 0.0625
    assert difference_duty(parse_function("!((A1 & A2) & A3)"), "A2") is None


def driven_netlist(tmp_path):
    """Every gate under test behind a buffer, so that OpenSTA propagates real, unequal rise and
    fall slews to its inputs; a flop on the raw clock, one behind a clock gate."""
    buf = {"BUF_X1": "Z", "INV_X1": "ZN"}
    cells = {f"vmcat_other.b{i}": (t, {"A": 3 + i, buf[t]: 13 + i})
             for i, t in enumerate(("BUF_X1", "INV_X1", "BUF_X1", "BUF_X1", "BUF_X1"))}
    cells.update({
        "vmcat_control.inv": ("INV_X1", {"A": 13, "ZN": 30}),
        "vmcat_control.buf": ("BUF_X1", {"A": 14, "Z": 31}),
        "vmcat_control.mux": ("MUX2_X1", {"A": 13, "B": 14, "S": 15, "Z": 32}),
        "vmcat_control.n3": ("NAND3_X1", {"A1": 13, "A2": 14, "A3": 15, "ZN": 33}),
        "vmcat_control.ao": ("AOI21_X1", {"A": 16, "B1": 14, "B2": 15, "ZN": 34}),
        "vmcat_control.f1": ("DFFR_X1", {"D": 14, "CK": 2, "RN": 9, "Q": 35, "QN": 36}),
        "vmcat_control.cg": ("CLKGATE_X1", {"CK": 2, "E": 17, "GCK": 37}),
        "vmcat_control.f2": ("DFFR_X1", {"D": 35, "CK": 37, "RN": 9, "Q": 38, "QN": 39})})
    outs = {"Z", "ZN", "Q", "QN", "GCK"}
    ports = {n: ("input", [b]) for n, b in {"clk": 2, "a": 3, "b": 4, "s": 5, "c": 6, "e": 7,
                                           "rn": 9}.items()}
    ports.update({f"y{b}": ("output", [b]) for b in range(30, 40) if b != 37})
    net = make_netlist(tmp_path / "n.json", ports=ports, cells=cells, outputs=outs)
    net.write_verilog(tmp_path / "n.v")
    return net


def test_flow_rule_is_the_energy_model(tmp_path, nangate):
    _, lib = nangate
    net = driven_netlist(tmp_path)
    toggles = uniform_toggles(net, lib, 0.4)
    e = compute_energy(netlist=net, library=lib, toggles=toggles, slew=SLEW)
    mine = internal_by_instance(
        net, lib, rule="flow", toggles_of=lambda c, p, n: toggles.get(n, 0),
        slew_of=lambda i, p, edge: SLEW, cap=e.net_capacitance)
    assert sum(mine) == pytest.approx(sum(e.internal.values()), rel=1e-9)


@pytest.mark.skipif(find_tool("sta") is None, reason="OpenSTA (sta) not installed")
def test_opensta_rule_is_report_power(tmp_path, nangate):
    lib_path, lib = nangate
    net = driven_netlist(tmp_path)
    period, act = 2.0, 0.4
    report = run_report(liberty=lib_path, verilog=tmp_path / "n.v", top="top",
                        period_ns=period, activity=act, work_dir=tmp_path / "sta")
    slews = read_slews(tmp_path / "sta" / "slews.txt")
    assert slews["c5/A"][0] != slews["c5/A"][1]          # unequal rise and fall: they matter
    cap = compute_energy(netlist=net, library=lib, toggles=uniform_toggles(net, lib, act),
                         slew=SLEW).net_capacitance
    mine = internal_by_instance(
        net, lib, rule="opensta", toggles_of=pin_activity(net, lib, act),
        slew_of=lambda i, p, edge: slews[f"c{i}/{p}"][edge == "fall"], cap=cap)
    for i, cell in enumerate(net.cells):
        assert mine[i] / (period * 1e-9) == pytest.approx(report[f"c{i}"][0], rel=1e-5), \
            cell.type
