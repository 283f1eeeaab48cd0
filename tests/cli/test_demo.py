"""``varimac demo``: one-line errors for bad input, and the summary it writes."""

import pytest

from flows.cli import demo as cmd_demo
from flows.cli import main


@pytest.mark.parametrize("argv,message", [
    (["--train-subset", "100"], "--train-subset must be >= 128"),
    (["--jobs-per-width", "0"], "--jobs-per-width must be >= 1"),
    (["--train-subset", "2561"], "--train-subset must be <= 2560 on the shipped subset"),
])
def test_bad_arguments(tmp_path, capsys, argv, message):
    out = tmp_path / "demo"
    assert main(["demo", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_missing_data(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--data", str(tmp_path / "nothing-here"), "--out", str(out)]) == 2
    assert "CIFAR-10 not found" in capsys.readouterr().err
    assert not out.exists()


SUMMARY = {
    "command": "varimac demo --out x",
    "verilog": {"path": "x/varimac.v", "config": {"rows": 8, "cols": 8}, "widths": [4, 8]},
    "rtl": {"simulator": "icarus", "jobs": [{"exact": True}, {"exact": False}]},
    "training": {"epochs": [{"epoch": 1, "train_loss": 2.25, "test_accuracy": 0.175,
                             "macs_per_width": {"8": 1.5e11}}]},
    "energy_pj_per_mac": {"random": {"4": 1.25, "16": 7.5, "8": 3.0},
                          "trace": {"8": 2.125}},
}


def test_summary_table_lists_every_width_and_both_data_sources(tmp_path):
    text = cmd_demo.summary_markdown(SUMMARY)
    assert "- RTL == golden: 1/2 random jobs bit-exact on icarus" in text
    assert "| 1 | 2.250 | 17.50% | 8-bit 1.5e+11 |" in text
    rows = [line for line in text.splitlines() if line[:4] in ("| 4 ", "| 8 ", "| 16")]
    assert rows == ["| 4 | 1.250 | – |", "| 8 | 3.000 | 2.125 |", "| 16 | 7.500 | – |"]
    cmd_demo.summary_plot(SUMMARY, str(tmp_path / "summary.png"))
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
