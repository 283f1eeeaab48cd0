"""The varimac accelerator in Amaranth: a systolic MAC array with runtime widths and gated lanes.

``AccelConfig`` fixes one generated array; ``Accelerator`` is its top level. See docs/hardware.md.
"""

from .config import AccelConfig, PRESETS
from .top import Accelerator, generate_verilog

__all__ = ["AccelConfig", "PRESETS", "Accelerator", "generate_verilog"]
