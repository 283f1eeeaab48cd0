"""The arithmetic contract of varimac (docs/arithmetic.md), bit-exact: formats (``Q``, the one
``Rounding``), the PRNG, the operations (``golden.ops``), the GEMM job, its spec and result
(``golden.contract``) and the backends behind one interface (``golden.backends``). The training
simulator that runs on it is ``golden.train``."""

from .formats import Q, Rounding
from .prng import prng
from .contract import GemmJob, GemmResult, GemmSpec, gemm, quantize
from .ops import requantize, round_shift, saturate

__all__ = ["Q", "Rounding", "prng", "GemmJob", "GemmResult", "GemmSpec", "gemm", "quantize",
           "requantize", "round_shift", "saturate"]
