"""Command-line flags that describe a generated accelerator (``AccelConfig``).

Shared by every command that builds or simulates the array (verilog, sim, gemm --backend rtl,
power): ``--preset`` picks the starting point, the other flags override single fields.
"""

import argparse

from flows.cli import UsageError

# flag -> (AccelConfig field, type, help)
_FIELDS = {
    "--rows": ("rows", int, "PE rows"),
    "--cols": ("cols", int, "PE columns"),
    "--max-width": ("max_width", int, "widest operand/output width in bits"),
    "--lane-width": ("lane_width", int, "bits per gated lane; widths are its multiples"),
    "--max-k": ("max_k", int, "longest reduction K the exact accumulator holds"),
    "--max-dim": ("max_dim", int, "largest M and N"),
    "--min-shift": ("min_shift", int, "smallest shift a_frac + b_frac - out_frac"),
    "--max-shift": ("max_shift", int, "largest shift a_frac + b_frac - out_frac"),
}


def add_config_arguments(parser, *, default_preset="default"):
    from hw.config import PRESETS
    group = parser.add_argument_group("accelerator configuration")
    group.add_argument("--preset", default=default_preset, choices=sorted(PRESETS),
                       help=f"starting configuration (default: {default_preset})")
    for flag, (field, kind, text) in _FIELDS.items():
        group.add_argument(flag, dest=f"cfg_{field}", type=kind, default=None, metavar="N",
                           help=f"{text} (default: the preset's)")
    group.add_argument("--fixed-width", dest="cfg_fixed", action="store_true",
                       help="fixed max_width array without lane gating (the baseline)")
    group.add_argument("--no-subword", dest="cfg_no_subword", action="store_true",
                       help="lane gating without subword packing (one k per beat at every "
                            "width)")
    group.add_argument("--mult-tree", dest="cfg_mult_tree", default=None,
                       choices=("split", "folded", "fused2d"),
                       help="lane multiplier: lane products and a subtracted sum of sign terms "
                            "(split), every partial-product bit in one tree (folded), or the "
                            "2-D decomposed one: (max_width/G)^2 k per beat in a wider "
                            "operand word (fused2d) (default: folded)")
    group.add_argument("--valid-gating", dest="cfg_valid_gating", default=None,
                       action=argparse.BooleanOptionalAction,
                       help="clock enables on valid for the control's counters and the "
                            "quantizers' and drain's valid bits (default: on)")
    group.add_argument("--zero-gating", dest="cfg_zero_gating", default=None,
                       action=argparse.BooleanOptionalAction,
                       help="the PEs' product register and accumulator hold on a beat whose "
                            "product is zero (default: on)")
    group.add_argument("--clock-gates", dest="cfg_clock_gates", default=None,
                       choices=("lane", "register"),
                       help="the PEs' clock-gate granularity: one per lane of each register, "
                            "or one per register (default: register)")
    group.add_argument("--mult-stages", dest="cfg_mult_stages", type=int, default=None,
                       metavar="N", help="pipeline registers inside the PE's multiplier, 0 "
                       "or 1 (default: 0; `varimac fpga`: the family's, docs/fpga.md)")
    return group


def config_from_args(args):
    """The ``AccelConfig`` the flags describe; a bad combination raises ``UsageError``."""
    from hw.config import AccelConfig
    valued = [field for field, _, _ in _FIELDS.values()] + [
        "mult_tree", "valid_gating", "zero_gating", "clock_gates", "mult_stages"]
    overrides = {field: getattr(args, f"cfg_{field}") for field in valued
                 if getattr(args, f"cfg_{field}", None) is not None}
    # the switches: (dest, field, value when given)
    for dest, field, value in (("fixed", "tunable", False), ("no_subword", "subword", False)):
        if getattr(args, f"cfg_{dest}", False):
            overrides[field] = value
    try:
        return AccelConfig.preset(args.preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad accelerator configuration: {exc}") from None
