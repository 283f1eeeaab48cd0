"""The varimac accelerator in Amaranth: a systolic MAC array with runtime widths and gated lanes.

``AccelConfig`` fixes one generated array; ``Accelerator`` is its top level. See docs/hardware.md.
"""

from .config import AccelConfig, PRESETS

__all__ = ["AccelConfig", "PRESETS", "Accelerator", "generate_verilog"]


def __getattr__(name):
    # Amaranth loads only when the hardware is built: the config alone serves the command line.
    if name in ("Accelerator", "generate_verilog"):
        from . import top
        return getattr(top, name)
    raise AttributeError(f"module 'hw' has no attribute {name!r}")
