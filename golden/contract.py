"""The GEMM job contract (docs/arithmetic.md): the job, its spec (the job less its operands),
its result, and their files."""

from dataclasses import dataclass

import numpy as np

from .backends import get_backend
from .files import save_npz
from .formats import MAX_WIDTH, MIN_WIDTH, Q, Rounding, check_int
from .inputs import InputError, read_npz

SCALARS = ("a_width", "a_frac", "b_width", "b_frac", "out_width", "out_frac", "rounding", "seed")


@dataclass(frozen=True)
class GemmSpec:
    """A job without its operands: the three formats, the rounding and the seed. Training
    decides one per GEMM and runs it on a backend (``shift``, ``out_fmt.width``, ``rounding``,
    ``seed``); ``job(a, b)`` makes it a whole ``GemmJob`` (a trace file)."""
    a_fmt: Q
    b_fmt: Q
    out_fmt: Q
    rounding: Rounding = Rounding.NEAREST_EVEN
    seed: int = 0

    def __init__(self, *, a_fmt, b_fmt, out_fmt, rounding=Rounding.NEAREST_EVEN, seed=0):
        for name, fmt in (("a_fmt", a_fmt), ("b_fmt", b_fmt), ("out_fmt", out_fmt)):
            if not isinstance(fmt, Q):
                raise TypeError(f"{name} must be a Q(width, frac), not {fmt!r}")
            object.__setattr__(self, name, fmt)
        object.__setattr__(self, "rounding", Rounding.parse(rounding))
        object.__setattr__(self, "seed", check_int(seed, name="seed", lo=0, hi=(1 << 32) - 1))

    @property
    def shift(self):
        """Right shift from the accumulator to the output: a_frac + b_frac - out_frac."""
        return self.a_fmt.frac + self.b_fmt.frac - self.out_fmt.frac

    def job(self, a, b):
        """The ``GemmJob`` of this spec on integer operands ``a`` (M, K) and ``b`` (K, N)."""
        return GemmJob(a=a, b=b, a_width=self.a_fmt.width, a_frac=self.a_fmt.frac,
                       b_width=self.b_fmt.width, b_frac=self.b_fmt.frac,
                       out_width=self.out_fmt.width, out_frac=self.out_fmt.frac,
                       rounding=self.rounding, seed=self.seed)


@dataclass(frozen=True, eq=False)
class GemmJob:
    """One accelerator operation: ``y = saturate(round_shift(a @ b))`` with its formats.

    Every field is keyword-only and validated: ``a`` (M, K) and ``b`` (K, N) are integer arrays
    in range for their formats; they are stored as int64.
    """
    a: np.ndarray
    b: np.ndarray
    a_width: int
    a_frac: int
    b_width: int
    b_frac: int
    out_width: int
    out_frac: int
    rounding: Rounding = Rounding.NEAREST_EVEN
    seed: int = 0

    def __init__(self, *, a, b, a_width, a_frac, b_width, b_frac, out_width, out_frac,
                 rounding=Rounding.NEAREST_EVEN, seed=0):
        fields = dict(a_width=a_width, a_frac=a_frac, b_width=b_width, b_frac=b_frac,
                      out_width=out_width, out_frac=out_frac)
        for name, value in fields.items():
            lo, hi = (MIN_WIDTH, MAX_WIDTH) if name.endswith("width") else (None, None)
            fields[name] = check_int(value, name=name, lo=lo, hi=hi)
        fields["rounding"] = Rounding.parse(rounding)
        fields["seed"] = check_int(seed, name="seed", lo=0, hi=(1 << 32) - 1)
        a, b = _matrix(a, name="a"), _matrix(b, name="b")
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"a is {a.shape[0]}x{a.shape[1]} and b is {b.shape[0]}x{b.shape[1]}:"
                             f" a's columns must equal b's rows")
        fmts = {}
        for name in ("a", "b", "out"):
            try:
                fmts[name] = Q(fields[f"{name}_width"], fields[f"{name}_frac"])
            except ValueError as exc:
                raise ValueError(f"{name}_{exc}") from None
        fmts["a"].check(a, name="a")
        fmts["b"].check(b, name="b")
        object.__setattr__(self, "a", a.astype(np.int64))
        object.__setattr__(self, "b", b.astype(np.int64))
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def a_fmt(self):
        return Q(self.a_width, self.a_frac)

    @property
    def b_fmt(self):
        return Q(self.b_width, self.b_frac)

    @property
    def out_fmt(self):
        return Q(self.out_width, self.out_frac)

    @property
    def spec(self):
        return GemmSpec(a_fmt=self.a_fmt, b_fmt=self.b_fmt, out_fmt=self.out_fmt,
                        rounding=self.rounding, seed=self.seed)

    @property
    def shift(self):
        """Right shift from the accumulator to the output: a_frac + b_frac - out_frac."""
        return self.a_frac + self.b_frac - self.out_frac

    @property
    def shape(self):
        """(M, K, N)."""
        return self.a.shape[0], self.a.shape[1], self.b.shape[1]

    def scalars(self):
        return {name: int(getattr(self, name)) for name in SCALARS}

    def save(self, path):
        save_npz(path, a=self.a, b=self.b, **{k: np.int64(v) for k, v in self.scalars().items()})

    @classmethod
    def load(cls, path):
        """Read and validate a job file; raises ``InputError`` (one line naming the file and
        what is wrong) for anything that is not a whole, valid job. Batch modes call it per
        file."""
        data = read_npz(path, what="job file")
        missing = [name for name in ("a", "b") + SCALARS if name not in data]
        if missing:
            raise InputError(path, f"missing field(s) {', '.join(missing)} (a job file holds "
                                   f"a, b and {', '.join(SCALARS)})")
        extra = sorted(set(data) - {"a", "b", *SCALARS})
        if extra:
            raise InputError(path, f"unexpected field(s) {', '.join(extra)} (a job file holds "
                                   f"only a, b and {', '.join(SCALARS)})")
        scalars = {}
        for name in SCALARS:
            value = data[name]
            if value.ndim != 0 or value.dtype.kind not in "iu":
                raise InputError(path, f"{name} must be a 0-d integer array, "
                                       f"not shape {value.shape} dtype {value.dtype}")
            scalars[name] = int(value)
        try:
            return cls(a=data["a"], b=data["b"], **scalars)
        except (ValueError, TypeError) as exc:
            raise InputError(path, str(exc)) from None


@dataclass(frozen=True, eq=False)
class GemmResult:
    """The outputs ``y`` (int64, M×N) and the two counters of one job."""
    y: np.ndarray
    saturated: int
    underflow: int

    def same_bits(self, other):
        return (self.saturated == other.saturated and self.underflow == other.underflow
                and self.y.dtype == other.y.dtype and np.array_equal(self.y, other.y))

    def save(self, path):
        save_npz(path, y=self.y.astype(np.int64), saturated=np.int64(self.saturated),
                  underflow=np.int64(self.underflow))

    @classmethod
    def load(cls, path):
        data = read_npz(path, what="result file")
        try:
            y, sat, unf = data["y"], data["saturated"], data["underflow"]
            if y.dtype.kind not in "iu" or y.ndim != 2 or sat.ndim or unf.ndim:
                raise ValueError(f"y must be a 2-D integer array and saturated, underflow 0-d, "
                                 f"not {y.dtype} {y.shape}, {sat.shape}, {unf.shape}")
            return cls(y=y, saturated=int(sat), underflow=int(unf))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, f"not a result file ({exc})") from None


def gemm(job, *, backend="numpy", device=None):
    """Run ``job`` under the contract on a golden backend; returns a ``GemmResult``."""
    be = get_backend(backend, device=device) if isinstance(backend, str) else backend
    y, saturated, underflow = be.gemm(
        be.asarray(job.a), be.asarray(job.b), shift=job.shift, out_width=job.out_width,
        rounding=job.rounding, seed=job.seed,
        a_bound=_abs_bound(job.a), b_bound=_abs_bound(job.b))
    return GemmResult(y=be.to_numpy(y).astype(np.int64), saturated=saturated,
                      underflow=underflow)


def quantize(x, fmt, *, rounding=Rounding.NEAREST_EVEN, seed=0, backend="numpy"):
    """Float values to the integers of ``fmt``: returns ``(q, saturated, underflow)``.

    ``q`` is int64 with ``x``'s shape. Stochastic rounding draws ``prng(seed, m, n)`` for the
    element at row m and column n of ``x`` viewed as 2-D (leading dimensions flattened).
    """
    be = get_backend(backend) if isinstance(backend, str) else backend
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"quantize takes float values, not {x.dtype}")
    if not np.isfinite(x).all():
        raise ValueError("quantize: x holds NaN or infinity")
    q, saturated, underflow = be.quantize(x, frac=fmt.frac, width=fmt.width,
                                          rounding=Rounding.parse(rounding), seed=seed)
    return be.to_numpy(q).astype(np.int64), saturated, underflow


def _abs_bound(x):
    return 0 if x.size == 0 else max(abs(int(x.max())), abs(int(x.min())))


def _matrix(x, *, name):
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an array of integers, not {x.dtype}")
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array, not shape {x.shape}")
    return x

