"""The GEMMs of a training step: how the engine poses each one (``GemmTask`` over ``Matmul``,
``Conv`` or ``ConvWeight`` operands), what the GEMMs of one step share (``StepRun``), and the
step's counters (``StepStats``)."""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..formats import Q


class StepStats:
    """Counters of one step (or summed over many): per tensor key, and MACs/bits per width."""

    def __init__(self):
        self.tensors = defaultdict(lambda: {"saturated": 0, "underflow": 0, "count": 0})
        self.exponents = {}      # key -> exponent e of the exact maximum (|v| < 2**e)
        self.histograms = {}     # key -> (counts, offset): counts[i] of exponent i + offset
        self.macs = defaultdict(int)
        self.bits = defaultdict(int)
        self.formats = {}        # key -> str(Q) last used
        self.maxima = {}         # key -> exact maximum |value| of the accumulator (float64)
        self.update_clamped = 0

    def count(self, key, *, saturated, underflow, count):
        t = self.tensors[key]
        t["saturated"] += saturated
        t["underflow"] += underflow
        t["count"] += count


@dataclass(frozen=True)
class GemmTask:
    """One GEMM of a training step as the engine poses it, before its output's fraction bits
    are predicted: ``operands`` (``Matmul``, ``Conv`` or ``ConvWeight``), the operands' formats,
    the output width and the key its counters go to. ``a_max``/``b_max``: exact bounds of |a|,
    |b| when the caller knows tighter ones than the formats' 2**(W-1) (fewer K-chunks; the same
    bits, as any exact accumulation gives the same accumulator)."""
    kind: str
    layer: str
    operands: object
    a_fmt: Q
    b_fmt: Q
    out_width: int
    out_key: tuple
    a_max: int = None
    b_max: int = None


@dataclass(frozen=True)
class StepRun:
    """What the GEMMs of one step (or one evaluation) share: the exponent rule that predicts
    each output's fraction bits, the counters (None: not counted), the step (for the seeds),
    whether backward-weight accumulators' exponent histograms are taken, and the list that
    collects every job run as ``(GemmTask, GemmSpec)`` (None: not kept)."""
    exponents: object
    stats: StepStats = None
    step: int = 0
    histograms: bool = False
    jobs: list = None


def count_job(stats, task, spec, sat, unf, e, amax, acc_frac):
    """A job's counters, format, exponent, MACs and bits moved, into ``stats``."""
    m, k, n = task.operands.shape
    stats.count(task.out_key, saturated=sat, underflow=unf, count=m * n)
    stats.formats[task.out_key] = str(spec.out_fmt)
    if e is not None:
        stats.exponents[task.out_key] = e
        stats.maxima[task.out_key] = float(np.ldexp(float(amax), -acc_frac))
    a_w, b_w, out_w = spec.a_fmt.width, spec.b_fmt.width, spec.out_fmt.width
    stats.macs[max(a_w, b_w)] += m * k * n
    stats.bits[a_w] += m * k * a_w
    stats.bits[b_w] += k * n * b_w
    stats.bits[out_w] += m * n * out_w


class Matmul:
    """The operands of a contract GEMM ``a @ b``."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.shape = a.shape[0], a.shape[1], b.shape[1]

    def accumulate(self, be, **bounds):
        return be.accumulate(self.a, self.b, **bounds)

    def matrices(self, ops):
        return self.a, self.b


class Conv:
    """The GEMM ``im2col(x, pad) @ w`` of a 3x3 convolution, x NHWC (the backend may compute it
    without the patch matrix: same accumulator)."""

    def __init__(self, x, w, pad):
        self.x, self.w, self.pad = x, w, pad
        b, h, wd, _ = x.shape
        self.out_hw = h + 2 * pad - 2, wd + 2 * pad - 2
        self.shape = b * self.out_hw[0] * self.out_hw[1], w.shape[0], w.shape[1]

    def accumulate(self, be, **bounds):
        return be.conv(self.x, self.w, pad=self.pad, **bounds)

    def matrices(self, ops):
        return ops.im2col(self.x, self.pad)[0], self.w


class ConvWeight:
    """The weight-gradient GEMM ``im2col(x, pad).T @ e`` of a 3x3 convolution."""

    def __init__(self, x, e, pad):
        self.x, self.e, self.pad = x, e, pad
        self.shape = 9 * x.shape[3], e.shape[0], e.shape[1]

    def accumulate(self, be, **bounds):
        return be.conv_weight(self.x, self.e, pad=self.pad, **bounds)

    def matrices(self, ops):
        return ops.transpose(ops.im2col(self.x, self.pad)[0]), self.e
