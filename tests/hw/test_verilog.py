"""``varimac verilog``: the Verilog and params.json it writes, and its refusals."""

import re

import pytest

from flows.cli import main
from hw.config import AccelConfig


def test_writes_verilog_and_params(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["verilog", "--out", str(out), "--preset", "tiny", "--max-k", "16"]) == 0
    config = AccelConfig.load(out / "params.json")
    assert config == AccelConfig.preset("tiny", max_k=16)
    text = (out / "varimac.v").read_text()
    header = re.search(r"^module varimac\((.*?)\);", text, re.M | re.S).group(1)
    ports = {p.strip() for p in header.split(",")}
    assert {"clk", "rst", "cmd__valid", "cmd__ready", "a__payload", "b__payload",
            "y__payload", "y__ready", "busy", "done", "error", "saturated",
            "underflow"} <= ports
    # Every register resets asynchronously, so no synchronous reset rides on the enables.
    edges = set(re.findall(r"always @\((posedge clk[^)]*)\)", text))
    assert edges == {"posedge clk, posedge rst"}
    for name in ("a_lane0", "b_lane2", "p_lane0", "acc_lane0", "y_lane0", "a_skew1_0_lane0"):
        assert re.search(rf"reg \[\d+:0\] {name} ", text), name
    assert "varimac.v" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--rows", "0"], "bad accelerator configuration: rows must be in [1, 64], not 0"),
    (["--max-width", "10"], "bad accelerator configuration: max_width (10) must be a "
                            "multiple of lane_width (4)"),
])
def test_bad_configuration(tmp_path, capsys, flags, message):
    out = tmp_path / "v"
    assert main(["verilog", "--out", str(out)] + flags) == 2
    assert capsys.readouterr().err.strip() == f"varimac verilog: error: {message}"
    assert not out.exists()
