"""The FPGA flow's devices: per family (iCE40, ECP5) the parts it can target, their nextpnr
arguments and capacities, the default part, and the multiplier pipeline each family builds
with (``MULT_STAGES``)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    family: str
    name: str
    nextpnr_args: tuple
    luts: int
    ffs: int
    dsps: int
    brams: int


DEVICES = {
    "ice40": {
        "up5k": Device("ice40", "up5k", ("--up5k", "--package", "sg48"), 5280, 5280, 8, 30),
        "hx8k": Device("ice40", "hx8k", ("--hx8k", "--package", "ct256"), 7680, 7680, 0, 32),
        "hx1k": Device("ice40", "hx1k", ("--hx1k", "--package", "tq144"), 1280, 1280, 0, 16),
    },
    "ecp5": {
        "12k": Device("ecp5", "12k", ("--12k", "--package", "CABGA381"), 12288, 12288, 28, 32),
        "25k": Device("ecp5", "25k", ("--25k", "--package", "CABGA381"), 24288, 24288, 28, 56),
        "45k": Device("ecp5", "45k", ("--45k", "--package", "CABGA381"), 43848, 43848, 72, 108),
        "85k": Device("ecp5", "85k", ("--85k", "--package", "CABGA381"), 83640, 83640, 156,
                      208),
    },
}
DEFAULT_DEVICE = {"ice40": "up5k", "ecp5": "25k"}
# AccelConfig.mult_stages per family unless given: ECP5 registers its DSP blocks' outputs
# (docs/fpga.md); the UP5K has no flip-flops to spare.
MULT_STAGES = {"ice40": 0, "ecp5": 1}


def device(family, name=None):
    """The ``Device`` ``name`` of ``family`` (its default when ``None``); ``ValueError`` if
    either is unknown."""
    if family not in DEVICES:
        raise ValueError(f"family must be one of {', '.join(DEVICES)}, not {family!r}")
    name = DEFAULT_DEVICE[family] if name is None else name
    if name not in DEVICES[family]:
        raise ValueError(f"device {name!r} is not a known {family} device; choose from "
                         f"{', '.join(DEVICES[family])}")
    return DEVICES[family][name]
