"""Fuzz: damaged checkpoints resumed by ``varimac train``, damaged dataset archives.

A run of 2 steps (16 synthetic images, batch 8) is stopped after its first step; its
checkpoint is then damaged and the command run on it again. Each case: exit 2, one line naming
the checkpoint, the run folder's bytes unchanged (no log.json, no temporary file). Checkpoints
rewritten with a fresh digest (or none, as before digests existed) stand for a tool that rewrites
them consistently: their arrays and state must then fail the checks on their own.
"""

import contextlib
import io
import json
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.cli import main
from golden.train.checkpoint import digest
from golden.train.data import DataError, load_cifar10
from golden.train.network import param_shapes
from golden.train.config import TrainConfig
from golden.train.trainer import CHECKPOINT, Trainer
from tests.support.cifar import write_dataset
from tests.support.damage import (assert_refused, bits, flip, fractions, fuzz, json_values,
    not_dicts, npz_bytes, read_npz_plain, snapshot, truncate, unwritable_dir)
from tests.support.training import RUN


class Env(dict):
    """The fixture's paths and checkpoint bytes, with a short repr for failure reports."""

    def __init__(self, **kw):
        super().__init__(**kw)

    def __repr__(self):
        return f"Env({self['root']})"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-runs")
    data = write_dataset(root / "cifar-10-batches-bin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VARIMAC_CACHE", str(root / "cache"))
        checkpoints = {}
        for policy in ("fixed-8", "float32"):
            cfg = TrainConfig(policy=policy, out=str(root / policy), backend="numpy",
                              data=str(data), checkpoint_every=1, **RUN)
            Trainer(cfg, progress=False).run(stop_after=1)
            checkpoints[policy] = (root / policy / CHECKPOINT).read_bytes()
        yield Env(data=data, root=root, checkpoints=checkpoints)


def resume(env, policy, blob):
    """``varimac train`` on a run folder holding checkpoint ``blob``: (code, err, path, before,
    after)."""
    with tempfile.TemporaryDirectory(dir=env["root"]) as tmp:
        ck = Path(tmp) / CHECKPOINT
        ck.write_bytes(blob)
        before = snapshot(tmp)
        err = io.StringIO()
        argv = ["train", "--policy", policy, "--epochs", str(RUN["epochs"]), "--batch", "8",
                "--train-subset", "16", "--test-subset", "8", "--data", str(env["data"]),
                "--backend", "numpy", "--no-progress", "--out", tmp]
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
        return code, err.getvalue(), ck, before, snapshot(tmp)


def assert_resume_refused(env, policy, blob):
    code, err, ck, before, after = resume(env, policy, blob)
    assert_refused(code, err, command="train", names=ck)
    assert after == before
    return err


def rewrite(blob, *, arrays=None, state=None, drop=(), redigest=True):
    """The checkpoint ``blob`` with arrays / state fields replaced (or dropped); its digest
    recomputed (``redigest=True``), removed (``False``) or left as it was (``"stale"``)."""
    a = read_npz_plain(blob)
    s = json.loads(a.pop("state").tobytes())
    a.update(arrays or {})
    s.update(state or {})
    for key in drop:
        a.pop(key, None)
        s.pop(key, None)
    if redigest is True:
        s["digest"] = digest(a, s)
    elif not redigest:
        s.pop("digest", None)
    return npz_bytes({**a, "state": np.frombuffer(json.dumps(s).encode(), np.uint8)})


def test_the_intact_checkpoints_and_their_rewrites_load(env):
    """The controls: what the damage starts from is accepted (resuming to the end is the crash
    test's part), rewritten with a fresh digest or none as well."""
    for policy, blob in env["checkpoints"].items():
        for version in (blob, rewrite(blob), rewrite(blob, redigest=False)):
            with tempfile.TemporaryDirectory(dir=env["root"]) as tmp:
                (Path(tmp) / CHECKPOINT).write_bytes(version)
                cfg = TrainConfig(policy=policy, out=tmp, backend="numpy",
                                  data=str(env["data"]), **RUN)
                trainer = Trainer(cfg, progress=False)
                trainer.load_checkpoint(str(Path(tmp) / CHECKPOINT))
                assert (trainer.epoch, trainer.pos, trainer.step) == (0, 1, 1)
                assert trainer.mode == ("float" if policy == "float32" else "fixed")


@fuzz(12)
@given(policy=st.sampled_from(["fixed-8", "float32"]), fraction=fractions, bit=bits,
       truncated=st.booleans())
def test_truncated_or_bit_flipped_checkpoint(env, policy, fraction, bit, truncated):
    blob = env["checkpoints"][policy]
    assert_resume_refused(env, policy, truncate(blob, fraction) if truncated
                          else flip(blob, fraction, bit))


ARRAYS = sorted(param_shapes())


@fuzz(16)
@given(name=st.sampled_from(ARRAYS), redigest=st.booleans(), data=st.data())
def test_fixed_point_arrays_of_wrong_dtype_shape_or_range(env, name, redigest, data):
    blob = env["checkpoints"]["fixed-8"]
    x = read_npz_plain(blob)[name]
    kind = data.draw(st.sampled_from(["float", "shape", "range", "missing", "extra"]))
    if kind == "float":
        bad = {name: x + 0.5}
    elif kind == "shape":
        bad = {name: x.reshape(-1)[:-1] if x.ndim == 1 else x.T.copy()}
    elif kind == "range":
        y = x.astype(np.int64)
        y.flat[data.draw(st.integers(0, y.size - 1))] = data.draw(
            st.integers(2**31, 2**62) | st.integers(-2**62, -2**31))
        bad = {name: y}
    elif kind == "extra":
        bad = {name + "_extra": x}
    err = assert_resume_refused(env, "fixed-8", rewrite(
        blob, arrays=bad if kind != "missing" else None, drop=[name] if kind == "missing" else (),
        redigest=redigest))
    assert "damaged checkpoint" in err


@fuzz(8)
@given(name=st.sampled_from(ARRAYS), kind=st.sampled_from(["int", "nan", "inf", "shape"]))
def test_float_phase_arrays_of_wrong_dtype_shape_or_value(env, name, kind):
    blob = env["checkpoints"]["float32"]
    x = read_npz_plain(blob)[name]
    bad = {"int": x.astype(np.int32), "shape": x.reshape(-1)[:-1],
           "nan": np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x).astype(np.float32),
           "inf": np.full_like(x, np.inf)}[kind]
    assert_resume_refused(env, "float32", rewrite(blob, arrays={name: bad}))


def test_an_in_range_edit_is_caught_by_the_digest(env):
    blob = env["checkpoints"]["fixed-8"]
    w0 = read_npz_plain(blob)["w0"]
    err = assert_resume_refused(env, "fixed-8", rewrite(
        blob, arrays={"w0": np.full_like(w0, 2**31 - 1)}, redigest="stale"))
    assert "does not match the digest" in err


STATE_DAMAGE = {
    "step": json_values | st.integers(-10, 10**6), "epoch": json_values | st.integers(-5, 99),
    "pos": json_values | st.integers(-5, 999), "mode": json_values,
    "widths": json_values, "w_frac": json_values | st.lists(st.integers(-70, 70), min_size=6,
                                                            max_size=6),
    "b_frac": json_values,
    "identity": json_values, "log": json_values, "acc": json_values, "policy": not_dicts,
    "tracer": json_values.filter(lambda v: v is not None and not (
        isinstance(v, dict) and isinstance(v.get("counts"), dict))),
}


@fuzz(30)
@given(field=st.sampled_from(sorted(STATE_DAMAGE)), redigest=st.booleans(), data=st.data())
def test_state_fields_of_wrong_type_range_or_consistency(env, field, redigest, data):
    blob = env["checkpoints"]["fixed-8"]
    old = json.loads(read_npz_plain(blob)["state"].tobytes())[field]
    new = data.draw(STATE_DAMAGE[field].filter(lambda v: v != old), label=field)
    assert_resume_refused(env, "fixed-8", rewrite(blob, state={field: new}, redigest=redigest))


not_numbers = json_values.filter(lambda v: not isinstance(v, (int, float)) or isinstance(v, bool))
NESTED = {("acc", "loss"): not_numbers, ("acc", "images"): json_values | st.integers(-9, 99),
          ("acc", "steps"): json_values | st.integers(-9, 99), ("acc", "tensors"): not_dicts,
          ("acc", "macs"): not_dicts, ("acc", "formats"): not_dicts,
          ("log", "epochs"): json_values, ("log", "complete"): json_values,
          ("log", "config"): json_values}


@fuzz(14)
@given(path=st.sampled_from(sorted(NESTED)), delete=st.booleans(), data=st.data())
def test_nested_state_fields(env, path, delete, data):
    blob = env["checkpoints"]["fixed-8"]
    state = json.loads(read_npz_plain(blob)["state"].tobytes())
    outer, key = path
    inner = dict(state[outer])
    if delete:
        del inner[key]
    else:
        inner[key] = data.draw(NESTED[path].filter(lambda v: v != state[outer][key]))
    assert_resume_refused(env, "fixed-8", rewrite(blob, state={outer: inner}))


@pytest.mark.parametrize("case", ["empty", "text", "no state", "state not JSON",
                                  "state not UTF-8", "a directory"])
def test_whole_checkpoint_damage(env, case):
    blob = env["checkpoints"]["fixed-8"]
    arrays = read_npz_plain(blob)
    if case == "a directory":
        with tempfile.TemporaryDirectory(dir=env["root"]) as tmp:
            (Path(tmp) / CHECKPOINT).mkdir()
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["train", "--policy", "fixed-8", "--epochs", "1", "--data",
                             str(env["data"]), "--backend", "numpy", "--no-progress",
                             "--out", tmp])
            assert_refused(code, err.getvalue(), command="train", names=Path(tmp) / CHECKPOINT)
        return
    bad = {"empty": b"", "text": b"checkpoint\n",
           "no state": npz_bytes({k: v for k, v in arrays.items() if k != "state"}),
           "state not JSON": npz_bytes({**arrays, "state": np.frombuffer(b"{", np.uint8)}),
           "state not UTF-8": npz_bytes({**arrays, "state": np.frombuffer(b"\xff", np.uint8)})}
    assert_resume_refused(env, "fixed-8", bad[case])


def test_read_only_run_folder(env, capsys):
    out = unwritable_dir(env["root"]) / "run"
    assert main(["train", "--policy", "fixed-8", "--epochs", "1", "--data", str(env["data"]),
                 "--backend", "numpy", "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write in" in err and str(out) in err, err


# -- datasets -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def archives(env):
    out = {}
    for mode in ("gz", "xz"):
        path = env["root"] / f"cifar-10-binary.tar.{mode}"
        with tarfile.open(path, f"w:{mode}") as tar:
            tar.add(env["data"], arcname="cifar-10-batches-bin")
        out[mode] = path.read_bytes()
    return Env(root="archives", **out)


@fuzz(20)
@given(mode=st.sampled_from(["gz", "xz"]), fraction=fractions, bit=bits, truncated=st.booleans())
def test_truncated_or_bit_flipped_dataset_archive(env, archives, mode, fraction, bit, truncated):
    blob = archives[mode]
    with tempfile.TemporaryDirectory(dir=env["root"]) as tmp:
        path = Path(tmp) / f"cifar-10-binary.tar.{mode}"
        path.write_bytes(truncate(blob, fraction) if truncated else flip(blob, fraction, bit))
        try:
            data = load_cifar10(path, cache_dir=Path(tmp) / "cache")
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith(str(path)), message
            assert ("damaged" in message and "download it again" in message
                    or "holds neither" in message), message
        else:   # the damage missed every byte a reader checks: the images are intact
            intact = load_cifar10(env["data"], cache_dir=Path(tmp) / "cache2")
            for k in ("train_x", "train_y", "test_x", "test_y"):
                assert np.array_equal(getattr(data, k), getattr(intact, k))


def test_train_on_a_truncated_archive_is_one_line(env, archives, capsys):
    with tempfile.TemporaryDirectory(dir=env["root"]) as tmp:
        path = Path(tmp) / "cifar-10-binary.tar.xz"
        path.write_bytes(archives["xz"][:len(archives["xz"]) // 2])
        out = Path(tmp) / "run"
        assert main(["train", "--policy", "fixed-8", "--epochs", "1", "--data", str(path),
                     "--backend", "numpy", "--no-progress", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "damaged or truncated archive" in err, err
        assert str(path) in err and not out.exists()
