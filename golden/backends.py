"""Backend lookup: ``get_backend("numpy")`` or ``get_backend("torch", device=...)``."""

BACKENDS = ("numpy", "torch")
DEVICES = "cpu, cuda or cuda:N"


def get_backend(name, *, device=None):
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
