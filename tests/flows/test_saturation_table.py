"""``varimac saturation``: per-layer and per-role rates of several logs side by side."""

import json

from flows.reports.saturation import table
from tests.support.paths import REPO


def write_log(folder, rates):
    folder.mkdir()
    (folder / "log.json").write_text(json.dumps({"epochs": [{"rates": rates}]}))
    return str(folder)


def test_rows_in_network_order_and_missing_cells(tmp_path):
    a = write_log(tmp_path / "a", {
        "conv2": {"updates": {"saturation": 0.0012, "underflow": 0.5}},
        "conv1": {"updates": {"saturation": 0.0123, "underflow": 0.02},
                  "weights": {"saturation": 0.0, "underflow": 0.0}}})
    b = write_log(tmp_path / "b", {"conv1": {"updates": {"saturation": 0.0, "underflow": 0.04}}})
    lines = table([a, b]).splitlines()
    assert lines[0] == "| layer | role | a saturation | a underflow | b saturation | b underflow |"
    assert lines[2:] == ["| conv1 | updates | 1.23e-02 | 2.00e-02 | 0.00e+00 | 4.00e-02 |",
                         "| conv2 | updates | 1.20e-03 | 5.00e-01 | – | – |"]


def test_the_command_renders_the_committed_table(capsys):
    # ``varimac saturation`` on the committed logs gives the committed file, byte for byte
    # (results/saturation/README.md names the command).
    from flows.cli import main
    root = REPO / "results" / "saturation"
    assert main(["saturation", str(root / "fixed-8"), str(root / "fixed-8+headroom")]) == 0
    assert capsys.readouterr().out == (root / "headroom.md").read_text()


def test_the_command_refuses_a_folder_without_a_log(tmp_path, capsys):
    from flows.cli import main
    assert main(["saturation", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"varimac saturation: error: no log.json in {tmp_path}; "
                                       "give training run folders\n")
