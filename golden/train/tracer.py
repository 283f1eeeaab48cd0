"""``--trace``: the GEMM jobs of sampled training steps saved as contract job files."""

import os

import numpy as np


class Tracer:
    """Saves the GEMM jobs of sampled steps (the first step of every epoch) as contract job
    files, ``traces/w<W>/e<epoch>_s<step>_<layer>_<kind>.npz``, W = the array width
    max(a_width, b_width). Jobs are cropped to at most ``CROP`` = (M, K, N) so that files stay
    small: a crop is still a real job (real operands, formats, rounding and seed) whose result
    golden recomputes; it is not the full job's result."""
    CROP = (64, 512, 64)

    def __init__(self, root, *, cap):
        self.root, self.cap = root, cap
        self.counts = {}

    def save(self, epoch, step, jobs, ops):
        """The step's ``(GemmTask, GemmSpec)`` pairs, in the order they ran, as job files, while
        their width has fewer than ``cap``."""
        m, k, n = self.CROP
        for task, spec in jobs:
            width = max(spec.a_fmt.width, spec.b_fmt.width)
            if self.counts.get(str(width), 0) >= self.cap:
                continue
            a, b = task.operands.matrices(ops)
            job = spec.job(ops.to_host(a[:m, :k]).astype(np.int64),
                           ops.to_host(b[:k, :n]).astype(np.int64))
            folder = os.path.join(self.root, f"w{width}")
            os.makedirs(folder, exist_ok=True)
            job.save(os.path.join(folder, f"e{epoch}_s{step}_{task.layer}_{task.kind}.npz"))
            self.counts[str(width)] = self.counts.get(str(width), 0) + 1

    def state_dict(self):
        return {"counts": dict(self.counts)}

    def load_state_dict(self, s):
        self.counts = dict(s["counts"])
