"""Fuzz: damaged job files given to ``varimac gemm`` and ``varimac power --jobs``.

Each case: exit 2, one line naming the job file, no result written, the job untouched. A bit
flip that leaves the archive meaning the same job (a flip in a zip header field no reader
checks) is the one other outcome allowed: the result is then the intact job's, bit for bit.
"""

import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.cli import main
from golden.contract import SCALARS
from tests.support.damage import (assert_refused, bad_array, bits, flip, fractions, fuzz,
    non_int_scalar, npz_bytes, read_npz_plain, snapshot, truncate, unwritable_dir,
    zip_with_bad_crc)

JOB = {"a": np.array([[1, -2, 3], [4, 5, -6]]), "b": np.array([[1], [2], [3]]),
       **{k: np.int64(v) for k, v in dict(a_width=8, a_frac=0, b_width=8, b_frac=0,
                                          out_width=16, out_frac=0, rounding=0,
                                          seed=7).items()}}
GOOD = npz_bytes(JOB)
OUT_OF_RANGE = {"a_width": [1, 33, -8, 2**40], "b_width": [0, 64], "out_width": [1, 100],
                "rounding": [2, -1, 7], "seed": [-1, 2**32, 2**62], "a_frac": [2**20, -2**20],
                "out_frac": [2**30]}


def gemm(data, *, out_name="result.npz", extra=()):
    """Run ``varimac gemm`` in-process on a job file holding ``data``; returns (code, err,
    job path, folder snapshot before, after)."""
    import contextlib
    import io
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.npz"
        job.write_bytes(data)
        before = snapshot(tmp)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["gemm", str(job), "--out", str(Path(tmp) / out_name), *extra])
        after = snapshot(tmp)
    return code, err.getvalue(), job, before, after


def assert_gemm_refused(data, **kw):
    code, err, job, before, after = gemm(data, **kw)
    assert_refused(code, err, command="gemm", names=job)
    assert after == before   # no result, no temporary file, the job's bytes unchanged


def _intact():
    code, err, _, _, after = gemm(GOOD)
    assert code == 0, err
    assert set(after) == {"job.npz", "result.npz"}
    return read_npz_plain(after["result.npz"])


INTACT = _intact()


def test_the_intact_job_runs_and_its_result_has_the_users_mode():
    assert INTACT["y"].tolist() == [[1 - 4 + 9], [4 + 10 - 18]]
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.npz"
        job.write_bytes(GOOD)
        old = os.umask(0o027)
        try:
            assert main(["gemm", str(job), "--out", str(Path(tmp) / "r.npz")]) == 0
        finally:
            os.umask(old)
        assert (Path(tmp) / "r.npz").stat().st_mode & 0o777 == 0o640


def test_the_intact_job_folder_is_accepted_by_power():
    from flows.eda.power_plan import trace_jobs
    from hw.config import AccelConfig
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "w8").mkdir()
        (Path(tmp) / "w8" / "j.npz").write_bytes(GOOD)
        assert [j.shape for j in trace_jobs(tmp, AccelConfig.preset("small"), per_width=1)[8]] \
            == [(2, 3, 1)]


@fuzz(30)
@given(fraction=fractions)
def test_truncated_job(fraction):
    assert_gemm_refused(truncate(GOOD, fraction))


@fuzz(30)
@given(fraction=fractions, bit=bits)
def test_bit_flipped_job(fraction, bit):
    damaged = flip(GOOD, fraction, bit)
    code, err, job, before, after = gemm(damaged)
    if code == 0:   # a flip that no reader sees: the job is still the same job
        assert read_npz_plain(after["result.npz"]).keys() == INTACT.keys()
        for k, v in read_npz_plain(after["result.npz"]).items():
            assert v.dtype == INTACT[k].dtype and np.array_equal(v, INTACT[k])
        assert after["job.npz"] == damaged
    else:
        assert_refused(code, err, command="gemm", names=job)
        assert after == before


@fuzz(18)   # every (operand, bad array) pair
@given(name=st.sampled_from(["a", "b"]), data=st.data())
def test_wrong_operand(name, data):
    value = data.draw(bad_array(JOB[name].shape))
    assert_gemm_refused(npz_bytes({**JOB, name: value}))


@fuzz(25)
@given(name=st.sampled_from(["a", "b"]), data=st.data())
def test_operand_out_of_range_or_mismatched(name, data):
    shape = JOB[name].shape
    kind = data.draw(st.sampled_from(["range", "shape"]))
    if kind == "range":   # a value beyond the 8-bit format
        value = JOB[name].copy()
        value[data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1))] \
            = data.draw(st.integers(128, 2**62) | st.integers(-2**62, -129))
    else:                 # K of a no longer matching K of b
        d = data.draw(st.integers(1, 3))
        value = np.ones((shape[0], shape[1] + d) if name == "a" else (shape[0] + d, shape[1]),
                        np.int64)
    assert_gemm_refused(npz_bytes({**JOB, name: value}))


@fuzz(30)
@given(name=st.sampled_from(SCALARS), data=st.data())
def test_wrong_scalar(name, data):
    kind = data.draw(st.sampled_from(["missing", "not 0-d int", "out of range", "extra"]))
    job = dict(JOB)
    if kind == "missing":
        del job[name]
    elif kind == "not 0-d int":
        job[name] = data.draw(non_int_scalar)
    elif kind == "out of range" and name in OUT_OF_RANGE:
        job[name] = np.int64(data.draw(st.sampled_from(OUT_OF_RANGE[name])))
    else:
        job[name + "_extra"] = np.int64(1)
    assert_gemm_refused(npz_bytes(job))


@pytest.mark.parametrize("data", [b"", b"a text file, not an archive\n", GOOD[:-22],
                                  zip_with_bad_crc(GOOD)],
                         ids=["empty", "text", "no-central-directory", "bad-crc"])
def test_whole_file_damage(data):
    assert_gemm_refused(data)


def test_plain_npy_and_pickled_members():
    import io
    buf = io.BytesIO()
    np.save(buf, JOB["a"])
    assert_gemm_refused(buf.getvalue())
    code, err, job, _, _ = gemm(npz_bytes({**JOB, "a": np.array([1, None], dtype=object)}))
    assert_refused(code, err, command="gemm", names=job)
    assert "pickled" in err and "never loads" in err


def test_outputs_that_would_destroy_or_cannot_be_written(tmp_path, capsys):
    job = tmp_path / "job.npz"
    job.write_bytes(GOOD)
    (tmp_path / "dir").mkdir()
    os.link(job, tmp_path / "hardlink.npz")
    cases = {str(job): "is the input", str(tmp_path / "hardlink.npz"): "is the input",
             str(tmp_path / "dir"): "is a directory",
             str(tmp_path / "nowhere" / "r.npz"): "does not exist",
             str(job) + "/r.npz": "is not a directory"}
    for out, message in cases.items():
        assert main(["gemm", str(job), "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and out in err, err
    assert job.read_bytes() == GOOD and sorted(os.listdir(tmp_path)) == [
        "dir", "hardlink.npz", "job.npz"]


def test_output_in_a_folder_that_cannot_be_written(tmp_path, capsys):
    job = tmp_path / "job.npz"
    job.write_bytes(GOOD)
    out = unwritable_dir(tmp_path) / "r.npz"
    assert main(["gemm", str(job), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write in" in err and str(out) in err, err
    assert not out.exists()


def test_cuda_where_there_is_none(tmp_path, capsys):
    import torch
    job = tmp_path / "job.npz"
    job.write_bytes(GOOD)
    code = main(["gemm", str(job), "--backend", "torch", "--device", "cuda",
                 "--out", str(tmp_path / "r.npz")])
    err = capsys.readouterr().err
    if torch.cuda.is_available():
        assert code == 0, err
    else:
        assert code == 2 and err.count("\n") == 1 and "CUDA is not available" in err, err
        assert not (tmp_path / "r.npz").exists()


@pytest.mark.parametrize("device", ["nonsense", "cuda:99", "tpu"])
def test_devices_that_do_not_exist(tmp_path, capsys, device):
    job = tmp_path / "job.npz"
    job.write_bytes(GOOD)
    code = main(["gemm", str(job), "--backend", "torch", "--device", device,
                 "--out", str(tmp_path / "r.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and device in err, err
    assert not (tmp_path / "r.npz").exists()


# -- power --jobs -------------------------------------------------------------------------------
def power_jobs(data):
    """``varimac power --jobs`` on a folder whose one 8-bit job file holds ``data``; the flow
    itself is replaced by a stub that fails the test if reached."""
    import contextlib
    import io
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "jobs" / "w8" / "e0_s0_conv1_forward.npz"
        bad.parent.mkdir(parents=True)
        bad.write_bytes(data)
        before = snapshot(tmp)
        err = io.StringIO()
        with mock.patch("flows.eda.liberty.liberty_source"), \
                mock.patch("flows.eda.tools.find_tool", return_value="tool"), \
                mock.patch("flows.eda.power.run_power", side_effect=AssertionError("not refused")), \
                contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["power", "--jobs", str(Path(tmp) / "jobs"), "--out",
                         str(Path(tmp) / "out"), "--no-progress"])
        assert_refused(code, err.getvalue(), command="power", names=bad)
        assert snapshot(tmp) == before


@fuzz(25)
@given(data=st.data())
def test_power_jobs_with_damaged_files(data):
    kind = data.draw(st.sampled_from(["truncated", "float operand", "wrong scalar", "missing"]))
    if kind == "truncated":
        power_jobs(truncate(GOOD, data.draw(fractions)))
    elif kind == "float operand":
        name = data.draw(st.sampled_from(["a", "b"]))
        power_jobs(npz_bytes({**JOB, name: JOB[name] + data.draw(st.sampled_from([0.5, 0.0]))}))
    elif kind == "wrong scalar":
        power_jobs(npz_bytes({**JOB, data.draw(st.sampled_from(SCALARS)):
                              data.draw(non_int_scalar)}))
    else:
        gone = data.draw(st.sampled_from(sorted(JOB)))
        power_jobs(npz_bytes({k: v for k, v in JOB.items() if k != gone}))
