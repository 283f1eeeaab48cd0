"""Clock gating through the whole flow: synthesis with ``clockgate``, gate-level simulation and
the energy model. A lane register whose low lanes are disabled at a narrow width must cost less
clock energy than at full width, and less than the same design synthesized without gating."""

import pytest

from flows.eda.energy import compute_energy
from flows.eda.gatesim import simulate
from flows.eda.liberty import prepare_liberty
from flows.eda.synth import synthesize
from tests.support.paths import BUILD

pytestmark = pytest.mark.slow       # two syntheses and four gate-level simulations


# Four 4-bit lanes; `lanes` of them (from the top) load, the others hold (MSB-aligned data).
DESIGN = """
module lanes_dut(input clk, input rst, input [2:0] lanes, input [15:0] a_in,
                 output [19:0] y);
  wire [3:0] on = lanes >= 4 ? 4'b1111 : lanes == 3 ? 4'b1110 : lanes == 2 ? 4'b1100 : 4'b1000;
  reg [3:0] a_lane0, a_lane1, a_lane2, a_lane3;
  always @(posedge clk or posedge rst) if (rst) a_lane0 <= 0; else if (on[0]) a_lane0 <= a_in[3:0];
  always @(posedge clk or posedge rst) if (rst) a_lane1 <= 0; else if (on[1]) a_lane1 <= a_in[7:4];
  always @(posedge clk or posedge rst) if (rst) a_lane2 <= 0; else if (on[2]) a_lane2 <= a_in[11:8];
  always @(posedge clk or posedge rst) if (rst) a_lane3 <= 0; else if (on[3]) a_lane3 <= a_in[15:12];
  reg [19:0] acc;
  always @(posedge clk or posedge rst)
    if (rst) acc <= 0; else acc <= acc + {4'b0, a_lane3, a_lane2, a_lane1, a_lane0};
  assign y = acc;
endmodule
"""

TB = """
module tb;
  reg clk = 0, rst = 0;
  reg [2:0] lanes = %(lanes)d;
  reg [15:0] a_in = 0;
  wire [19:0] y;
  lanes_dut dut (.clk(clk), .rst(rst), .lanes(lanes), .a_in(a_in), .y(y));
  reg [8*256-1:0] vcd;
  integer i, seed = 1;
  initial begin
    if (!$value$plusargs("vcd=%%s", vcd)) $finish;
    #1 rst = 1;                        // after time 0, so that the async clear sees an edge
    #4 clk = 1; #5 clk = 0; rst = 0;
    $dumpfile(vcd); $dumpvars(1, tb.dut);
    for (i = 0; i < 200; i = i + 1) begin
      #2 a_in = $random(seed) & ~((16'h1 << (16 - 4 * %(lanes)d)) - 1);
      #3 clk = 1; #5 clk = 0;
    end
    $finish;
  end
endmodule
"""


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    work = tmp_path_factory.mktemp("gating")
    (work / "lanes.v").write_text(DESIGN)
    library = prepare_liberty("nangate45", build_dir=BUILD)[1]
    netlists = {}
    for gating in (True, False):
        netlists[gating], stats = synthesize(
            sources=[work / "lanes.v"], top="lanes_dut", library_name="nangate45",
            out_dir=work / f"synth_{gating}", build_dir=BUILD, clock_gating=gating)
        assert stats["clock_gates"] == (3 if gating else 0)   # lane 3 is always on
        assert stats["flops"] == 36

    def energy(gating, lanes):
        toggles, _ = simulate(netlist=netlists[gating], library=library,
                              testbench=TB % {"lanes": lanes}, tb_top="tb",
                              work_dir=work / f"sim_{gating}_{lanes}")
        return compute_energy(netlist=netlists[gating], library=library, toggles=toggles,
                              slew=0.0171859e-9)
    return energy


def test_gating_lowers_clock_energy_at_narrow_widths(flow):
    full, narrow = flow(True, 4), flow(True, 1)
    assert narrow.dynamic["clock"] < 0.8 * full.dynamic["clock"]
    assert narrow.dynamic["lane_registers"] < 0.5 * full.dynamic["lane_registers"]


def test_gating_changes_no_function(flow):
    # same data through the same adder: the accumulator's energy cannot depend on gating
    for lanes in (1, 4):
        assert flow(True, lanes).dynamic["accumulators"] == \
            pytest.approx(flow(False, lanes).dynamic["accumulators"], rel=1e-9)


def test_without_gating_clock_energy_does_not_depend_on_width(flow):
    full, narrow = flow(False, 4), flow(False, 1)
    assert narrow.dynamic["clock"] == pytest.approx(full.dynamic["clock"], rel=0.02)
    assert flow(True, 1).dynamic["clock"] < 0.8 * narrow.dynamic["clock"]
