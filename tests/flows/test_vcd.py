"""Toggle counting from VCD: value changes between 0 and 1, not lines."""

import flows.eda.vcd as vcd
from flows.eda.vcd import ToggleCounts

VCD = """$date today $end
$timescale 1ps $end
$scope module tb $end
$var reg 1 ! clk $end
$scope module dut $end
$var wire 1 " n1 $end
$var wire 1 #a n2 $end
$var wire 3 $ bus [2:0] $end
$var wire 1 ! clk_alias $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
$dumpvars
0!
x"
1#a
bx $
$end
#10
1!
0"
1#a
b101 $
#20
0!
1"
0#a
b10 $
#30
1!
x"
$dumpoff
x!
x#a
bxxx $
$end
#40
$dumpon
1!
0"
0#a
b10 $
$end
#50
0!
1#a
"""


def test_counts_changes_not_lines(tmp_path):
    path = tmp_path / "t.vcd"
    path.write_text(VCD)
    t = ToggleCounts(path)
    dut = t.by_name("tb.dut")
    # clk: 0 -> 1 -> 0 -> 1, x while dumped off, 1 again (no change), 0: four toggles
    assert t.by_name("tb")["clk"].tolist() == [4]
    assert dut["clk_alias"].tolist() == [4]
    # n1: x -> 0 (not a toggle) -> 1 -> x -> 0: one toggle
    assert dut["n1"].tolist() == [1]
    # n2: 1, 1 again (no change), 0, x, 0 (no change across the gap), 1: two toggles
    assert dut["n2"].tolist() == [2]
    # bus: xxx, 101, 010 (zero-extended "10"), xxx, 010, : bits 0, 1 and 2 each change once
    assert dut["bus"].tolist() == [1, 1, 1]


def test_chunks_carry_state(tmp_path, monkeypatch):
    lines = ["$scope module m $end", "$var wire 1 ! a $end", "$upscope $end",
             "$enddefinitions $end", "#0", "0!"]
    for i in range(1, 2001):
        lines += [f"#{i}", f"{i % 2}!", f"{i % 2}!"]   # every value written twice
    path = tmp_path / "long.vcd"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(vcd, "_CHUNK", 97)              # many chunk boundaries
    assert ToggleCounts(path).by_name("m")["a"].tolist() == [2000]
