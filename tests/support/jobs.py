"""A Hypothesis strategy of contract GEMM jobs over the whole range of formats."""

import numpy as np
from hypothesis import strategies as st

from golden import GemmJob


@st.composite
def jobs(draw, *, max_width=32, max_dim=6, max_k=8):
    aw, bw, ow = (draw(st.integers(2, max_width)) for _ in range(3))
    m, k, n = draw(st.integers(1, max_dim)), draw(st.integers(1, max_k)), draw(st.integers(1, max_dim))
    ints = lambda w, shape: draw(st.lists(st.lists(
        st.integers(-2 ** (w - 1), 2 ** (w - 1) - 1), min_size=shape[1], max_size=shape[1]),
        min_size=shape[0], max_size=shape[0]))
    af, bf = draw(st.integers(-8, 40)), draw(st.integers(-8, 40))
    return GemmJob(a=np.array(ints(aw, (m, k))), b=np.array(ints(bw, (k, n))),
                   a_width=aw, a_frac=af, b_width=bw, b_frac=bf, out_width=ow,
                   out_frac=draw(st.integers(-20, 60)),
                   rounding=draw(st.sampled_from([0, 1])), seed=draw(st.integers(0, 2**32 - 1)))
