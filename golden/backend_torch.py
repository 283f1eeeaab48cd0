"""The PyTorch backend: the same bits as ``NumpyBackend``, on CPU or GPU tensors.

Exact integers travel as float64 tensors. Accumulations that could pass 2**53 have no exact
float path here (int64 matmul is missing on GPUs), so such jobs are refused, loudly.
"""

import contextlib

import torch

from . import exact
from .formats import Rounding
from .prng import KEY, ROTATIONS

TWO32 = float(1 << 32)
MASK32 = 0xFFFFFFFF


class TorchBackend:
    name = "torch"

    def __init__(self, device=None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))

    # -- conversions ---------------------------------------------------------------------------
    def asarray(self, x, dtype=torch.float64):
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=dtype)
        return torch.as_tensor(x, device=self.device).to(dtype)

    @staticmethod
    def to_numpy(x):
        return x.detach().cpu().numpy()

    # -- the contract ---------------------------------------------------------------------------
    def prng_grid(self, seed, rows, cols, *, row0=0, col0=0):
        """``prng`` on a grid, as int64 tensors holding unsigned 32-bit words."""
        seed = int(seed) & MASK32
        m = (torch.arange(row0, row0 + rows, device=self.device, dtype=torch.int64) & MASK32)
        n = (torch.arange(col0, col0 + cols, device=self.device, dtype=torch.int64) & MASK32)
        x0 = (m ^ seed)[:, None].expand(rows, cols)
        x1 = (n ^ (seed ^ KEY))[None, :].expand(rows, cols)
        for r in ROTATIONS:
            x0 = (x0 + x1) & MASK32
            x1 = (((x1 << r) | (x1 >> (32 - r))) & MASK32) ^ x0
        return x0

    def matmul_exact(self, a, b, *, a_bound=None, b_bound=None):
        a_bound = _abs_max(a) if a_bound is None else a_bound
        b_bound = _abs_max(b) if b_bound is None else b_bound
        k = a.shape[1]
        how, chunk = exact.plan(k, a_bound, b_bound)
        if how == "exact":
            raise ValueError(
                f"the torch backend cannot accumulate this job exactly: K*max|a|*max|b| = "
                f"{k}*{a_bound}*{b_bound} exceeds 2**53; use the numpy backend")
        with _full_precision():
            if how == "float64":
                return torch.matmul(a.to(torch.float64), b.to(torch.float64))
            a32, b32 = a.to(torch.float32), b.to(torch.float32)
            if chunk >= k:
                return torch.matmul(a32, b32).to(torch.float64)
            acc = torch.zeros((a.shape[0], b.shape[1]), dtype=torch.float64, device=a.device)
            for k0 in range(0, k, chunk):
                acc += torch.matmul(a32[:, k0:k0 + chunk], b32[k0:k0 + chunk])
            return acc

    def round_shift(self, acc, shift, rounding, seed, *, row0=0, col0=0):
        v = acc * (2.0 ** -shift)  # a power of two in float64: exact, as np.ldexp
        if shift <= 0:
            return v
        return self.round_scaled(v, rounding, seed, row0=row0, col0=col0)

    def round_scaled(self, v, rounding, seed, *, row0=0, col0=0):
        if rounding == Rounding.NEAREST_EVEN:
            return torch.round(v)  # ties to even, as np.rint
        rows, cols = v.shape
        r = self.prng_grid(seed, rows, cols, row0=row0, col0=col0)
        y = torch.floor(v)
        f = (v - y) * TWO32
        return y + (f >= TWO32 - r.to(torch.float64)).to(torch.float64)

    def saturate(self, y, width):
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        n = int(torch.count_nonzero((y < lo) | (y > hi)))
        return (torch.clamp(y, lo, hi) if n else y), n

    def requantize(self, acc, shift, width, rounding, seed, *, row0=0, col0=0):
        nonzero = int(torch.count_nonzero(acc))
        y = self.round_shift(acc, shift, rounding, seed, row0=row0, col0=col0)
        y, saturated = self.saturate(y, width)
        return y, saturated, nonzero - int(torch.count_nonzero(y))

    def gemm(self, a, b, *, shift, out_width, rounding, seed, a_bound=None, b_bound=None):
        acc = self.matmul_exact(a, b, a_bound=a_bound, b_bound=b_bound)
        return self.requantize(acc, shift, out_width, rounding, seed)

    def quantize(self, x, *, frac, width, rounding, seed):
        x = self.asarray(x, torch.float64)
        v = x * (2.0 ** frac)
        flat = v.reshape(-1, v.shape[-1]) if v.dim() >= 2 else v.reshape(1, -1)
        q = self.round_scaled(flat, rounding, seed)
        q, saturated = self.saturate(q, width)
        underflow = int(torch.count_nonzero(x)) - int(torch.count_nonzero(q))
        return q.reshape(x.shape), saturated, underflow


def _abs_max(x):
    return 0 if x.numel() == 0 else int(torch.max(torch.abs(x.to(torch.float64))))


@contextlib.contextmanager
def _full_precision():
    """Forbid TF32 and other reduced-precision float32 GEMMs while an exact GEMM runs."""
    saved = torch.get_float32_matmul_precision(), torch.backends.cuda.matmul.allow_tf32
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(saved[0])
        torch.backends.cuda.matmul.allow_tf32 = saved[1]
