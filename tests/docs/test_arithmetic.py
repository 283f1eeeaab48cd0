"""The worked examples of docs/arithmetic.md, checked against the golden model."""

import re

import numpy as np
import pytest

from golden import GemmJob, gemm
from tests.support.paths import REPO

DOC = REPO / "docs" / "arithmetic.md"


def examples():
    text = DOC.read_text().split("<!-- examples: checked by tests/docs/test_arithmetic.py -->")[1]
    rows = [line.strip("|").split("|") for line in text.strip().splitlines()[2:]]
    assert len(rows) >= 10
    return [pytest.param(*[c.strip() for c in row], id=row[0].strip()) for row in rows]


@pytest.mark.parametrize("case, acc, s, rounding, seed, pos, out_width, y, saturated, underflow",
                         examples())
def test_worked_example(case, acc, s, rounding, seed, pos, out_width, y, saturated, underflow):
    acc, s = int(acc), int(s)
    m, n = map(int, re.fullmatch(r"\((\d+), (\d+)\)", pos).groups())
    # acc = q * 2**t with q within 32 bits; b carries the 2**t at column n.
    t = max(0, abs(acc).bit_length() - 31)
    assert acc % 2 ** t == 0
    a = np.zeros((m + 1, 1), dtype=np.int64)
    a[m, 0] = acc >> t
    b = np.zeros((1, n + 1), dtype=np.int64)
    b[0, n] = 2 ** t
    job = GemmJob(a=a, b=b, a_width=32, a_frac=s, b_width=32, b_frac=0,
                  out_width=int(out_width), out_frac=0,
                  rounding={"nearest-even": 0, "stochastic": 1}[rounding], seed=int(seed))
    for backend in ("numpy", "torch"):
        r = gemm(job, backend=backend, device="cpu")
        assert (int(r.y[m, n]), r.saturated, r.underflow) == \
            (int(y), int(saturated), int(underflow)), backend
