"""``varimac train``: one-line errors for bad input, no output left behind."""

import pytest

from flows.cli import main


@pytest.mark.parametrize("argv,message", [
    (["--policy", "fixed-7", "--epochs", "1"], "--policy must be one of float32, fixed-4,"),
    (["--policy", "fixed-8", "--epochs", "0"], "--epochs must be an integer >= 1, not '0'"),
    (["--policy", "fixed-8", "--epochs", "two"], "--epochs must be an integer >= 1, not 'two'"),
    (["--policy", "fixed-8", "--epochs", "1", "--train-subset", "-5"],
     "--train-subset must be an integer >= 1"),
    (["--policy", "fixed-8", "--epochs", "1", "--seed", "4294967296"], "--seed must be below"),
    (["--policy", "fixed-8", "--epochs", "1", "--data", "demo", "--train-subset", "2561",
      "--test-subset", "8"],
     "--train-subset must be at most 2560 with --data demo (the shipped subset), not 2561"),
    (["--policy", "fixed-8", "--epochs", "1", "--data", "demo", "--train-subset", "8"],
     "--test-subset must be at most 640 with --data demo (the shipped subset), not all"),
])
def test_bad_arguments(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    assert main(["train", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_missing_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VARIMAC_DATA", str(tmp_path / "nothing-here"))
    out = tmp_path / "run"
    assert main(["train", "--policy", "fixed-8", "--epochs", "1", "--data",
                 str(tmp_path / "nothing-here"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "CIFAR-10 not found" in err and "--data" in err and "VARIMAC_DATA" in err
    assert not out.exists()
