"""The glitch-aware simulation (flows/eda/glitchsim.py) on circuits whose glitches are known by
construction, and the SDF reduction on a hand-written SDF."""

import pytest

from flows.eda import gatesim, glitchsim
from flows.eda.gatesim import icarus_available
from flows.eda.liberty import prepare_liberty
from tests.support.netlists import make_netlist
from tests.support.paths import BUILD

needs_tools = pytest.mark.skipif(not icarus_available(), reason="optional extra: Icarus Verilog "
                                 "(the glitch-aware simulation runs only there)")
RISES = 5                       # rising edges of the input in the testbench

SDF = """(DELAYFILE (SDFVERSION "3.0") (DESIGN "t") (DIVIDER /) (TIMESCALE 1ns)
 (CELL (CELLTYPE "t") (INSTANCE) (DELAY (ABSOLUTE (INTERCONNECT a c0/A (0.0::0.0)))))
 (CELL (CELLTYPE "XOR2_X1") (INSTANCE c0) (DELAY (ABSOLUTE
    (COND (B == 1'b1) (IOPATH A Z (0.0200::0.0210) (0.0090::0.0091)))
    (COND (B == 1'b0) (IOPATH A Z (0.0400::0.0410) (0.0460::0.0471)))
    (IOPATH B Z (0.0300::0.0300)))))
 (CELL (CELLTYPE "NOR2_X1") (INSTANCE c2) (DELAY (ABSOLUTE
    (IOPATH A1 ZN (0.0382::0.0382) (-0.0217::-0.0217))
    (IOPATH A2 ZN (0.0155::0.0155) (0.0037::0.0037)))))
 (CELL (CELLTYPE "CLKGATE_X1") (INSTANCE c1) (DELAY (ABSOLUTE
    (COND (E == 1'b0) (IOPATH CK GCK () (0.0250::0.0250)))
    (COND (E == 1'b1) (IOPATH CK GCK (0.0210::0.0210) (0.0270::0.0270)))))))
"""


def test_sdf_is_reduced_as_documented(tmp_path):
    (tmp_path / "t.sdf").write_text(SDF)
    arcs = glitchsim.read_sdf(tmp_path / "t.sdf")
    assert set(arcs) == {"c0", "c1", "c2"}
    celltype, xor = arcs["c0"]
    assert celltype == "XOR2_X1"
    # the max of each min::max pair, the mean over the COND variants; one value: both edges
    assert xor[("A", "Z")] == pytest.approx(((0.0210 + 0.0410) / 2, (0.0091 + 0.0471) / 2))
    assert xor[("B", "Z")] == pytest.approx((0.03, 0.03))
    # an empty value is left out of its edge's mean
    assert arcs["c1"][1][("CK", "GCK")] == pytest.approx((0.021, (0.025 + 0.027) / 2))
    # one delay per output: the mean over the arcs into it
    _, lib = prepare_liberty("nangate45", build_dir=BUILD)
    delays = glitchsim.output_delays(arcs, lib)
    assert delays["c0"]["Z"] == pytest.approx(((0.031 + 0.03) / 2, (0.0281 + 0.03) / 2))
    text = glitchsim.delayed_verilog("  XOR2_X1 c0 (.A(n1), .B(n2), .Z(n3));\n"
                                     "  CLKGATE_X1 c1 (.CK(n4));\n", delays)
    assert text.startswith("  XOR2_X1 #(.R_Z(0.0305), .F_Z(0.0290)) c0 (.A(n1)")
    # a negative delay (a slow input ramp) counts as zero, before the mean over the arcs
    assert arcs["c2"][1][("A1", "ZN")] == pytest.approx((0.0382, 0.0))
    assert delays["c2"]["ZN"] == pytest.approx(((0.0382 + 0.0155) / 2, 0.0037 / 2))
    with pytest.raises(ValueError, match="c2: negative delay"):
        glitchsim.delayed_verilog("  NOR2_X1 c2 (.A1(n1), .A2(n2), .ZN(n3));\n",
                                  {"c2": {"ZN": (0.03, -0.009)}})


def chain(tmp_path, n):
    """y = a AND (a through n inverters), for odd n: logically 0; every rising edge of a
    opens a window as long as the chain's delay in which both inputs are 1."""
    cells = {f"vmcat_control.inv{i}": ("INV_X1", {"A": 10 + i, "ZN": 11 + i})
             for i in range(n)}
    cells["vmcat_multipliers.and"] = ("AND2_X1", {"A1": 10, "A2": 10 + n, "ZN": 5})
    return make_netlist(tmp_path / f"chain{n}.json", cells=cells, outputs={"ZN"}, top="chain",
                        ports={"a": ("input", [10]), "y": ("output", [5])})


TB = f"""`timescale 1ns/1ps
module tb;
  reg a; wire y;
  chain dut (.a(a), .y(y));
  reg [8*512-1:0] vcd;
  integer i;
  initial begin
    if (!$value$plusargs("vcd=%s", vcd)) $finish;
    #1 a = 0;
    #1 $dumpfile(vcd); $dumpvars(1, tb.dut);
    for (i = 0; i < {RISES}; i = i + 1) begin #2 a = 1; #2 a = 0; end
    #2 $finish;
  end
endmodule
"""


@pytest.fixture(scope="module")
def nangate():
    return prepare_liberty("nangate45", build_dir=BUILD)


def sdf_arcs(tmp_path, netlist, lib_path):
    netlist.write_verilog(tmp_path / "netlist.v")
    sdf = glitchsim.write_sdf(liberty=lib_path, verilog=tmp_path / "netlist.v",
                              top=netlist.top, work_dir=tmp_path / "sta")
    return glitchsim.read_sdf(sdf)


@needs_tools
@pytest.mark.parametrize("n, pulses", [(9, RISES), (1, 0)])
def test_glitches_known_by_construction(tmp_path, nangate, n, pulses):
    """Nine inverters (~50 ps) outlast the AND's delay (~25 ps): one pulse per rising edge;
    one inverter (~5 ps) does not, and the inertial delay swallows it."""
    lib_path, lib = nangate
    netlist = chain(tmp_path, n)
    arcs = sdf_arcs(tmp_path, netlist, lib_path)
    inv = [a for t, a in arcs.values() if t == "INV_X1"]
    assert len(inv) == n and all(a[("A", "ZN")][0] > 0 for a in inv)
    timed, _ = glitchsim.simulate(netlist=netlist, library=lib, testbench=TB, tb_top="tb",
                                  work_dir=tmp_path / "timed", arcs=arcs)
    plain, _ = gatesim.simulate(netlist=netlist, library=lib, testbench=TB, tb_top="tb",
                                work_dir=tmp_path / "plain", sim="icarus")
    assert timed[5] == 2 * pulses
    assert plain[5] == 0
    assert timed[10] == plain[10] == 2 * RISES          # the input itself
    assert timed[10 + n] == plain[10 + n] == 2 * RISES  # the chain's end: no glitch there


FANOUT = 40


def fanout(tmp_path):
    """An inverter driving FANOUT NOR2s (y_i = NOT(NOT a OR b) = a when b = 0): its slow ramp
    gives each NOR's falling output a negative delay in OpenSTA's SDF, as the high-fanout
    registers of the tiny preset's area-mapped quantizer did."""
    cells = {"vmcat_control.inv": ("INV_X1", {"A": 2, "ZN": 3})}
    cells.update({f"vmcat_control.nor{i}": ("NOR2_X1", {"A1": 3, "A2": 4, "ZN": 100 + i})
                  for i in range(FANOUT)})
    return make_netlist(tmp_path / "fanout.json", cells=cells, outputs={"ZN"}, top="fanout",
                        ports={"a": ("input", [2]), "b": ("input", [4])})


FANOUT_TB = TB.replace("reg a; wire y;", "reg a, b = 0;") \
    .replace("chain dut (.a(a), .y(y));", "fanout dut (.a(a), .b(b));")


@needs_tools
def test_negative_sdf_delays_simulate_the_cells_function(tmp_path, nangate):
    """The tiny preset's glitch-aware replay differed from golden: OpenSTA's negative delays
    (NOR2_X1, AOI21_X1 behind a fanout of 151) reached Icarus, whose outputs then went wrong.
    Here every NOR output follows a exactly as in the zero-delay simulation."""
    lib_path, lib = nangate
    netlist = fanout(tmp_path)
    arcs = sdf_arcs(tmp_path, netlist, lib_path)
    assert "::-" in (tmp_path / "sta" / "opensta.sdf").read_text()   # the case under test
    run = {"netlist": netlist, "library": lib, "testbench": FANOUT_TB, "tb_top": "tb"}
    timed, _ = glitchsim.simulate(**run, work_dir=tmp_path / "timed", arcs=arcs)
    plain, _ = gatesim.simulate(**run, work_dir=tmp_path / "plain", sim="icarus")
    outputs = range(100, 100 + FANOUT)
    assert [plain[n] for n in outputs] == [2 * RISES] * FANOUT
    assert [timed[n] for n in outputs] == [2 * RISES] * FANOUT
