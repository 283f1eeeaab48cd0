"""The OpenSTA cross-check (flows/eda/opensta_power.py) on netlists small enough to reason about:
the two prices of switching and leakage must agree, and every factor between the two prices of
internal power is named (the rules themselves: tests/flows/test_opensta_rule.py)."""

import json

import pytest

from flows.eda.liberty import prepare_liberty
from flows.eda.opensta_by_type import by_type
from flows.eda.opensta_power import STEPS, check, pin_activity, uniform_toggles
from flows.eda.tools import find_tool
from tests.support.netlists import make_netlist
from tests.support.paths import BUILD

SLEW = 0.0171859e-9


@pytest.fixture(scope="module")
def nangate():
    return prepare_liberty("nangate45", build_dir=BUILD)


def flop_and_gates(tmp_path):
    """clk -> DFFR (D from an XNOR of two inputs) -> INV -> output."""
    cells = {
        "vmcat_multipliers.x": ("XNOR2_X1", {"A": 3, "B": 4, "ZN": 5}),
        "vmcat_lane_registers.r": ("DFFR_X1", {"D": 5, "CK": 2, "RN": 6, "Q": 7, "QN": 8}),
        "vmcat_control.i": ("INV_X1", {"A": 7, "ZN": 9}),
    }
    outs = {"ZN", "Q", "QN"}
    ports = {"clk": ("input", [2]), "a": ("input", [3]), "b": ("input", [4]),
             "rn": ("input", [6]), "y": ("output", [9])}
    net = make_netlist(tmp_path / "n.json", ports=ports, cells=cells, outputs=outs)
    net.write_verilog(tmp_path / "n.v")
    return net


def test_uniform_toggles(tmp_path, nangate):
    _, lib = nangate
    t = uniform_toggles(flop_and_gates(tmp_path), lib, 0.25)
    # nets driven from outside carry none; every cell output the activity
    assert t == {5: 0.25, 7: 0.25, 8: 0.25, 9: 0.25}


def test_pin_activity_as_opensta(tmp_path, nangate):
    _, lib = nangate
    net = flop_and_gates(tmp_path)
    act = pin_activity(net, lib, 0.25)
    ff = next(c for c in net.cells if c.type == "DFFR_X1")
    # the clock pin 2 per period although a top-level input drives it; the reset pin and
    # the XNOR's inputs, on top-level inputs too, the global activity
    assert act(ff, "CK", 2) == 2.0
    assert act(ff, "RN", 6) == 0.25 and act(ff, "D", 5) == 0.25


@pytest.mark.skipif(find_tool("sta") is None, reason="OpenSTA (sta) not installed")
def test_switching_and_leakage_agree_with_opensta(tmp_path, nangate):
    lib_path, lib = nangate
    net = flop_and_gates(tmp_path)
    c = check(netlist=net, library=lib, liberty=lib_path, verilog=tmp_path / "n.v",
              period_ns=2.0, activity=0.3, slew=SLEW, wire="library", work_dir=tmp_path / "sta")
    assert c["flow"]["switching"] > 0 and c["flow"]["internal"] > 0
    assert c["ratio"]["switching"] == pytest.approx(1.0, abs=0.01)
    assert c["ratio"]["leakage"] == pytest.approx(1.0, abs=0.01)
    # the three cells' powers in their categories on OpenSTA's side
    cats = c["opensta"]["by_category"]
    assert cats["multipliers"] > 0 and cats["lane_registers"] > 0 and cats["control"] > 0
    assert sum(cats.values()) == pytest.approx(c["opensta"]["total"], rel=1e-3)
    # every factor between the two internal powers named, the last one OpenSTA over the replica
    steps, f = c["internal_steps"], c["factors"]
    assert steps["flow"] == pytest.approx(c["flow"]["internal"], rel=1e-4)
    assert steps["opensta"] == c["opensta"]["internal"]
    assert f["opensta"] == pytest.approx(1.0, abs=1e-4)
    assert f["activities"] > 1        # the flop's clock pin, on a top-level input, counts there
    rows = by_type(netlist=net, library=lib, sta_dir=tmp_path / "sta", activity=0.3,
                   slew=SLEW, wire="library", period_ns=2.0)
    assert sorted(r[0] for r in rows) == ["DFFR_X1", "INV_X1", "XNOR2_X1"]
    for step in (*STEPS, "opensta"):
        assert sum(r[2][step] for r in rows) == pytest.approx(steps[step], rel=1e-3)
    # the clock pins' slews change only what a clock pin prices: the flop's
    typed = {r[0]: r[2] for r in rows}
    assert typed["INV_X1"]["clock_slews"] == typed["INV_X1"]["data_slews"]
    assert typed["DFFR_X1"]["clock_slews"] != typed["DFFR_X1"]["data_slews"]


def test_power_by_type_needs_the_slews(tmp_path, capsys):
    from flows.cli import main
    work = tmp_path / "work" / "tunable"
    (work / "synth").mkdir(parents=True)
    (work / "opensta").mkdir()
    (work / "synth" / "netlist.json").write_text("{}")
    (work / "opensta" / "power.log").write_text("")
    (tmp_path / "power.json").write_text(json.dumps({"opensta": {"tunable": {}}}))
    assert main(["power-by-type", str(tmp_path), "tunable"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"varimac power-by-type: error: {tmp_path}: no work/tunable/opensta/slews.txt; give "
        "the folder varimac power wrote, with its work/")
