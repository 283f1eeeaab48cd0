"""The PyTorch backend: the same bits as ``NumpyBackend``, on CPU or GPU tensors.

Exact integers travel as float64 tensors. Accumulations that could pass 2**53 have no exact
float path here (int64 matmul is missing on GPUs), so such jobs are refused, loudly.
"""

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from . import exact, int8_gemm, prng_torch
from .backend_numpy import NumpyBackend, image_runs, may_saturate
from .formats import Rounding

TWO32 = float(1 << 32)


class TorchBackend:
    name = "torch"

    def __init__(self, device=None, *, fused=None, int8=True):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # Jobs that need float64 and whose operands fit 16 bits run as int8 pieces on
        # torch._int_mm (golden.int8_gemm: exact); int8=False keeps float64 (benchmarks).
        self.int8 = bool(int8)
        # On a CPU the element-wise passes (rounding, saturation, counting, the SGD step) run
        # as NumpyBackend's fused kernels on zero-copy views; fused=False keeps the tensor code
        # that a GPU runs, so that tests can check it on a CPU.
        if fused not in (None, True, False):
            raise ValueError(f"fused must be None, True or False, not {fused!r}")
        if fused and self.device.type != "cpu":
            raise ValueError(f"fused kernels run on the cpu only, not on {self.device}")
        self.fused = self.device.type == "cpu" if fused is None else fused

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
        return prng_torch.prng_grid(seed, rows, cols, row0=row0, col0=col0, device=self.device)

    def matmul_exact(self, a, b, *, a_bound=None, b_bound=None):
        a_bound = _abs_max(a) if a_bound is None else a_bound
        b_bound = _abs_max(b) if b_bound is None else b_bound
        k = a.shape[1]
        how, chunk = exact.plan(k, a_bound, b_bound)
        if how == "exact":
            raise ValueError(
                f"the torch backend cannot accumulate this job exactly: K*max|a|*max|b| = "
                f"{k}*{a_bound}*{b_bound} exceeds 2**53; use the numpy backend")
        if (up := self._int8_route(how, k, a, a_bound, b, b_bound)):
            return int8_gemm.int_matmul(a, b, a_bound=up[0], b_bound=up[1])
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

    def accumulate(self, a, b, *, a_bound, b_bound):
        """As ``NumpyBackend.accumulate``: exact ``a @ b``, float32 when one float32 GEMM is
        exact, float64 otherwise."""
        k = a.shape[1]
        how, chunk = exact.plan(k, a_bound, b_bound)
        if how != "float32":
            return self.matmul_exact(a, b, a_bound=a_bound, b_bound=b_bound)
        with _full_precision():
            a32, b32 = a.to(torch.float32), b.to(torch.float32)
            chunks = [(0, k)] if chunk >= k else exact.l1_chunks(
                _block_abs_sums(b32, chunk).cpu().numpy(), chunk, k, a_bound)
            if len(chunks) == 1:
                return torch.matmul(a32, b32)
            acc = torch.zeros((a.shape[0], b.shape[1]), dtype=torch.float64, device=a.device)
            for k0, k1 in chunks:
                acc += torch.matmul(a32[:, k0:k1], b32[k0:k1])
            return acc

    def conv(self, x, w, *, pad, a_bound, b_bound):
        """As ``NumpyBackend.conv``: exactly ``accumulate(im2col(x, pad), w)``. On the CPU, when
        one float32 GEMM would be exact, one direct float32 convolution is exact for the same
        reason (it forms the same products and sums them in some order) and skips the
        patches."""
        k, n = w.shape
        how, chunk = exact.plan(k, a_bound, b_bound)
        if (up := self._int8_route(how, k, x, a_bound, w, b_bound)):
            return int8_gemm.conv(x, w, pad=pad, a_bound=up[0], b_bound=up[1])
        if how == "float64" and self.device.type == "cpu":
            # NumPy's float64 GEMM over patch blocks: the same exact sums, 4-5x faster than
            # PyTorch's of the whole patch matrix (32x32x32 at batch 128, measured).
            return _on_numpy("conv", x, w, pad=pad, a_bound=a_bound, b_bound=b_bound)
        if how == "float32" and chunk >= k and self._direct_conv:
            with _exact_conv():
                y = F.conv2d(_nchw(x.to(torch.float32)), _kernel(w.to(torch.float32)),
                             padding=pad)
            return y.permute(0, 2, 3, 1).reshape(-1, n)
        return self.accumulate(im2col(x, pad)[0], w, a_bound=a_bound, b_bound=b_bound)

    def conv_weight(self, x, e, *, pad, a_bound, b_bound):
        """As ``NumpyBackend.conv_weight``: exactly ``accumulate(im2col(x, pad).T, e)``. On the
        CPU, as direct float32 weight-gradient convolutions over runs of whole images, each
        exact by the column-L1 bound of ``golden.exact``, summed in float64."""
        b, h, w, c = x.shape
        n = e.shape[1]
        ho, wo = h + 2 * pad - 2, w + 2 * pad - 2
        how, chunk = exact.plan(e.shape[0], a_bound, b_bound)
        if (up := self._int8_route(how, e.shape[0], x, a_bound, e, b_bound)):
            return int8_gemm.conv_weight(x, e, pad=pad, a_bound=up[0], b_bound=up[1])
        if how == "float64" and self.device.type == "cpu":
            return _on_numpy("conv_weight", x, e, pad=pad, a_bound=a_bound, b_bound=b_bound)
        runs = None
        if how == "float32" and self._direct_conv:
            runs = image_runs(e.reshape(b, ho * wo, n).numpy(), chunk, a_bound)
        if runs is None:
            return self.accumulate(im2col(x, pad)[0].T, e, a_bound=a_bound, b_bound=b_bound)
        x4, e4 = _nchw(x.to(torch.float32)), _nchw(e.to(torch.float32).reshape(b, ho, wo, n))
        with _exact_conv():
            parts = [torch.nn.grad.conv2d_weight(x4[i0:i1], (n, c, 3, 3), e4[i0:i1], padding=pad)
                     for i0, i1 in runs]
        acc = parts[0] if len(parts) == 1 else sum(p.to(torch.float64) for p in parts)
        return acc.permute(2, 3, 1, 0).reshape(9 * c, n)

    def _int8_route(self, how, k, a, a_bound, b, b_bound):
        """Upper bounds of the operands for ``golden.int8_gemm`` where a job planned as ``how``
        runs on int8 pieces (only where float64 would be exact: the integers convert
        exactly), else None."""
        if self.int8 and how == "float64":
            return int8_gemm.upper_bounds(k, a, a_bound, b, b_bound)
        return None

    @property
    def _direct_conv(self):
        # cuDNN may pick Winograd or FFT algorithms, which round; on a GPU the GEMM path runs.
        return self.device.type == "cpu" and torch.backends.mkldnn.is_available()

    def requantize_inplace(self, acc, shift, width, rounding, seed, *, acc_abs_max=None):
        """As ``NumpyBackend.requantize_inplace`` (the same bits as ``requantize``)."""
        if self.fused:
            return _on_numpy("requantize_inplace", acc, shift, width, rounding, seed,
                             acc_abs_max=acc_abs_max)
        nonzero = count_nonzero(acc)
        if (acc.dtype == torch.float32 and rounding == Rounding.NEAREST_EVEN and width <= 24
                and abs(shift) <= 100):
            # float32 throughout, exact for the reasons given in NumpyBackend.
            if shift:
                acc.mul_(2.0 ** -shift)
            y = acc.round_() if shift > 0 else acc  # ties to even, as np.rint
        else:
            y = self.round_shift(acc.to(torch.float64), shift, rounding, seed)
        if acc_abs_max is None or may_saturate(acc_abs_max, shift, width):
            y, saturated = self.saturate(y, width)
        else:
            saturated = 0
        return y, saturated, nonzero - count_nonzero(y)

    def round_shift(self, acc, shift, rounding, seed, *, row0=0, col0=0):
        v = acc * (2.0 ** -shift)  # a power of two in float64: exact, as np.ldexp
        if shift <= 0:
            return v
        return self.round_scaled(v, rounding, seed, row0=row0, col0=col0)

    def round_scaled(self, v, rounding, seed, *, row0=0, col0=0):
        if self.fused:
            return _on_numpy("round_scaled", v, rounding, seed, row0=row0, col0=col0)
        if rounding == Rounding.NEAREST_EVEN:
            return torch.round(v)  # ties to even, as np.rint
        rows, cols = v.shape
        r = self.prng_grid(seed, rows, cols, row0=row0, col0=col0).to(torch.float64)
        y = torch.floor(v)
        up = torch.where(y == -1, v * TWO32 >= -r, (v - y) * TWO32 >= TWO32 - r)
        return y + up.to(torch.float64)

    @staticmethod
    def saturate(y, width):
        """Clamp to ``width`` bits; returns the clamped values and how many were clamped."""
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        if y.numel() == 0:
            return y, 0
        mn, mx = torch.aminmax(y)  # one pass; the counting passes only when something clamps
        if mn.item() >= lo and mx.item() <= hi:
            return y, 0
        return torch.clamp(y, lo, hi), count_nonzero((y < lo) | (y > hi))

    def requantize(self, acc, shift, width, rounding, seed, *, row0=0, col0=0):
        if self.fused:
            return _on_numpy("requantize", acc, shift, width, rounding, seed, row0=row0,
                             col0=col0)
        nonzero = count_nonzero(acc)
        y = self.round_shift(acc, shift, rounding, seed, row0=row0, col0=col0)
        y, saturated = self.saturate(y, width)
        return y, saturated, nonzero - count_nonzero(y)

    def gemm(self, a, b, *, shift, out_width, rounding, seed, a_bound=None, b_bound=None):
        acc = self.matmul_exact(a, b, a_bound=a_bound, b_bound=b_bound)
        return self.requantize(acc, shift, out_width, rounding, seed)

    def quantize(self, x, *, frac, width, rounding, seed):
        x = self.asarray(x, torch.float64)
        if self.fused:
            return _on_numpy("quantize", x, frac=frac, width=width, rounding=rounding, seed=seed)
        v = x * (2.0 ** frac)
        flat = v.reshape(-1, v.shape[-1]) if v.dim() >= 2 else v.reshape(1, -1)
        q = self.round_scaled(flat, rounding, seed)
        q, saturated = self.saturate(q, width)
        underflow = count_nonzero(x) - count_nonzero(q)
        return q.reshape(x.shape), saturated, underflow


def im2col(x, pad):
    """As ``backend_numpy.im2col``, on a tensor."""
    b, h, w, c = x.shape
    ho, wo = h + 2 * pad - 2, w + 2 * pad - 2
    if pad:
        x = F.pad(x, (0, 0, pad, pad, pad, pad))
    win = x.unfold(1, 3, 1).unfold(2, 3, 1)  # (B, Ho, Wo, C, ky, kx)
    return win.permute(0, 1, 2, 4, 5, 3).reshape(b * ho * wo, 9 * c), (b, ho, wo)


def count_nonzero(x):
    """How many entries of ``x`` are nonzero, as a Python int (on a CPU by NumPy: 3x faster)."""
    if x.device.type == "cpu":
        return int(np.count_nonzero(x.numpy()))
    return int(torch.count_nonzero(x))


def _on_numpy(op, *args, **kw):
    """``NumpyBackend().op`` on zero-copy NumPy views of CPU tensors; the array it returns (or
    the first item of a tuple) comes back as a tensor."""
    out = getattr(NumpyBackend(), op)(
        *(a.numpy() if isinstance(a, torch.Tensor) else a for a in args), **kw)
    if isinstance(out, tuple):
        return (torch.from_numpy(out[0]),) + out[1:]
    return torch.from_numpy(out)


def _nchw(x):
    """An NHWC tensor as the NCHW view that convolutions take (channels-last memory)."""
    return x.permute(0, 3, 1, 2)


def _kernel(w):
    """A (9*C, N) weight matrix, rows in (ky, kx, c) order, as an (N, C, 3, 3) kernel."""
    return w.reshape(3, 3, w.shape[0] // 9, w.shape[1]).permute(3, 2, 0, 1)


def _block_abs_sums(b, block):
    """As ``backend_numpy._block_abs_sums``."""
    k = b.shape[0]
    whole = k - k % block
    sums = b[:whole].abs().reshape(whole // block, block, b.shape[1]).sum(dim=1,
                                                                          dtype=torch.float64)
    if whole < k:
        sums = torch.cat([sums, b[whole:].abs().sum(dim=0, dtype=torch.float64)[None]])
    return sums


def _abs_max(x):
    return 0 if x.numel() == 0 else int(torch.max(torch.abs(x.to(torch.float64))))


@contextlib.contextmanager
def _exact_conv():
    """Convolutions as direct sums (oneDNN's direct algorithm or im2col GEMMs): NNPACK, which
    may pick Winograd or FFT algorithms that round, is switched off, and float32 stays float32."""
    with _full_precision(), torch.backends.nnpack.flags(enabled=False):
        yield


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
