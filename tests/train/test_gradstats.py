"""``varimac gradstats``: the statistics the adaptive rule reads, measured on a checkpoint."""

import json

import pytest

from flows.cli import main
from golden.train import gradstats
from golden.train.network import LAYERS
from golden.train.config import TrainConfig
from golden.train.trainer import CHECKPOINT, Trainer
from tests.support.cifar import random_batches, synthetic, write_bin


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(policy="fixed-8", epochs=1, out=str(out), backend="numpy", batch=8)
    Trainer(cfg, data=synthetic(), progress=False).run(stop_after=2)
    return out / CHECKPOINT


def test_statistics_per_layer_and_width(checkpoint):
    master, about = gradstats.load(checkpoint)
    assert (about["policy"], about["epoch"], about["step"]) == ("fixed-8", 0, 2)
    rows = gradstats.statistics(master, synthetic(), widths=(4, 16), steps=2, batch=8)
    assert [(r["width"], r["layer"]) for r in rows] == [(w, l.name) for w in (4, 16)
                                                         for l in LAYERS]
    by = {(r["width"], r["layer"]): r for r in rows}
    for layer in LAYERS:
        lo, hi = by[(4, layer.name)], by[(16, layer.name)]
        assert 1 <= lo["need50"] <= lo["need25"] <= lo["need10"]
        # 12 more fraction bits flush far fewer errors to zero
        assert hi["errors_underflow"] < lo["errors_underflow"]
    assert by[(4, "conv2")]["errors_underflow"] > 0.05
    assert any(by[(4, l.name)]["need50"] < by[(4, l.name)]["need10"] for l in LAYERS)


@pytest.mark.slow
def test_cli_writes_the_table_and_json(checkpoint, tmp_path):
    data = tmp_path / "cifar"
    write_bin(data, random_batches())
    out = tmp_path / "stats"
    assert main(["gradstats", str(checkpoint), "--widths", "8,16", "--steps", "2",
                 "--data", str(data), "--out", str(out)]) == 0
    saved = json.loads((out / "gradstats.json").read_text())
    assert saved["widths"] == [8, 16] and len(saved["checkpoints"][0]["rows"]) == 2 * len(LAYERS)
    table = (out / "gradstats.md").read_text()
    assert "**fixed-8, epoch 0, step 2**" in table and "err. underflow @16" in table
    assert table.count("| conv") == 4 and table.count("| dense") == 2


@pytest.mark.parametrize("argv,message", [
    (["--widths", "8,10"], "--widths must be a comma-separated list of 4, 8, 12, 16, not '8,10'"),
    (["--steps", "1"], "--steps must be an integer >= 2, not '1'"),
])
def test_bad_arguments(checkpoint, tmp_path, capsys, argv, message):
    out = tmp_path / "stats"
    assert main(["gradstats", str(checkpoint), *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    assert main(["gradstats", str(bad), str(tmp_path / "missing.npz"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "missing.npz: no such checkpoint file" in capsys.readouterr().err
    assert main(["gradstats", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "x.npz: not a checkpoint: not an .npz archive" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
