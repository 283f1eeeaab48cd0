"""Fixed-point formats: the value object ``Q(width, frac)`` and the rounding modes."""

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

MIN_WIDTH = 2
MAX_WIDTH = 32
# |frac| is bounded so that every scaling by 2**±shift stays a normal float64 (shift <= 768).
FRAC_LIMIT = 256


class Rounding(IntEnum):
    """How an exact value is brought to the output format (the job field ``rounding``)."""
    NEAREST_EVEN = 0
    STOCHASTIC = 1

    @classmethod
    def parse(cls, value, *, name="rounding"):
        if isinstance(value, Rounding):
            return value
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_")
            aliases = {"nearest_even": cls.NEAREST_EVEN, "rne": cls.NEAREST_EVEN,
                       "nearest": cls.NEAREST_EVEN, "stochastic": cls.STOCHASTIC,
                       "sr": cls.STOCHASTIC}
            if key in aliases:
                return aliases[key]
        elif _is_int(value) and int(value) in (0, 1):
            return cls(int(value))
        raise ValueError(f"{name} must be 0 (nearest-even) or 1 (stochastic), not {value!r}")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(value, *, name, lo=None, hi=None):
    """Return ``value`` as a Python int, or raise a one-line error naming it and its range."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], not {value}")
    return value


@dataclass(frozen=True)
class Q:
    """Signed two's-complement fixed point: the integer ``q`` stands for ``q * 2**-frac``.

    ``width`` counts the sign bit. ``frac`` is a per-tensor shared exponent: it may be negative
    or larger than ``width``.
    """
    width: int
    frac: int

    def __post_init__(self):
        object.__setattr__(self, "width", check_int(self.width, name="width",
                                                    lo=MIN_WIDTH, hi=MAX_WIDTH))
        object.__setattr__(self, "frac", check_int(self.frac, name="frac",
                                                   lo=-FRAC_LIMIT, hi=FRAC_LIMIT))

    @property
    def min_int(self):
        return -(1 << (self.width - 1))

    @property
    def max_int(self):
        return (1 << (self.width - 1)) - 1

    @property
    def step(self):
        """The value of one unit in the last place."""
        return 2.0 ** -self.frac

    @property
    def min_value(self):
        return self.min_int * self.step

    @property
    def max_value(self):
        return self.max_int * self.step

    def check(self, values, *, name):
        """Raise ``ValueError`` naming the first integer of ``values`` outside this format."""
        values = np.asarray(values)
        if values.size == 0:
            return
        lo, hi = values.min(), values.max()
        if lo >= self.min_int and hi <= self.max_int:
            return
        bad = np.flatnonzero((values < self.min_int) | (values > self.max_int))[0]
        index = np.unravel_index(bad, values.shape)
        raise ValueError(f"{name}{list(map(int, index))} = {int(values.flat[bad])} is out of "
                         f"range for {self}: allowed [{self.min_int}, {self.max_int}]")

    def __str__(self):
        return f"Q({self.width},{self.frac})"
