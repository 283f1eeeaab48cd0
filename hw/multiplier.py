"""``LaneMultiplier``: a signed multiplier built from lane-sized sub-multipliers.

With a = sum_i a_i 2^(L i) and b = sum_j b_j 2^(L j) (the top lane signed, the others unsigned),
a * b = sum_ij a_i b_j 2^(L (i + j)). At a narrow runtime width the low operand lanes are masked
to zero, so every sub-multiplier that touches them sees constant inputs and stops switching:
the active ones are (Wa/L)·(Wb/L) of lanes², which is what makes energy fall near-quadratically.

Subword packing (``groups``): in the mode of group width G, a and b hold P = width // G signed
G-bit fields each, field 0 at the top (bits [width - (g+1)G, width - gG)), and the multiplier
returns the sum of the products of a's field g with b's field P-1-g:
p = sum_g a_g b_(P-1-g) 2^(2 width - (P+1) G). Pairing field g with field P-1-g puts every
such product at the same place, so each lane pair keeps its plain shift L(i + j): only the
sub-multipliers of those pairs take part (the others see zeros on b), and a lane is signed
where it is the top lane of its field. At width G a beat then does P MACs on P·(G/L)²
sub-multipliers, one P-th of the full-width array's, summed in the same adder tree.

This module holds the component: its parameters, ports, the packed modes' decoding
(``LaneMultiplier.decode``) and the pipeline register. The sums themselves are built elsewhere:
for ASICs by ``hw.multiplier_trees`` (``tree`` "split" or "folded"); on an FPGA (elaborated
with ``platform=hw.platform.DSP_PLATFORM``) by ``hw.multiplier_dsp``, from products wide enough
for DSP blocks (lane gating saves no DSP energy, so the ASIC structure is kept for every other
platform).

With ``stages=1`` a register (loading on ``en``) splits the multiplier: in the FPGA build right
after the DSP-sized products (the DSP blocks' outputs; what needs only a and b beside them is
registered with them), so that operand selection → DSP and DSP → sum are separate cycles;
elsewhere at the output. ``p`` then follows ``a`` and ``b`` by one enabled cycle.
"""

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import multiplier_dsp, multiplier_trees

TREES = ("split", "folded")     # AccelConfig.mult_tree's others: "fused2d" is hw.fused


def _check(*, width, lane_width, groups, tree, stages):
    """Raise ``ValueError`` naming the first parameter ``LaneMultiplier`` cannot take."""
    error = None
    if stages not in (0, 1):
        error = f"stages must be 0 or 1, not {stages!r}"
    elif tree not in TREES:
        error = f"tree must be one of {', '.join(TREES)}, not {tree!r}"
    elif not isinstance(width, int) or width < 2:
        error = f"width must be an integer >= 2, not {width!r}"
    elif lane_width is not None and (not isinstance(lane_width, int) or lane_width < 1
                                     or width % lane_width):
        error = f"lane_width must divide width ({width}), not {lane_width!r}"
    elif groups and (lane_width is None or any(
            not isinstance(g, int) or g % lane_width or not 0 < 2 * g <= width
            for g in groups)):
        error = (f"groups must be multiples of lane_width ({lane_width}) that fit at "
                 f"least twice into width ({width}), not {groups!r}")
    if error:
        raise ValueError(error)


class LaneMultiplier(wiring.Component):
    """Combinational ``p = a * b`` for ``width``-bit signed operands, or their packed sum of
    products while the ``pack`` bit of a group width is set (at most one at a time; the sum
    fits: P·2^(2G-2)·2^(2 width-(P+1)G) <= 2^(2 width-2)).

    Parameters
    ----------
    width : int
        The operands' width (at least 2).
    lane_width : int or None
        The sub-multipliers' lane width (dividing ``width``); ``None`` gives a plain
        ``a * b`` (the fixed-width baseline).
    groups : tuple of int
        The packed modes' group widths G (multiples of ``lane_width``, 2·G ≤ ``width``).
    tree : "split" or "folded"
        "split" sums whole lane products and subtracts a second sum of their sign terms;
        "folded" sums every partial-product bit, the sign terms folded in Baugh-Wooley style,
        in one tree (``hw.folded``). Both give the same bits (the packed modes for a one-hot
        ``pack``).
    stages : 0 or 1
        Pipeline registers inside the multiplier (see the module's description).

    Members
    -------
    a, b : In(signed(width))
        The operands (in a packed mode: P fields each, field 0 at the top).
    p : Out(signed(2 * width))
        The product, or the packed sum of products.
    pack : In(len(groups))
        One-hot: the packed mode of each group width (only when ``groups``).
    en : In(1)
        The pipeline register loads (only when ``stages``).
    """

    def __new__(cls, *, width, lane_width, groups=(), tree="split", stages=0):
        # Checked before the object exists: a refused component is no unused elaboratable.
        _check(width=width, lane_width=lane_width, groups=groups, tree=tree, stages=stages)
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, *, width, lane_width, groups=(), tree="split", stages=0):
        self.width, self.lane_width, self.groups = width, lane_width, tuple(groups)
        self.tree, self.stages = tree, stages
        ports = {"a": In(signed(width)), "b": In(signed(width)),
                 "p": Out(signed(2 * width))}
        if self.groups:
            ports["pack"] = In(len(self.groups))
        if stages:
            ports["en"] = In(1)
        super().__init__(ports)

    def staged(self, m, value, name):
        """``value`` through the pipeline register (as is without ``stages``)."""
        if not self.stages:
            return value
        reg = Signal(value.shape(), name=name)
        with m.If(self.en):
            m.d.sync += reg.eq(value)
        return reg

    def elaborate(self, platform):
        m = Module()
        rows = getattr(platform, "lane_products", None) == "rows"
        if self.lane_width is None or self.lane_width == self.width or (rows and not self.groups):
            m.d.comb += self.p.eq(self.staged(m, self.a * self.b, "product"))
            return m
        if rows:
            m.d.comb += self.p.eq(multiplier_dsp.products(self, m))
            return m
        if self.stages:     # the ASIC structures: the register at the output
            inner = LaneMultiplier(width=self.width, lane_width=self.lane_width,
                                   groups=self.groups, tree=self.tree)
            m.submodules.inner = inner
            m.d.comb += [inner.a.eq(self.a), inner.b.eq(self.b)]
            if self.groups:
                m.d.comb += inner.pack.eq(self.pack)
            m.d.comb += self.p.eq(self.staged(m, inner.p, "product"))
            return m
        if self.tree == "folded":
            m.d.comb += self.p.eq(multiplier_trees.folded(self, m))
        elif not self.groups:
            m.d.comb += self.p.eq(multiplier_trees.split(self))
        else:
            m.d.comb += self.p.eq(multiplier_trees.packed(self))
        return m

    def decode(self, pack):
        """The mode bits of ``pack``: per lane whether it is the top (signed) lane of its
        field, then per lane pair (i, j), row-major, whether the pair takes part."""
        L, count = self.lane_width, self.width // self.lane_width
        plain = ~pack.any()
        # modes: (condition, lanes per field, fields) -- the plain mode is one field of all lanes
        modes = [(plain, count, 1)] + [(pack[i], g // L, self.width // g)
                                       for i, g in enumerate(self.groups)]

        def field_of(lane, per):
            return (count - 1 - lane) // per     # field 0 holds the top lanes

        signs = [Cat(cond for cond, per, n in modes
                     if (count - 1 - lane) % per == 0 and field_of(lane, per) < n).any()
                 for lane in range(count)]
        pairs = [Cat(cond for cond, per, n in modes
                     if field_of(i, per) < n and field_of(j, per) < n
                     and field_of(i, per) + field_of(j, per) == n - 1).any()
                 for i in range(count) for j in range(count)]
        return Cat(*signs, *pairs)

    def mode(self, m):
        """``(signed_lane, pair_on)``: ``decode`` of ``pack`` through a signal (each use reads
        it, not a copy of the logic)."""
        count = self.width // self.lane_width
        mode = Signal(count + count * count)
        m.d.comb += mode.eq(self.decode(self.pack))
        return mode[:count], mode[count:]
