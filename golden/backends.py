"""Backend lookup: ``get_backend("numpy")`` or ``get_backend("torch", device=...)``."""

BACKENDS = ("numpy", "torch")


def get_backend(name, *, device=None):
    if name == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"the numpy backend runs on the cpu only, not on {device!r}")
        from .backend_numpy import NumpyBackend
        return NumpyBackend()
    if name == "torch":
        from .backend_torch import TorchBackend
        return TorchBackend(device)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")
