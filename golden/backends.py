"""The backends' one interface (``Backend``) and their lookup: ``get_backend("numpy")`` or
``get_backend("torch", device=...)``."""

from typing import Protocol

BACKENDS = ("numpy", "torch")
DEVICES = "cpu, cuda or cuda:N"


class Backend(Protocol):
    """What every golden backend implements, on its own arrays (integer values held exactly in
    float arrays). ``NumpyBackend`` is the reference; ``TorchBackend`` gives the same bits or
    refuses a job loudly. The rounding, saturation and requantization methods are implementations
    of ``golden.ops``, tested against it (tests/golden/test_ops.py)."""
    name: str

    def asarray(self, x, dtype=...): ...
    def to_numpy(self, x): ...
    def matmul_exact(self, a, b, *, a_bound=None, b_bound=None): ...
    def accumulate(self, a, b, *, a_bound, b_bound): ...
    def conv(self, x, w, *, pad, a_bound, b_bound): ...
    def conv_weight(self, x, e, *, pad, a_bound, b_bound): ...
    def round_shift(self, acc, shift, rounding, seed, *, row0=0, col0=0): ...
    def round_scaled(self, v, rounding, seed, *, row0=0, col0=0): ...
    def saturate(self, y, width): ...
    def requantize(self, acc, shift, width, rounding, seed, *, row0=0, col0=0): ...
    def requantize_inplace(self, acc, shift, width, rounding, seed, *, acc_abs_max=None): ...
    def gemm(self, a, b, *, shift, out_width, rounding, seed, a_bound=None, b_bound=None): ...
    def quantize(self, x, *, frac, width, rounding, seed): ...


def get_backend(name, *, device=None) -> Backend:
    check_device(name, device)
    if name == "numpy":
        from .backend_numpy import NumpyBackend
        return NumpyBackend()
    from .backend_torch import TorchBackend
    return TorchBackend(device)


def check_device(name, device):
    """Raise a one-line ``ValueError`` unless backend ``name`` can run on ``device``
    (``None``: the backend's default)."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
    if name == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"the numpy backend runs on the cpu only, not on {device!r}")
        return
    if device is None:
        return
    import torch
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{device!r} is not a device; use {DEVICES}") from None
    if dev.type == "cpu":
        return
    if dev.type != "cuda":
        raise ValueError(f"the torch backend runs on {DEVICES}, not on {device!r}")
    if not torch.cuda.is_available():
        raise ValueError(f"{device!r}: CUDA is not available on this machine; use cpu")
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{device!r}: this machine has {torch.cuda.device_count()} CUDA "
                         f"device(s)")
