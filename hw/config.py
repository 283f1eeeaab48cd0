"""``AccelConfig``: everything that fixes one generated accelerator (the params.json beside it)."""

import json
from dataclasses import dataclass, fields

from . import bricks

PARAMS_VERSION = 3
# The contract allows shifts in [-768, 768]; a generated shifter covers a sub-range of it.
SHIFT_LIMIT = 512
MULT_TREES = ("split", "folded", "fused2d")   # hw.multiplier.TREES, and hw.fused
CLOCK_GATES = ("lane", "register")    # a PE register's clock-gate granularity
# The architecture options' values before they had fields (params version 2 and older results):
# a params dict without one of them describes an array built that way (``from_params``).
PLAIN_VARIANT = {"mult_tree": "split", "valid_gating": False, "zero_gating": False,
                 "clock_gates": "lane", "mult_stages": 0}
MAX_MULT_STAGES = 1


def _check_int(value, *, name, lo, hi=None):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be {'in ' if hi is not None else ''}{bound}, not {value}")
    return value


@dataclass(frozen=True)
class AccelConfig:
    """A ``rows`` × ``cols`` output-stationary MAC array with runtime operand/output widths.

    Widths are the multiples of ``lane_width`` up to ``max_width`` (only ``max_width`` when
    ``tunable`` is False: the fixed-width baseline without lane gating). Jobs may have
    K <= ``max_k``, M, N <= ``max_dim`` and a contract shift in [``min_shift``, ``max_shift``].
    With ``subword`` (tunable arrays only), a job whose operands fit several times into
    ``max_width`` packs that many consecutive k into each operand beat and the PEs sum their
    products together: a narrow job takes fewer cycles, so every per-cycle cost (clock,
    registers, accumulator) is shared by several MACs (``pack``).

    Architecture variants (the same bits, other gates; docs/power.md measures them):
    ``mult_tree`` is the lane multiplier's structure (``hw.multiplier.TREES``: "split" sums
    lane products and subtracts their sign terms, "folded" sums every partial-product bit with
    the sign terms folded in, in one carry-save tree); ``valid_gating`` gives the control's
    beat counters, the quantizers' and the drain's valid bits and the saturation counters an
    enable that is set only while a beat or result passes, which synthesis turns into clock
    gates; ``zero_gating`` makes the PEs skip a beat whose product is zero (an operand is
    zero): the product register and the accumulator hold instead of loading it and adding 0;
    ``clock_gates`` is the granularity of the PEs' register enables, hence of their clock gates:
    "lane" (each lane of a, b, p and acc loads only while its lane is on) or "register" (each
    register loads whole; its readers mask the lanes that are off).

    ``mult_stages`` (0 or 1) puts a pipeline register inside the PE's multiplier, for FPGAs:
    at the DSP blocks' outputs in the FPGA build (``hw.platform.DSP_PLATFORM``), else at the
    multiplier's output. A PE's result then comes that many cycles later (``pe_lead``); the
    array, drain and ``Accelerator.latency`` follow it, and the bits stay the same. It is
    built for the lane multiplier only.

    The defaults are the options docs/power.md's measurements kept (folded tree, valid and zero
    gating, one clock gate per register); ``PLAIN_VARIANT`` is the array before them.
    """
    rows: int
    cols: int
    max_width: int = 16
    lane_width: int = 4
    max_k: int = 4096
    max_dim: int = 65535
    min_shift: int = -16
    max_shift: int = 32
    tunable: bool = True
    subword: bool = True
    mult_tree: str = "folded"
    valid_gating: bool = True
    zero_gating: bool = True
    clock_gates: str = "register"
    mult_stages: int = 0

    def __init__(self, *, rows, cols, max_width=16, lane_width=4, max_k=4096, max_dim=65535,
                 min_shift=None, max_shift=None, tunable=True, subword=True,
                 mult_tree="folded", valid_gating=True, zero_gating=True,
                 clock_gates="register", mult_stages=0):
        _check_int(rows, name="rows", lo=1, hi=64)
        _check_int(cols, name="cols", lo=1, hi=64)
        _check_int(lane_width, name="lane_width", lo=2, hi=32)
        _check_int(max_width, name="max_width", lo=lane_width, hi=32)
        if max_width % lane_width:
            raise ValueError(f"max_width ({max_width}) must be a multiple of "
                             f"lane_width ({lane_width})")
        _check_int(mult_stages, name="mult_stages", lo=0, hi=MAX_MULT_STAGES)
        _check_int(max_k, name="max_k", lo=1, hi=1 << 24)
        _check_int(max_dim, name="max_dim", lo=1, hi=(1 << 32) - 1)
        min_shift = -max_width if min_shift is None else min_shift
        max_shift = 2 * max_width if max_shift is None else max_shift
        _check_int(min_shift, name="min_shift", lo=-SHIFT_LIMIT, hi=SHIFT_LIMIT)
        _check_int(max_shift, name="max_shift", lo=-SHIFT_LIMIT, hi=SHIFT_LIMIT)
        if min_shift > max_shift:
            raise ValueError(f"min_shift ({min_shift}) must not exceed max_shift ({max_shift})")
        for name, flag in (("tunable", tunable), ("subword", subword),
                           ("valid_gating", valid_gating), ("zero_gating", zero_gating)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {flag!r}")
        if mult_tree not in MULT_TREES:
            raise ValueError(f"mult_tree must be one of {', '.join(MULT_TREES)}, "
                             f"not {mult_tree!r}")
        if clock_gates not in CLOCK_GATES:
            raise ValueError(f"clock_gates must be one of {', '.join(CLOCK_GATES)}, "
                             f"not {clock_gates!r}")
        if mult_stages and mult_tree == "fused2d":
            raise ValueError("mult_stages must be 0 with mult_tree fused2d")
        subword = subword and tunable   # a fixed-width array has one width: nothing to pack
        for name, value in dict(rows=rows, cols=cols, max_width=max_width,
                                lane_width=lane_width, max_k=max_k, max_dim=max_dim,
                                min_shift=min_shift, max_shift=max_shift,
                                tunable=tunable, subword=subword, mult_tree=mult_tree,
                                valid_gating=valid_gating, zero_gating=zero_gating,
                                clock_gates=clock_gates, mult_stages=mult_stages).items():
            object.__setattr__(self, name, value)

    # --- derived sizes -----------------------------------------------------------------------
    @property
    def lanes(self):
        """Lanes per operand register."""
        return self.max_width // self.lane_width

    @property
    def widths(self):
        """The runtime widths this array accepts, for a, b and the output independently."""
        if not self.tunable:
            return (self.max_width,)
        return tuple(range(self.lane_width, self.max_width + 1, self.lane_width))

    @property
    def fused(self):
        """Whether the PEs hold the 2-D decomposed multiplier (``hw.bricks``)."""
        return self.mult_tree == "fused2d" and self.tunable

    @property
    def word_width(self):
        """The operand word: ``max_width``, or ``bricks.word_width`` for the fused multiplier."""
        if not self.fused:
            return self.max_width
        return bricks.word_width(self.max_width, self.lane_width, self.pack_groups)

    @property
    def word_lanes(self):
        """Lanes per operand register."""
        return self.word_width // self.lane_width

    def pack(self, a_width, b_width):
        """``(P, G)``: a job with these operand widths sends P consecutive k per beat in G-bit
        fields of the ``word_width`` word (field 0 at the top; k = tP + g in a's field g and in
        b's field P-1-g), each value MSB-aligned in its field. P = 1 (no packing) keeps the
        top ``max_width`` bits as one field: G = ``max_width``. P is max_width // G, or its
        square with the fused multiplier."""
        group = max(a_width, b_width)
        count = self.max_width // group if self.subword else 1
        if count > 1 and self.fused:
            count = bricks.fields(self.max_width, group)
        return (count, group) if count > 1 else (1, self.max_width)

    @property
    def pack_groups(self):
        """The field widths G that pack more than one k per beat: the multiplier's modes."""
        return tuple(w for w in self.widths if self.pack(w, w)[0] > 1)

    def pad(self, a_width, b_width):
        """Zero bits below a product or accumulator: 2·max_width - Wa - Wb, less (P-1)·G when
        packed (the multiplier puts a packed sum (P-1)·G bits lower: ``hw.multiplier``), or
        ``bricks.offset`` + 2G - Wa - Wb with the fused multiplier."""
        count, group = self.pack(a_width, b_width)
        if count > 1 and self.fused:
            return bricks.offset(self.max_width, group) + 2 * group - a_width - b_width
        return 2 * self.max_width - a_width - b_width - (count - 1) * group

    @property
    def acc_width(self):
        """Exact accumulator: |sum of K <= max_k products| <= max_k * 2**(2*max_width-2)."""
        return 2 * self.max_width - 1 + self.max_k.bit_length()

    @property
    def k_bits(self):
        return self.max_k.bit_length()

    @property
    def dim_bits(self):
        return self.max_dim.bit_length()

    @property
    def count_bits(self):
        """Counters of saturated/underflowed outputs: up to max_dim**2 of them."""
        return (self.max_dim * self.max_dim).bit_length()

    @property
    def left_pad(self):
        """Zero bits appended below the accumulator so that every shift is a right shift."""
        return max(0, -self.min_shift)

    @property
    def max_right_shift(self):
        """Largest right shift of the padded accumulator: max_shift + alignment + left_pad."""
        return max(0, self.max_shift + 2 * (self.max_width - min(self.widths)) + self.left_pad)

    # --- presets and params.json -------------------------------------------------------------
    @classmethod
    def preset(cls, name, **overrides):
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {name!r}")
        return cls(**{**PRESETS[name], **overrides})

    def params(self):
        """The constructor's fields as a dict (``AccelConfig(**c.params()) == c``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_params(cls, params):
        """The config a params dict describes: one written before an architecture option had
        its field (params version 2, older results' ``config``) lacks it and describes the
        array built the old way (``PLAIN_VARIANT``)."""
        return cls(**{**PLAIN_VARIANT, **params})

    def to_json(self):
        derived = {name: getattr(self, name) for name in
                   ("lanes", "widths", "pack_groups", "acc_width", "k_bits",
                    "dim_bits", "count_bits", "left_pad", "max_right_shift")}
        derived["widths"] = list(derived["widths"])
        derived["pack_groups"] = list(derived["pack_groups"])
        return json.dumps({"version": PARAMS_VERSION, "config": self.params(),
                           "derived": derived}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text):
        """Read ``to_json``'s text; raises ``ValueError`` when it is not a params file."""
        try:
            data = json.loads(text)
            version, params = data["version"], data["config"]
        except (ValueError, KeyError, TypeError):
            raise ValueError("not a varimac params.json (needs 'version' and 'config')") \
                from None
        if version not in (2, PARAMS_VERSION):
            raise ValueError(f"params.json version {version!r} is not 2 or {PARAMS_VERSION}")
        unknown = sorted(set(params) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"params.json: unknown field(s) {', '.join(unknown)}")
        return cls.from_params(params)

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_json(f.read())


PRESETS = {
    # Small enough for fast CI simulation; not square, so that rows and columns cannot be mixed up.
    "tiny": dict(rows=2, cols=3, max_width=12, lane_width=4, max_k=32, max_dim=255),
    # Every 16-bit width in a 4x4 array: what `varimac sim` checks on Icarus in minutes.
    "small": dict(rows=4, cols=4, max_width=16, lane_width=4, max_k=256),
    "default": dict(rows=8, cols=8, max_width=16, lane_width=4, max_k=4096),
}


def require_config(config):
    """Raise ``TypeError`` unless ``config`` is an ``AccelConfig``: every component's one
    parameter, checked in its ``__new__`` so that a refused component never exists."""
    if not isinstance(config, AccelConfig):
        raise TypeError(f"config must be an AccelConfig, not {config!r}")
