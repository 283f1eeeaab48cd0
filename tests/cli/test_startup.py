"""The command line starts fast: heavy libraries load only when a command needs them.

Measured in fresh interpreters (``sys.modules`` after the command); the start-up time itself is
measured with ``python -X importtime`` and farm-bench (README), never asserted here.
"""

import json
import subprocess
import sys

import numpy as np

from golden import GemmJob
from tests.support.paths import REPO

HEAVY = ("torch", "numba", "cocotb", "cocotb_tools", "amaranth", "matplotlib")
PROBE = """
import json, sys
from flows.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(json.dumps([status, sorted(m for m in {heavy} if m in sys.modules)]))
"""


def loaded(*argv):
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_help_loads_no_heavy_library():
    assert loaded("--help") == [0, []]
    assert loaded("train", "--help") == [0, []]


def test_gemm_on_numpy_loads_numba_only_for_large_outputs(tmp_path):
    """A 64x64 output is requantized as array code; past ``golden.fused.SMALL`` values the
    numba kernel is worth its loading time."""
    from golden.fused import SMALL
    rng = np.random.default_rng(1)
    for n, heavy in ((64, []), (int(SMALL ** 0.5) + 1, ["numba"])):
        GemmJob(a=rng.integers(-128, 128, (n, 64)), b=rng.integers(-128, 128, (64, n)),
                a_width=8, a_frac=0, b_width=8, b_frac=0, out_width=8, out_frac=4).save(
            tmp_path / "job.npz")
        assert loaded("gemm", str(tmp_path / "job.npz"), "--backend", "numpy", "--out",
                      str(tmp_path / "r.npz")) == [0, heavy]
