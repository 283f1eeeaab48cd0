"""``varimac sweep``: the grid, skipping finished runs, and a tiny grid on a local Ray with a
failing run reported (slow: starts Ray and five training processes)."""

import json
import os

import numpy as np
import pytest

from flows.cli import main
from flows.cli.sweep_grid import Run, SweepError, expand, run_state

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck"]


def test_grid_names_and_options():
    runs = expand(["fixed-8", "cyclic"], [0, 1], {"epochs": 1, "train_subset": [64, 128]})
    assert [r.name for r in runs][:4] == ["fixed-8-s0-train_subset64", "fixed-8-s1-train_subset64",
                                          "cyclic-s0-train_subset64", "cyclic-s1-train_subset64"]
    assert len(runs) == 8
    assert runs[0].argv("OUT") == ["train", "--policy", "fixed-8", "--seed", "0", "--no-progress",
                                   "--out", os.path.join("OUT", "fixed-8-s0-train_subset64"),
                                   "--epochs", "1", "--train-subset", "64"]


@pytest.mark.parametrize("policies,seeds,options,message", [
    (["fixed-7"], [0], {}, "policy must be one of"),
    (["fixed-8"], [-1], {}, "seeds must be integers"),
    (["fixed-8"], [0], {"lr": 1}, "unknown option(s) lr"),
    (["fixed-8", "fixed-8"], [0], {}, "names two runs alike"),
])
def test_bad_grids(policies, seeds, options, message):
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand(policies, seeds, options)


def test_grid_file(tmp_path):
    from flows.cli.sweep_grid import load_grid
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({"policies": ["cyclic"], "seeds": [3], "options": {"epochs": 2}}))
    assert [r.argv("O")[:5] for r in expand(*load_grid(path))] == [
        ["train", "--policy", "cyclic", "--seed", "3"]]
    path.write_text(json.dumps({"policies": "cyclic", "seeds": [3]}))
    with pytest.raises(SweepError, match="policies and seeds must be lists"):
        load_grid(path)


def test_run_state(tmp_path):
    run = Run("fixed-8-s0", "fixed-8", 0, ())
    assert run_state(tmp_path, run) == "new"
    (tmp_path / run.name).mkdir()
    (tmp_path / run.name / "checkpoint.npz").write_bytes(b"")
    assert run_state(tmp_path, run) == "partial"
    (tmp_path / run.name / "log.json").write_text(json.dumps({"complete": True}))
    assert run_state(tmp_path, run) == "done"


def test_usage_errors(tmp_path, capsys):
    assert main(["sweep", "--policies", "fixed-8", "--out", str(tmp_path / "s")]) == 2
    assert "give --grid FILE, or --policies" in capsys.readouterr().err
    assert main(["sweep", "--policies", "fixed-8", "--seeds", "0", "--out",
                 str(tmp_path / "s")]) == 2
    assert "--epochs is required" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def write_cifar(folder, per_batch=40):
    """A CIFAR-10 binary folder of random images: 5 x ``per_batch`` train, ``per_batch`` test."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        records = np.concatenate([rng.integers(0, 10, (per_batch, 1), dtype=np.uint8),
                                  rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)], axis=1)
        (folder / f"{name}.bin").write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n")


@pytest.mark.slow
def test_tiny_grid_on_a_local_ray(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray", reason="the sweep extra is not installed: pip install -e '.[sweep]'")
    monkeypatch.setenv("VARIMAC_CACHE", str(tmp_path / "cache"))
    write_cifar(tmp_path / "cifar")
    out = tmp_path / "sweep"
    (out / "per-role-s1").mkdir(parents=True)
    (out / "per-role-s1" / "checkpoint.npz").write_text("not a checkpoint")   # fails to resume
    argv = ["sweep", "--policies", "fixed-8,per-role", "--seeds", "0,1", "--epochs", "1",
            "--train-subset", "128", "--test-subset", "20", "--data", str(tmp_path / "cifar"),
            "--no-progress", "--out", str(out)]
    assert main(argv) == 1
    report = json.loads((out / "sweep.json").read_text())
    status = {r["name"]: r["status"] for r in report["runs"]}
    assert status == {"fixed-8-s0": "done", "fixed-8-s1": "done", "per-role-s0": "done",
                      "per-role-s1": "failed"}
    failed = next(r for r in report["runs"] if r["status"] == "failed")
    assert failed["error"].startswith("exit status ")
    assert "failed per-role-s1: exit status" in capsys.readouterr().out
    logs = {name: json.loads((out / name / "log.json").read_text()) for name in status
            if status[name] == "done"}
    assert {(log["config"]["policy"], log["config"]["seed"]) for log in logs.values()} == {
        ("fixed-8", 0), ("fixed-8", 1), ("per-role", 0)}
    assert all(log["complete"] and log["train_images"] == 128 for log in logs.values())
    # Seeds change the bits: the two fixed-8 runs differ.
    assert logs["fixed-8-s0"]["epochs"][0]["train_loss"] != logs["fixed-8-s1"]["epochs"][0][
        "train_loss"]
    # A rerun skips the finished runs (their logs untouched) and retries the failed one.
    before = {n: os.stat(out / n / "log.json").st_mtime_ns for n in logs}
    (out / "per-role-s1" / "checkpoint.npz").unlink()
    assert main(argv) == 0
    assert {n: os.stat(out / n / "log.json").st_mtime_ns for n in logs} == before
    status = {r["name"]: r["status"] for r in json.loads((out / "sweep.json").read_text())["runs"]}
    assert status == {"fixed-8-s0": "skipped", "fixed-8-s1": "skipped", "per-role-s0": "skipped",
                      "per-role-s1": "done"}
