"""Bit-exact golden model of the varimac arithmetic (see docs/arithmetic.md)."""

from .formats import Q, Rounding
from .prng import prng
from .contract import GemmJob, GemmResult, GemmSpec, gemm, quantize
from .ops import requantize, round_shift, saturate

__all__ = ["Q", "Rounding", "prng", "GemmJob", "GemmResult", "GemmSpec", "gemm", "quantize",
           "requantize", "round_shift", "saturate"]
