"""Registers split into lanes of ``lane_width`` bits, each lane with its own enable.

At a runtime width W only the lanes holding the top W bits load; the others hold their value
under a disabled enable, which synthesis turns into clock enables (and clock-gate cells). A held
lane may keep a stale value from an earlier, wider job, so every consumer reads lanes through
``masked``: a disabled lane reads as zero (and isolates the logic behind it). ``FlagGroup``
gives valid bits one shared enable (``AccelConfig.valid_gating``).
"""

from amaranth.hdl import Cat, Const, Mux, Shape, Signal


def lane_bounds(width, lane_width):
    """``[(lo, hi), ...]`` bit ranges of the lanes of a ``width``-bit value, lane 0 lowest."""
    return [(lo, min(lo + lane_width, width)) for lo in range(0, width, lane_width)]


def lane_count(width, lane_width):
    return len(lane_bounds(width, lane_width))


class LaneRegister:
    """A ``shape`` register made of per-lane signals named ``{name}_lane{i}``.

    ``group`` says which runtime width gates it ("a", "b", "acc" or "out"); tests use it to know
    which lanes must hold. With ``lane_width=None`` (the fixed-width baseline) it is one plain
    register with a single enable.
    """

    def __init__(self, shape, *, name, group, lane_width):
        self.shape = Shape.cast(shape)
        self.group = group
        if lane_width is None:
            self.bounds = [(0, self.shape.width)]
            self.lanes = [Signal(self.shape.width, name=name)]
        else:
            self.bounds = lane_bounds(self.shape.width, lane_width)
            self.lanes = [Signal(hi - lo, name=f"{name}_lane{i}")
                          for i, (lo, hi) in enumerate(self.bounds)]

    @property
    def gated(self):
        return len(self.lanes) > 1

    def _cast(self, value):
        return value.as_signed() if self.shape.signed else value

    @property
    def value(self):
        """The raw contents, stale disabled lanes included."""
        return self._cast(Cat(*self.lanes))

    def masked(self, lane_on):
        """The contents with every disabled lane read as zero."""
        if lane_on is None or not self.gated:
            return self.value
        return self._cast(Cat(*(Mux(lane_on[i], lane, Const(0, len(lane)))
                                for i, lane in enumerate(self.lanes))))

    def load(self, m, d, *, en, lane_on):
        """Load ``d`` into each lane whose enable ``en & lane_on[i]`` is set."""
        for i, (lane, (lo, hi)) in enumerate(zip(self.lanes, self.bounds)):
            lane_en = en if lane_on is None or not self.gated else en & lane_on[i]
            with m.If(lane_en):
                m.d.sync += lane.eq(d[lo:hi])



class FlagGroup:
    """Valid bits, and the data that rides beside them, that load on every ``en`` cycle.

    With ``gated`` (``AccelConfig.valid_gating``) they share one enable instead: they load
    only while a valid bit of the group or its next value is set. Otherwise every valid bit is
    0 and would load 0, and a rider's value only counts beside a set valid bit of the group:
    holding is as good as loading. The same bits, and one clock gate for the group that stays
    shut between results (a gate per bit would cost more clock than it saves).
    """

    def __init__(self, *, en, gated):
        self.en, self.gated = en, gated
        self.loads, self.valids = [], []

    def add(self, m, reg, value, *, rider=False):
        """``reg`` takes ``value``; a ``rider`` is data whose valid bit is in the group."""
        if not self.gated:
            with m.If(self.en):
                m.d.sync += reg.eq(value)
            return
        self.loads.append((reg, value))
        if not rider:
            self.valids += [reg, value]

    def close(self, m):
        """Emit the group's shared enable (after its last ``add``)."""
        if self.loads:
            with m.If(self.en & Cat(*self.valids).any()):
                m.d.sync += [reg.eq(value) for reg, value in self.loads]
