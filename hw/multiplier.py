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

On an FPGA (elaborated with ``platform=DSP_PLATFORM``) the same bits come from products wide
enough for DSP blocks: the plain multiplier is one ``a * b``; the packed one sums, per lane i of
a, one product of that lane (signed where it tops its field) with the whole field of b that it
pairs with, ``sum_i a_i B_i 2^(L i)`` (``B_i`` = sum of the b lanes j paired with i, times
2^(L j): the signed field at its place). Where no field splits a pair of lanes (or every lane
is a field), one product per pair of a's lanes does it, half the DSP blocks (``_pairs``). Lane
gating then saves no DSP energy, so the ASIC structure is kept for every other platform.

With ``stages=1`` a register (loading on ``en``) splits the multiplier: in the FPGA build right
after the DSP-sized products (the DSP blocks' outputs; what needs only a and b beside them is
registered with them), so that operand selection → DSP and DSP → sum are separate cycles;
elsewhere at the output. ``p`` then follows ``a`` and ``b`` by one enabled cycle.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from . import folded
from .lanes import lane_bounds

TREES = ("split", "folded")     # AccelConfig.mult_tree's others: "fused2d" is hw.fused


class DSPPlatform:
    """Elaboration platform for FPGA flows: ``LaneMultiplier`` uses its DSP-sized products,
    and the PE's product and accumulator registers load all lanes on one enable
    (``lane_loads``): an iCE40 logic tile's flops share one clock enable, so per-lane enables
    split the accumulator's carry chain at every lane (its critical path on the UP5K), while
    every reader masks the disabled lanes anyway. ``ResultDrain`` names its result beats with
    a counter at its output instead of a delay line (``recount_names``); ``Control`` reads the
    settings that copy a command field from its command register (``settings_in_job``)."""
    lane_products = "rows"
    lane_loads = False
    recount_names = True
    settings_in_job = True


DSP_PLATFORM = DSPPlatform()


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

    def _staged(self, m, value, name):
        """``value`` through the pipeline register (as is without ``stages``)."""
        if not self.stages:
            return value
        reg = Signal(value.shape(), name=name)
        with m.If(self.en):
            m.d.sync += reg.eq(value)
        return reg

    def _lanes(self, value):
        bounds = lane_bounds(self.width, self.lane_width)
        lanes = [value[lo:hi] for lo, hi in bounds]
        lanes[-1] = lanes[-1].as_signed()  # the sign lives in the top lane
        return [(lo, lane) for (lo, _), lane in zip(bounds, lanes)]

    def elaborate(self, platform):
        m = Module()
        rows = getattr(platform, "lane_products", None) == "rows"
        if self.lane_width is None or self.lane_width == self.width or (rows and not self.groups):
            m.d.comb += self.p.eq(self._staged(m, self.a * self.b, "product"))
            return m
        if rows:
            m.d.comb += self.p.eq(self._pairs(m) if self._pairable() else self._rows(m))
            return m
        if self.stages:     # the ASIC structures: the register at the output
            inner = LaneMultiplier(width=self.width, lane_width=self.lane_width,
                                   groups=self.groups, tree=self.tree)
            m.submodules.inner = inner
            m.d.comb += [inner.a.eq(self.a), inner.b.eq(self.b)]
            if self.groups:
                m.d.comb += inner.pack.eq(self.pack)
            m.d.comb += self.p.eq(self._staged(m, inner.p, "product"))
            return m
        if self.tree == "folded":
            m.d.comb += self.p.eq(self._folded(m))
            return m
        if not self.groups:
            terms = [(ai * bj) << (lo_a + lo_b)
                     for lo_a, ai in self._lanes(self.a) for lo_b, bj in self._lanes(self.b)]
            m.d.comb += self.p.eq(sum(terms[1:], terms[0]))
            return m
        m.d.comb += self.p.eq(self._packed())
        return m

    def _mode(self, m):
        count = self.width // self.lane_width
        mode = Signal(count + count * count)    # a signal: each use reads it, not a copy
        m.d.comb += mode.eq(self.decode(self.pack))
        return mode[:count], mode[count:]

    def _b_word(self, i, signed_lane, pair_on):
        """``B_i``: b's lanes paired with lane i of a as one signed word (the field at its
        place: sign-filled above it, zero below)."""
        L, count = self.lane_width, self.width // self.lane_width
        top = [self.b[(j + 1) * L - 1] & signed_lane[j] for j in range(count)]
        on = [pair_on[i * count + j] for j in range(count)]
        negative = Cat(on[j] & top[j] for j in range(count)).any()
        lanes = []
        for j in range(count):
            above = Cat(on[:j]).any() & ~on[j] if j else Const(0, 1)
            fill = Mux(above & negative, (1 << L) - 1, 0)
            lanes.append(Mux(on[j], self.b[j * L:(j + 1) * L], fill))
        return Cat(*lanes).as_signed()

    def _rows(self, m):
        """The packed multiplier as one (L+1) x width product per lane i of a (DSP-sized):
        a's lane (signed where it tops its field) times ``B_i``."""
        L, count = self.lane_width, self.width // self.lane_width
        signed_lane, pair_on = self._mode(m)
        terms = []
        for i in range(count):
            sign = self.a[(i + 1) * L - 1] & signed_lane[i]
            lane_a = Cat(self.a[i * L:(i + 1) * L], sign).as_signed()
            product = self._staged(m, lane_a * self._b_word(i, signed_lane, pair_on),
                                   f"row{i}")
            terms.append(product << L * i)
        return balanced_sum(terms)

    def _pairable(self):
        """Whether ``_pairs`` applies: an even lane count, and every group one lane wide or
        an even number of lanes (so a pair of lanes never straddles two fields)."""
        L, count = self.lane_width, self.width // self.lane_width
        return count % 2 == 0 and all(g == L or (g // L) % 2 == 0 for g in self.groups)

    def _pairs(self, m):
        """The packed multiplier as one product per pair of a's lanes (2k, 2k+1): half the
        DSP blocks of ``_rows``.

        In a mode whose fields hold both lanes: the pair (signed where it tops its field)
        times ``B_2k+1``, at 2^(2Lk). In the mode of one-lane fields the two lanes pair with
        b's lanes j0 = count-1-2k and j1 = j0-1. With S = 2L+1 guard bits and the low lanes
        read unsigned (u = lane + 2^L s, s its sign bit), (a_2k+1 2^S + u_a2k)(b_j0 2^S + u_bj1)
        holds a_2k+1 u_bj1 + u_a2k b_j0 in bits [S, 2S) (the low product is below 2^2L);
        subtracting 2^L (s_bj1 a_2k+1 + s_a2k b_j0), which does not wait for the DSP, gives
        a_2k+1 b_j1 + a_2k b_j0. No adder sits before the DSP."""
        L, count = self.lane_width, self.width // self.lane_width
        S = 2 * L + 1
        signed_lane, pair_on = self._mode(m)
        narrow = self.pack[self.groups.index(L)] if L in self.groups else Const(0, 1)
        wx, wy = 3 * L + 1, max(self.width, 3 * L + 1)

        def lane(value, i):
            return value[i * L:(i + 1) * L]

        wide, mids, fixes = [], [], []
        for k in range(count // 2):
            x, y = Signal(signed(wx), name=f"x{k}"), Signal(signed(wy), name=f"y{k}")
            sign = self.a[(2 * k + 2) * L - 1] & signed_lane[2 * k + 1]
            j0, j1 = count - 1 - 2 * k, count - 2 - 2 * k
            gap = Const(0, S - L)
            x_narrow = Cat(lane(self.a, 2 * k), gap, lane(self.a, 2 * k + 1)).as_signed()
            y_narrow = Cat(lane(self.b, j1), gap, lane(self.b, j0)).as_signed()
            m.d.comb += [
                x.eq(Mux(narrow, x_narrow,
                         Cat(self.a[2 * k * L:(2 * k + 2) * L], sign).as_signed())),
                y.eq(Mux(narrow, y_narrow, self._b_word(2 * k + 1, signed_lane, pair_on)))]
            product = Signal(signed(wx + wy), name=f"pair{k}")
            m.d.comb += product.eq(x * y)
            product = self._staged(m, product, f"pair{k}_q")
            wide.append(product << 2 * L * k)
            mids.append(product[S:2 * S].as_signed())
            fixes += [Mux(self.b[(j1 + 1) * L - 1], lane(self.a, 2 * k + 1).as_signed(), 0),
                      Mux(self.a[(2 * k + 1) * L - 1], lane(self.b, j0).as_signed(), 0)]
        fix = self._staged(m, balanced_sum(fixes), "fix")
        narrow = self._staged(m, narrow, "narrow_q")
        narrow_sum = balanced_sum(mids) - (fix << L)
        return Mux(narrow, narrow_sum << L * (count - 1), balanced_sum(wide))

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

    def _packed(self):
        L, count = self.lane_width, self.width // self.lane_width
        mode = self.decode(self.pack)
        signed_lane, pair_on = mode[:count], mode[count:]

        def lanes(value):
            """(unsigned lane, its sign bit where it is signed here, else 0) per lane."""
            return [(value[i * L:(i + 1) * L], value[(i + 1) * L - 1] & signed_lane[i])
                    for i in range(count)]

        # A signed lane is u - 2^L s (u its bits as unsigned, s its sign), so a pair's product
        # is u_a u_b - 2^L (s_a u_b + s_b u_a) + 2^2L s_a s_b: unsigned products and
        # subtractions, which synthesis sums in one carry-save tree without sign extension.
        add, sub = [], []
        for i, (ua, sa) in enumerate(lanes(self.a)):
            for j, (ub, sb) in enumerate(lanes(self.b)):
                on = pair_on[i * count + j]
                # Operand isolation: outside its modes the pair's b is zero.
                ub, sb = Mux(on, ub, 0), sb & on
                at = L * (i + j)
                add += [(ua * ub) << at, (sa * sb) << at + 2 * L]
                sub += [(sa * ub) << at + L, (sb * ua) << at + L]
        return balanced_sum(add) - balanced_sum(sub)


    def _folded(self, m):
        """Every partial-product bit of ``hw.folded.plan`` in one sum (one carry-save tree)."""
        L, count = self.lane_width, self.width // self.lane_width
        if self.groups:
            mode = Signal(count + count * count)
            m.d.comb += mode.eq(self.decode(self.pack))
            signed_lane, pair_on = mode[:count], mode[count:]
        else:       # the plain mode alone: the top lane is signed, every pair counts
            signed_lane = Const(1 << (count - 1), count)
            pair_on = Const((1 << count * count) - 1, count * count)
        b_for = {}

        def b_lane(i, j):
            """b's lane j as pair (i, j) sees it: zero outside the pair's modes (isolation)."""
            if (i, j) not in b_for:
                b_for[i, j] = Signal(L, name=f"b{j}_for_a{i}")
                m.d.comb += b_for[i, j].eq(Mux(pair_on[i * count + j],
                                                self.b[j * L:(j + 1) * L], 0))
            return b_for[i, j]

        def value(bit):
            a_bit = self.a[bit.i * L + bit.k]
            b_bit = b_lane(bit.i, bit.j)[bit.l]
            a_sign, b_sign = a_bit & signed_lane[bit.i], b_bit & signed_lane[bit.j]
            return {"pp": a_bit & b_bit, "sa": ~(a_sign & b_bit), "sb": ~(b_sign & a_bit),
                    "ss": a_sign & b_sign}[bit.kind]

        rows, constant = folded.plan(self.width, L, self.groups)
        words = [Const(constant, 2 * self.width)]
        for row in rows:
            at = {bit.weight: value(bit) for bit in row}
            lo, hi = min(at), max(at)
            words.append(Cat(*(at.get(w, Const(0, 1)) for w in range(lo, hi + 1))) << lo)
        return balanced_sum(words)


def balanced_sum(terms):
    """The sum as a balanced tree of additions (a chain of many would nest too deep)."""
    terms = list(terms)
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]
