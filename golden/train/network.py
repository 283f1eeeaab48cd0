"""The Keras ``cifar10_cnn`` network: its layers, its initial weights, its fixed-point state.

conv32 (same) - conv32 (valid) - maxpool 2 - dropout .25 - conv64 (same) - conv64 (valid) -
maxpool 2 - dropout .25 - dense512 - dropout .5 - dense10; ReLU after every layer but the last;
3x3 kernels; 1,250,858 parameters. Kernels are Glorot-uniform, biases zero (Keras defaults).
"""

import math
from dataclasses import dataclass

import numpy as np

from .batches import INIT, rng
from .optim import MASTER_WIDTH


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str            # "conv" (3x3, stride 1) or "dense"
    cin: int
    cout: int
    pad: int = 0         # conv: 1 = 'same', 0 = 'valid'
    relu: bool = True
    pool: bool = False   # 2x2 max-pool after the ReLU
    dropout: tuple = None  # (drop rate, keep as (num, exp) = num / 2**exp) after pool/ReLU

    @property
    def k(self):
        """Rows of the weight matrix: 9*Cin (conv, rows in (ky, kx, cin) order) or Cin."""
        return self.cin * 9 if self.kind == "conv" else self.cin

    @property
    def fans(self):
        return (self.cin * 9, self.cout * 9) if self.kind == "conv" else (self.cin, self.cout)


LAYERS = (
    Layer("conv1", "conv", 3, 32, pad=1),
    Layer("conv2", "conv", 32, 32, pad=0, pool=True, dropout=(0.25, (3, 2))),
    Layer("conv3", "conv", 32, 64, pad=1),
    Layer("conv4", "conv", 64, 64, pad=0, pool=True, dropout=(0.25, (3, 2))),
    Layer("dense1", "dense", 6 * 6 * 64, 512, dropout=(0.5, (1, 1))),
    Layer("dense2", "dense", 512, 10, relu=False),
)
LOGITS = "logits"  # the softmax's input, treated as one more layer's activations
ROLES = ("activations", "weights", "errors", "updates")
INPUT_FRAC = 7     # a pixel p in 0..255 enters as (p - 128) / 128, in [-1, 1)
INPUT_OFFSET = 128
FRAC_BOUND = 64    # fraction bits of a master array: far beyond any the initializer chooses


def tensor_keys():
    """Every (layer, role) that has a format, in a fixed order."""
    keys = [(layer.name, role) for layer in LAYERS for role in ROLES]
    return keys + [(LOGITS, "activations")]


def param_shapes():
    """``{name: shape}`` of the parameter arrays as ``MasterParams.arrays()`` names them:
    kernel ``w<i>`` (K, Cout), bias ``b<i>`` (Cout,), their velocities ``vw<i>``, ``vb<i>``."""
    out = {}
    for i, layer in enumerate(LAYERS):
        for name, shape in (("w", (layer.k, layer.cout)), ("b", (layer.cout,))):
            out[f"{name}{i}"] = out[f"v{name}{i}"] = shape
    return out


def parameter_count():
    return sum(layer.k * layer.cout + layer.cout for layer in LAYERS)


def feature_shapes(batch):
    """Shapes of the dropout masks for a batch: after conv2's pool, conv4's pool and dense1."""
    return [(batch, 15, 15, 32), (batch, 6, 6, 64), (batch, 512)]


def dropout_rates():
    return [layer.dropout[0] for layer in LAYERS if layer.dropout]


def glorot(seed):
    """Initial kernels (float64, (K, Cout) each), drawn once per layer from the run's seed."""
    kernels = []
    for index, layer in enumerate(LAYERS):
        limit = math.sqrt(6.0 / sum(layer.fans))
        kernels.append(rng(seed, INIT, index).uniform(-limit, limit, size=(layer.k, layer.cout)))
    return kernels


@dataclass
class MasterParams:
    """Fixed-point parameter state, host-side NumPy int64: per layer the kernel ``w`` (K, Cout)
    and bias ``b`` (Cout,) in Q(32, frac) with their velocities ``vw``, ``vb``."""
    w: list
    b: list
    vw: list
    vb: list
    w_frac: list
    b_frac: list

    @classmethod
    def init(cls, seed):
        w, w_frac = [], []
        for kernel in glorot(seed):
            limit = float(np.abs(kernel).max())
            # 16x headroom above the initial range; biases (zero at first) another 16x.
            w_frac.append(MASTER_WIDTH - 1 - math.ceil(math.log2(limit)) - 4)
            w.append(np.rint(np.ldexp(kernel, w_frac[-1])).astype(np.int64))
        b_frac = [f - 4 for f in w_frac]
        b = [np.zeros(layer.cout, dtype=np.int64) for layer in LAYERS]
        return cls(w=w, b=b, vw=[np.zeros_like(x) for x in w], vb=[np.zeros_like(x) for x in b],
                   w_frac=w_frac, b_frac=b_frac)

    def arrays(self):
        out = {}
        for i in range(len(LAYERS)):
            for name in ("w", "b", "vw", "vb"):
                out[f"{name}{i}"] = getattr(self, name)[i]
        return out

    @classmethod
    def from_arrays(cls, arrays, *, w_frac, b_frac):
        """From ``arrays()``'s names; ``ValueError`` naming the first array that is missing, not
        an integer array of its layer's shape, or outside Q(MASTER_WIDTH) (the optimizer clamps
        every value to +-(2**31 - 1)), and for fractions that are not one integer per layer."""
        for name, fracs in (("w_frac", w_frac), ("b_frac", b_frac)):
            if (not isinstance(fracs, (list, tuple)) or len(fracs) != len(LAYERS)
                    or not all(_small_int(f) for f in fracs)):
                raise ValueError(f"{name} must be {len(LAYERS)} integers in "
                                 f"[-{FRAC_BOUND}, {FRAC_BOUND}], not {fracs!r}")
        bound = (1 << (MASTER_WIDTH - 1)) - 1
        out = {}
        for name, shape in param_shapes().items():
            if name not in arrays:
                raise ValueError(f"array {name} is missing")
            x = np.asarray(arrays[name])
            if x.dtype not in (np.int32, np.int64):
                raise ValueError(f"array {name} must be int32 or int64, not {x.dtype}")
            if x.shape != shape:
                raise ValueError(f"array {name} must have shape {shape}, not {x.shape}")
            if x.size and (x.min() < -bound or x.max() > bound):
                raise ValueError(f"array {name} holds values outside Q({MASTER_WIDTH}): allowed "
                                 f"[-{bound}, {bound}], found [{x.min()}, {x.max()}]")
            out[name] = x.astype(np.int64)
        return cls(**{k: [out[f"{k}{i}"] for i in range(len(LAYERS))]
                      for k in ("w", "b", "vw", "vb")}, w_frac=list(w_frac), b_frac=list(b_frac))

    def as_float(self):
        """(kernels, biases, kernel velocities, bias velocities) as float64 values."""
        f = lambda xs, fr: [np.ldexp(x.astype(np.float64), -q) for x, q in zip(xs, fr)]  # noqa: E731
        return (f(self.w, self.w_frac), f(self.b, self.b_frac),
                f(self.vw, self.w_frac), f(self.vb, self.b_frac))

    @classmethod
    def from_float(cls, w, b, vw, vb, *, w_frac, b_frac):
        """Back from float values (exact for float32 values within range), nearest-even."""
        q = lambda xs, fr: [np.rint(np.ldexp(np.asarray(x, np.float64), f)).astype(np.int64)  # noqa: E731
                            for x, f in zip(xs, fr)]
        return cls(w=q(w, w_frac), b=q(b, b_frac), vw=q(vw, w_frac), vb=q(vb, b_frac),
                   w_frac=list(w_frac), b_frac=list(b_frac))


def _small_int(f):
    return isinstance(f, (int, np.integer)) and not isinstance(f, (bool, np.bool_)) \
        and abs(int(f)) <= FRAC_BOUND


def gemm_shapes(batch):
    """(layer, kind, M, K, N) of every GEMM in one training step, as the fixed engine runs them
    (no backward-data GEMM for the first layer)."""
    out, h = [], 32
    for i, layer in enumerate(LAYERS):
        if layer.kind == "conv":
            ho = h + 2 * layer.pad - 2
            m_in, m_out = batch * h * h, batch * ho * ho
            out.append((layer.name, "forward", m_out, layer.k, layer.cout))
            if i:
                out.append((layer.name, "backward_data", m_in, layer.cout * 9, layer.cin))
            out.append((layer.name, "backward_weight", layer.k, m_out, layer.cout))
            h = ho // 2 if layer.pool else ho
        else:
            out.append((layer.name, "forward", batch, layer.k, layer.cout))
            if i:
                out.append((layer.name, "backward_data", batch, layer.cout, layer.cin))
            out.append((layer.name, "backward_weight", layer.k, batch, layer.cout))
    return out
