"""The gate-level simulators agree, and Verilator compiles a netlist once for many stimuli.

A one-flop netlist (tests/support/netlists.py) is driven from a stimulus file named at run time,
and its VCD window closes with ``$dumpoff`` at a clock edge, as the replay testbench
(``flows.eda.activity``) does. The toggle counts are worked out by hand: Icarus drops the value
changes of the time step of ``$dumpoff`` (it writes x over them), and the Verilator path must
count the same.
"""

import itertools

import pytest

from flows.eda import gatesim
from flows.eda.gatesim import icarus_available, simulate
from tests.support.netlists import flop_netlist
from tests.support.paths import BUILD

TB = """
module tb;
  reg clk = 0, d = 0;
  wire y;
  top dut (.clk(clk), .d(d), .y(y));
  always #5 clk = ~clk;
  reg [8*512-1:0] vcd, stim;
  integer n, i, r, fd, value;
  initial begin
    if (!$value$plusargs("vcd=%s", vcd) || !$value$plusargs("stim=%s", stim)
        || !$value$plusargs("n=%d", n)) $finish;
    fd = $fopen(stim, "r");
    #1 d = 1;                                  // Q leaves x at the first edge (5 ns)
    @(negedge clk);
    $dumpfile(vcd); $dumpvars(1, tb.dut);
    for (i = 0; i < n; i = i + 1) begin        // one bit of d per cycle
      r = $fscanf(fd, "%h\\n", value);
      #1 d = value;                            // after the window opens
      @(negedge clk);
    end
    @(posedge clk);
    $dumpoff;                                  // at an edge: its changes do not count
    $finish;
  end
endmodule
"""

STIMULI = ([1, 0, 0, 1, 0, 1, 1, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1])


def expected(bits):
    """clk (net 2) toggles twice a cycle; d (3), Q (4) and y = ~Q (5) follow 1, bits..."""
    seq = [1, *bits]
    changes = sum(a != b for a, b in itertools.pairwise(seq))
    return {2: 2 * len(bits), 3: changes, 4: changes, 5: changes}


def run(net, library, work, bits, sim):
    work.mkdir(parents=True)
    (work / "stim.hex").write_text("".join(f"{b:x}\n" for b in bits))
    toggles, _ = simulate(netlist=net, library=library, testbench=TB, tb_top="tb",
                          work_dir=work, sim=sim,
                          plusargs=(f"+stim={work / 'stim.hex'}", f"+n={len(bits)}"))
    return toggles


@pytest.fixture(scope="module")
def nangate():

    from flows.eda.liberty import prepare_liberty
    return prepare_liberty("nangate45", build_dir=BUILD)[1]


def test_verilator_compiles_once_and_counts_as_by_hand(tmp_path, nangate, monkeypatch):
    monkeypatch.setattr(gatesim, "EXECUTABLES", tmp_path / "cache")
    net = flop_netlist(tmp_path)
    for i, bits in enumerate(STIMULI):
        assert run(net, nangate, tmp_path / f"run{i}", bits, "verilator") == expected(bits)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert (tmp_path / "run0" / "verilator.log").exists()
    assert not (tmp_path / "run1" / "verilator.log").exists()      # the cached executable


@pytest.mark.skipif(not icarus_available(), reason="optional extra: Icarus Verilog (the "
                    "Verilator test above checks the same counts)")
def test_icarus_counts_as_by_hand(tmp_path, nangate):
    net = flop_netlist(tmp_path)
    for i, bits in enumerate(STIMULI):
        assert run(net, nangate, tmp_path / f"run{i}", bits, "icarus") == expected(bits)
