"""Fixed-point training gives identical bits: numpy == torch, run == rerun, resumed == whole."""

import json

import numpy as np
import pytest

from golden.backend_torch import TorchBackend
from golden.backends import get_backend
from golden.train.network import LAYERS
from golden.train.checkpoint import narrow
from golden.train.config import TrainConfig
from golden.train.trainer import CHECKPOINT, LOG, Trainer
from tests.support.train_pins import ADAPTIVE, fingerprint_of, pinned
from tests.support.training import DATA, assert_same_bits, params, run, strip_times


PINNED = pinned()


@pytest.mark.parametrize("policy", ["fixed-8", "fixed-16", "fixed-4"])
@pytest.mark.parametrize("fused", [True, False], ids=["torch", "torch-tensor"])
def test_numpy_and_torch_give_the_same_bits(tmp_path, monkeypatch, policy, fused):
    # fused=False: the tensor code that a GPU runs, here on the CPU
    monkeypatch.setattr("golden.train.trainer.get_backend",
                        lambda name, device: get_backend(name, device=device) if name == "numpy"
                        else TorchBackend(device, fused=fused))
    a, log_a = run(tmp_path, "np", policy=policy, backend="numpy")
    b, log_b = run(tmp_path, "torch", policy=policy, backend="torch")
    assert_same_bits(params(a), params(b))
    la, lb = strip_times(log_a), strip_times(log_b)
    la.pop("backend"), lb.pop("backend")
    la["config"].pop("backend", None), lb["config"].pop("backend", None)
    assert la == lb
    assert_pinned(policy, a, log_a)  # the same runs as tests/support/train_pins' case of that name


def test_adaptive_decisions_are_the_same_on_both_backends(tmp_path):
    a, log_a = run(tmp_path, "np", policy="adaptive", adaptive=ADAPTIVE)
    b, log_b = run(tmp_path, "torch", policy="adaptive", backend="torch", adaptive=ADAPTIVE)
    assert_same_bits(params(a), params(b))
    assert len({d["to"] for d in log_a["decisions"]}) == 2       # some layers widened
    assert log_a["decisions"] == log_b["decisions"]
    assert a.policy.state_dict() == b.policy.state_dict()
    assert_pinned("adaptive-1", a, log_a)


def assert_pinned(name, trainer, log):
    """The bits of this run equal those pinned before the speed work (tests/train/test_pins.py)."""
    got = fingerprint_of(trainer, log)
    differ = sorted(k for k in PINNED[name] if got.get(k) != PINNED[name][k])
    assert not differ, f"{name}: {differ} changed"


def test_the_weights_move_and_the_same_seed_gives_the_same_bits(tmp_path):
    a, _ = run(tmp_path, "a", seed=5)
    b, _ = run(tmp_path, "b", seed=5)
    c, _ = run(tmp_path, "c", seed=6)
    assert_same_bits(params(a), params(b))
    init = Trainer(TrainConfig(policy="fixed-8", epochs=1, out=str(tmp_path / "i"), seed=5),
                   data=DATA, progress=False)
    init.fresh_state()
    assert not np.array_equal(params(a)["w1"], params(init)["w1"])
    assert not np.array_equal(params(a)["w1"], params(c)["w1"])


@pytest.mark.parametrize("policy,stops", [("fixed-8", [4]), ("two-phase-float", [2, 3]),
                                          ("autoflex", [5])])
def test_resumed_mid_epoch_equals_uninterrupted(tmp_path, policy, stops):
    """3 steps per epoch, 2 epochs; stopped mid-epoch (and, for two-phase-float, around the
    switch from fixed point to float32), then resumed by a fresh Trainer."""
    whole, log_whole = run(tmp_path, "whole", policy=policy, epochs=2)
    for stop in stops:
        _, partial = run(tmp_path, "parts", policy=policy, epochs=2, stop_after=stop)
        assert not partial["complete"]
    parts, log_parts = run(tmp_path, "parts", policy=policy, epochs=2)
    assert log_parts["complete"]
    assert_same_bits(params(whole), params(parts))
    assert strip_times(log_whole) == strip_times(log_parts)
    on_disk = json.loads((tmp_path / "parts" / LOG).read_text())
    assert strip_times(on_disk) == strip_times(log_parts)


@pytest.mark.parametrize("values,dtype", [([0, 2**31 - 1, -2**31], np.int32),
                                          ([2**31], np.int64), ([-2**31 - 1], np.int64),
                                          ([], np.int32)])
def test_checkpoints_narrow_int64_only_where_every_value_fits(values, dtype):
    a = np.array(values, dtype=np.int64)
    narrowed = narrow(a)
    assert narrowed.dtype == dtype and np.array_equal(narrowed.astype(np.int64), a)


def test_resume_with_adaptive_checks_between_stops(tmp_path):
    every2 = {**ADAPTIVE, "period": 2}
    whole, log_whole = run(tmp_path, "whole", policy="adaptive", epochs=2, adaptive=every2)
    run(tmp_path, "parts", policy="adaptive", epochs=2, adaptive=every2, stop_after=3)
    parts, log_parts = run(tmp_path, "parts", policy="adaptive", epochs=2, adaptive=every2)
    assert len(log_whole["decisions"]) > 1
    assert_same_bits(params(whole), params(parts))
    assert strip_times(log_whole) == strip_times(log_parts)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    run(tmp_path, "x", stop_after=1)
    with pytest.raises(ValueError, match="belongs to another run .*seed: 0 there, 1 here"):
        run(tmp_path, "x", seed=1)
    assert (tmp_path / "x" / CHECKPOINT).exists()


def test_log_holds_every_epoch_field(tmp_path):
    _, log = run(tmp_path, "log", policy="two-phase", epochs=2)
    assert [e["epoch"] for e in log["epochs"]] == [1, 2]
    first, second = log["epochs"]
    assert set(first["macs_per_width"]) == {"8"} and set(second["macs_per_width"]) == {"16"}
    # MACs of one step, counted by hand: conv (Ho*Wo*9*Cin*Cout per image, per GEMM), dense.
    conv = [(32, 32, 3, 32, 32), (30, 32, 32, 32, 32), (15, 15, 32, 64, 15),
            (13, 15, 64, 64, 13)]  # (Ho, H, Cin, Cout, ...) fwd+bwd-weight at Ho, bwd-data at H
    per_image = 0
    for i, (ho, h, cin, cout, _) in enumerate(conv):
        per_image += 2 * ho * ho * 9 * cin * cout + (h * h * 9 * cin * cout if i else 0)
    per_image += 3 * 2304 * 512 + 3 * 512 * 10
    assert first["macs_per_width"]["8"] == per_image * len(DATA.train_y)
    for e in log["epochs"]:
        assert set(e["formats"]) == {layer.name for layer in LAYERS} | {"logits"}
        assert set(e["formats"]["conv2"]) == {"activations", "weights", "errors", "updates"}
        assert 0 <= e["rates"]["dense1"]["errors"]["underflow"] <= 1
        assert e["bits_moved_per_width"] and e["train_loss"] > 0 and e["wall_time_s"] > 0
        assert 0 <= e["test_accuracy"] <= 1
    assert second["formats"]["conv1"]["weights"].startswith("Q(16,")
    assert [d["to"] for d in log["decisions"]] == [8, 16]
    assert all(d["reason"] for d in log["decisions"])


def test_trace_writes_contract_jobs_per_width(tmp_path):
    from golden.contract import GemmJob, gemm
    run(tmp_path, "t", policy="fixed-8", trace=True, trace_cap=5)
    files = sorted((tmp_path / "t" / "traces" / "w8").glob("*.npz"))
    assert len(files) == 5
    job = GemmJob.load(files[0])
    assert job.a_width == 8 and job.b_width == 8
    assert gemm(job).y.shape == (job.shape[0], job.shape[2])
