"""``python -m flows.saturation``: per-layer and per-role rates of several logs side by side."""

import json

from flows.saturation import table


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
