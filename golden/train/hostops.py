"""The host operations of fixed-point training, bit-exact on both backends (docs/training.md).

Every value here is an integer: GEMM operands and results travel as float32/float64 arrays that
hold exact integers (|v| < 2**24 for float32), the parameter state as int64. Each operation is
exact integer arithmetic (gather, compare, select, add, shift) or the contract's rounding, so
NumPy and PyTorch give the same bits. ``NumpyOps`` and ``TorchOps`` implement the same methods,
those that read the same on both array modules once, in ``_Ops``; ``host_ops(backend)`` picks
one.

Layouts: images and feature maps are NHWC; im2col rows are (image, y, x) and columns
(ky, kx, channel), so a conv weight matrix is (9*Cin, Cout) with rows in (ky, kx, cin) order.
"""

import numpy as np

from . import kernels
from ..backend_numpy import NumpyBackend, im2col


def host_ops(backend):
    return TorchOps(backend.device, fused=backend.fused) if backend.name == "torch" else NumpyOps()


class _Ops:
    """The operations written once for both array modules (``xp``: numpy or torch)."""
    xp = None

    @staticmethod
    def transpose(x):
        return x.T

    @staticmethod
    def positive(x):
        return x > 0

    @staticmethod
    def mask(x, m):
        """``x`` where ``m``, else 0 (``x`` is given up: the CPU paths write into it)."""
        return x * m

    # -- max-pool 2x2 (floor: an odd last row/column is dropped) -----------------------------
    def maxpool(self, x):
        """Returns the pooled map and the routing mask: in each window the first maximum in the
        order (0,0), (0,1), (1,0), (1,1), and only where it is positive (ReLU came before)."""
        xp = self.xp
        b, h, w, c = x.shape
        h2, w2 = h // 2, w // 2
        xr = x[:, :2 * h2, :2 * w2, :].reshape(b, h2, 2, w2, 2, c)
        # Two element-wise maxima of strided views: several times faster than a reduction
        # over the window axes.
        y = xp.maximum(xp.maximum(xr[:, :, 0, :, 0], xr[:, :, 0, :, 1]),
                       xp.maximum(xr[:, :, 1, :, 0], xr[:, :, 1, :, 1]))
        eq = xr == y[:, :, None, :, None, :]
        first = xp.empty_like(eq)
        taken = xp.zeros_like(eq[:, :, 0, :, 0, :])
        for i in (0, 1):
            for j in (0, 1):
                first[:, :, i, :, j, :] = eq[:, :, i, :, j, :] & ~taken
                taken |= eq[:, :, i, :, j, :]
        first &= (y > 0)[:, :, None, :, None, :]
        return y, first

    def maxpool_backward(self, d, route, shape):
        """The pooled map's gradient ``d`` routed back to the maxima, in the pre-pool
        ``shape``."""
        xp = self.xp
        b, h, w, c = shape
        h2, w2 = d.shape[1], d.shape[2]
        g = (d[:, :, None, :, None, :] * route).reshape(b, 2 * h2, 2 * w2, c)
        if h > 2 * h2:  # the dropped last row and column get no gradient
            g = xp.concatenate([g, xp.zeros_like(g[:, :1])], axis=1)
        if w > 2 * w2:
            g = xp.concatenate([g, xp.zeros_like(g[:, :, :1])], axis=2)
        return g

    # -- int64 state ----------------------------------------------------------------------------
    @staticmethod
    def round_shift(x, s):
        """``golden.ops.round_shift`` to nearest, ties to even, of int64 ``x`` (``x * 2**-s``
        when s <= 0), for |x| < 2**62. With x = q * 2**s + r: floor((x + 2**(s-1) - 1 + (q & 1)) / 2**s) is q for
        r below the half, q + 1 above it, and at the half q + (q & 1), the even one."""
        if s <= 0:
            return x << -s
        return (x + (((x >> s) & 1) + ((1 << (s - 1)) - 1))) >> s


class NumpyOps(_Ops):
    name = "numpy"
    xp = np
    fused = True

    # -- conversion -------------------------------------------------------------------------
    @staticmethod
    def from_host(x, dtype=None):
        return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)

    @staticmethod
    def to_host(x):
        return np.asarray(x)

    @staticmethod
    def f32(x):
        return x.astype(np.float32, copy=False)

    @staticmethod
    def f64(x):
        return x.astype(np.float64, copy=False)

    @staticmethod
    def i64(x):
        return x.astype(np.int64)

    # -- reductions (exact, returned as Python ints) ------------------------------------------
    @staticmethod
    def abs_max(x):
        return 0 if x.size == 0 else int(max(-x.min(), x.max()))

    @staticmethod
    def nonzero(x):
        return int(np.count_nonzero(x))

    @staticmethod
    def size(x):
        return int(x.size)

    @staticmethod
    def exponent_histogram(x, lo, hi):
        """Counts of ``e`` with ``2**(e-1) <= |v| < 2**e`` over the nonzero ``v``, e in [lo, hi]."""
        v = x[x != 0]
        _, e = np.frexp(np.abs(v.astype(np.float64)))
        return np.bincount(np.clip(e, lo, hi) - lo, minlength=hi - lo + 1).tolist()

    # -- convolution layout -------------------------------------------------------------------
    @staticmethod
    def im2col(x, pad):
        """(B, H, W, C) -> (B*Ho*Wo, 9*C) for 3x3 windows at stride 1, zero padding ``pad``;
        columns in (ky, kx, c) order. Returns the matrix and (B, Ho, Wo)."""
        return im2col(x, pad)

    @staticmethod
    def flip_kernel(w, cin, cout):
        """(9*Cin, Cout) -> (9*Cout, Cin): the weights of the backward-data convolution."""
        return np.ascontiguousarray(
            w.reshape(3, 3, cin, cout)[::-1, ::-1].transpose(0, 1, 3, 2).reshape(9 * cout, cin))

    # -- element-wise -------------------------------------------------------------------------
    @staticmethod
    def relu(x):
        return np.maximum(x, 0, out=x)

    @staticmethod
    def mask(x, m):
        return np.multiply(x, m, out=x)

    @staticmethod
    def maxpool(x):
        return kernels.maxpool(x)

    @staticmethod
    def maxpool_backward(d, route, shape):
        return kernels.maxpool_backward(d, route, shape)

    saturate = staticmethod(NumpyBackend.saturate)  # x is given up: clamped in place

    @staticmethod
    def col_sum(x):
        return x.sum(axis=0, dtype=np.float64)  # exact: |sum| < 2**53

    # -- int64 state ---------------------------------------------------------------------------
    @staticmethod
    def clamp_int(x, bound):
        """Clamp int64 to [-bound, bound]; returns (x, how many were clamped)."""
        n = int(np.count_nonzero((x > bound) | (x < -bound)))
        return (np.clip(x, -bound, bound) if n else x), n

    @staticmethod
    def int_abs_max(x):
        return 0 if x.size == 0 else int(np.abs(x).max())


class TorchOps(_Ops):
    name = "torch"

    def __init__(self, device, *, fused):
        import torch
        self.torch = self.xp = torch
        self.device = device
        # CPU tensors: the element-wise work as NumPy and fused kernels on zero-copy views
        self.fused = fused

    def from_host(self, x, dtype=None):
        t = self.torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        return t if dtype is None else t.to(_torch_dtype(self.torch, dtype))

    @staticmethod
    def to_host(x):
        return x.detach().cpu().numpy()

    def f32(self, x):
        return x.to(self.torch.float32)

    def f64(self, x):
        return x.to(self.torch.float64)

    def i64(self, x):
        return x.to(self.torch.int64)

    def abs_max(self, x):
        if x.numel() == 0:
            return 0
        lo, hi = self.torch.aminmax(x)  # one pass
        return int(max(-lo.item(), hi.item()))

    @staticmethod
    def nonzero(x):
        from ..backend_torch import count_nonzero
        return count_nonzero(x)

    @staticmethod
    def size(x):
        return int(x.numel())

    def exponent_histogram(self, x, lo, hi):
        v = x[x != 0].to(self.torch.float64).abs()
        _, e = self.torch.frexp(v)
        e = self.torch.clamp(e.to(self.torch.int64), lo, hi) - lo
        return self.torch.bincount(e, minlength=hi - lo + 1).tolist()

    @staticmethod
    def im2col(x, pad):
        from ..backend_torch import im2col
        return im2col(x, pad)

    def flip_kernel(self, w, cin, cout):
        return (w.reshape(3, 3, cin, cout).flip(0, 1).permute(0, 1, 3, 2)
                .reshape(9 * cout, cin).contiguous())

    def relu(self, x):
        return x.clamp_(min=0)

    def mask(self, x, m):
        if self.fused:  # NumPy's in-place product with a bool mask: 8x faster than torch's
            np.multiply(x.numpy(), m.numpy(), out=x.numpy())
            return x
        return x * m

    def maxpool(self, x):
        if self.fused:
            y, route = kernels.maxpool(x.numpy())
            return self.torch.from_numpy(y), self.torch.from_numpy(route)
        return super().maxpool(x)

    def maxpool_backward(self, d, route, shape):
        if self.fused:
            return self.torch.from_numpy(kernels.maxpool_backward(d.numpy(), route.numpy(), shape))
        return super().maxpool_backward(d, route, shape)

    @staticmethod
    def saturate(x, width):
        from ..backend_torch import TorchBackend
        return TorchBackend.saturate(x, width)

    def col_sum(self, x):
        if x.device.type == "cpu":  # NumPy's column sum: 6x faster than torch's on a CPU
            return self.torch.from_numpy(np.add.reduce(x.numpy(), axis=0, dtype=np.float64))
        return x.to(self.torch.float64).sum(dim=0)

    def clamp_int(self, x, bound):
        n = self.nonzero((x > bound) | (x < -bound))
        return (self.torch.clamp(x, -bound, bound) if n else x), n

    @staticmethod
    def int_abs_max(x):
        return 0 if x.numel() == 0 else int(x.abs().max())


def _torch_dtype(torch, dtype):
    return {np.float32: torch.float32, np.float64: torch.float64, np.int64: torch.int64,
            bool: torch.bool, np.bool_: torch.bool}[dtype]
