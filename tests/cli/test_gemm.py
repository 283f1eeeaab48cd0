"""``varimac gemm``: result files equal across backends, and bad jobs refused cleanly."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings

from flows.cli import main
from golden import GemmResult
from tests.support.jobs import jobs

SCALARS = dict(a_width=8, a_frac=4, b_width=8, b_frac=4, out_width=8, out_frac=4, rounding=1,
               seed=123)


def write_job(path, **overrides):
    fields = {"a": np.array([[1, -2, 3], [4, 5, -6]]), "b": np.array([[1], [2], [3]])}
    fields.update({k: np.int64(v) for k, v in SCALARS.items()})
    fields.update(overrides)
    np.savez(path, **{k: v for k, v in fields.items() if v is not None})
    return path


def test_end_to_end_console_script(tmp_path):
    job = write_job(tmp_path / "job.npz")
    out = tmp_path / "result.npz"
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "gemm", str(job), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with np.load(out) as f:
        assert sorted(f.files) == ["saturated", "underflow", "y"]
        assert f["y"].dtype == np.int64 and f["y"].shape == (2, 1)
        assert f["saturated"].ndim == 0


@settings(max_examples=25, deadline=None)
@given(jobs(max_width=24))
def test_both_backends_write_identical_result_files(tmp_path_factory, j):
    tmp = tmp_path_factory.mktemp("gemm")
    j.save(tmp / "job.npz")
    assert main(["gemm", str(tmp / "job.npz"), "--out", str(tmp / "numpy.npz")]) == 0
    assert main(["gemm", str(tmp / "job.npz"), "--backend", "torch", "--device", "cpu",
                 "--out", str(tmp / "torch.npz")]) == 0
    a, b = np.load(tmp / "numpy.npz"), np.load(tmp / "torch.npz")
    assert all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a.files)


def test_accepts_any_integer_dtype(tmp_path):
    job = write_job(tmp_path / "job.npz", a=np.array([[1, -2, 3]], dtype=np.int8),
                    b=np.array([[1], [2], [3]], dtype=np.uint16), a_frac=np.int64(0),
                    b_frac=np.int64(0), out_frac=np.int64(0))
    assert main(["gemm", str(job), "--out", str(tmp_path / "r.npz")]) == 0
    assert GemmResult.load(tmp_path / "r.npz").y.tolist() == [[1 - 4 + 9]]


BAD = {
    "missing field": (dict(seed=None), "missing field(s) seed"),
    "out-of-range operand": (dict(a=np.array([[1, 200, 3]])), "a[0, 1] = 200 is out of range for Q(8,4): allowed [-128, 127]"),
    "width below 2": (dict(a_width=np.int64(1)), "a_width must be in [2, 32], not 1"),
    "width above 32": (dict(out_width=np.int64(33)), "out_width must be in [2, 32], not 33"),
    "mismatched shapes": (dict(b=np.array([[1], [2]])), "a is 2x3 and b is 2x1: a's columns must equal b's rows"),
    "non-integer array": (dict(a=np.array([[1.0, 2.0, 3.0]])), "a must be an array of integers, not float64"),
    "seed above 32 bits": (dict(seed=np.int64(2 ** 32)), "seed must be in [0, 4294967295], not 4294967296"),
    "negative seed": (dict(seed=np.int64(-5)), "seed must be in [0, 4294967295], not -5"),
    "scalar not 0-d": (dict(rounding=np.array([0, 1])), "rounding must be a 0-d integer array"),
    "bad rounding": (dict(rounding=np.int64(3)), "rounding must be 0 (nearest-even) or 1 (stochastic), not 3"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_job_exits_2_with_one_line_and_no_result(tmp_path, capsys, case):
    overrides, message = BAD[case]
    job = write_job(tmp_path / "job.npz", **overrides)
    out = tmp_path / "result.npz"
    assert main(["gemm", str(job), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("varimac gemm: error:")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["job.npz"]


def test_missing_and_corrupt_files(tmp_path, capsys):
    assert main(["gemm", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "r.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_text("not a zip")
    assert main(["gemm", str(tmp_path / "junk.npz"), "--out", str(tmp_path / "r.npz")]) == 2
    assert "not a job file: not an .npz archive" in capsys.readouterr().err
    assert main(["gemm", str(write_job(tmp_path / "j.npz")), "--out",
                 str(tmp_path / "no" / "r.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.npz").exists()


def test_torch_refusal_is_a_clean_error(tmp_path, capsys):
    big = np.full((1, 3), -2 ** 31)
    job = write_job(tmp_path / "job.npz", a=big, b=np.full((3, 1), -2 ** 31),
                    a_width=np.int64(32), b_width=np.int64(32))
    out = tmp_path / "r.npz"
    assert main(["gemm", str(job), "--backend", "torch", "--device", "cpu", "--out", str(out)]) == 2
    assert "torch backend refused" in capsys.readouterr().err and not out.exists()


def test_unknown_backend_is_an_argparse_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gemm", str(write_job(tmp_path / "j.npz")), "--backend", "fpga", "--out", "x.npz"])
    assert exc.value.code == 2 and "invalid choice: 'fpga'" in capsys.readouterr().err
