"""The FPGA sums of ``LaneMultiplier`` (``hw.multiplier``): the same bits from products wide
enough for DSP blocks (elaborated with ``platform=hw.platform.DSP_PLATFORM``).

The plain multiplier is one ``a * b`` (``LaneMultiplier.elaborate``). The packed one sums, per
lane i of a, one product of that lane (signed where it tops its field) with the whole field of
b that it pairs with, ``sum_i a_i B_i 2^(L i)`` (``B_i`` = sum of the b lanes j paired with i,
times 2^(L j): the signed field at its place; ``_rows``). Where no field splits a pair of lanes
(or every lane is a field), one product per pair of a's lanes does it, half the DSP blocks
(``_pairs``). With ``stages=1`` the products are registered (``LaneMultiplier.staged``) with
what needs only a and b beside them, so that the DSP blocks' outputs are registers.
"""

from amaranth.hdl import Cat, Const, Mux, Signal, signed

from .sums import balanced_sum


def products(mul, m):
    """The packed multiplier ``mul``'s product or packed sum from DSP-sized products."""
    return _pairs(mul, m) if _pairable(mul) else _rows(mul, m)


def _b_word(mul, i, signed_lane, pair_on):
    """``B_i``: b's lanes paired with lane i of a as one signed word (the field at its
    place: sign-filled above it, zero below)."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    top = [mul.b[(j + 1) * L - 1] & signed_lane[j] for j in range(count)]
    on = [pair_on[i * count + j] for j in range(count)]
    negative = Cat(on[j] & top[j] for j in range(count)).any()
    lanes = []
    for j in range(count):
        above = Cat(on[:j]).any() & ~on[j] if j else Const(0, 1)
        fill = Mux(above & negative, (1 << L) - 1, 0)
        lanes.append(Mux(on[j], mul.b[j * L:(j + 1) * L], fill))
    return Cat(*lanes).as_signed()


def _rows(mul, m):
    """The packed multiplier as one (L+1) x width product per lane i of a (DSP-sized):
    a's lane (signed where it tops its field) times ``B_i``."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    signed_lane, pair_on = mul.mode(m)
    terms = []
    for i in range(count):
        sign = mul.a[(i + 1) * L - 1] & signed_lane[i]
        lane_a = Cat(mul.a[i * L:(i + 1) * L], sign).as_signed()
        product = mul.staged(m, lane_a * _b_word(mul, i, signed_lane, pair_on), f"row{i}")
        terms.append(product << L * i)
    return balanced_sum(terms)


def _pairable(mul):
    """Whether ``_pairs`` applies: an even lane count, and every group one lane wide or
    an even number of lanes (so a pair of lanes never straddles two fields)."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    return count % 2 == 0 and all(g == L or (g // L) % 2 == 0 for g in mul.groups)


def _pairs(mul, m):
    """The packed multiplier as one product per pair of a's lanes (2k, 2k+1): half the
    DSP blocks of ``_rows``.

    In a mode whose fields hold both lanes: the pair (signed where it tops its field)
    times ``B_2k+1``, at 2^(2Lk). In the mode of one-lane fields the two lanes pair with
    b's lanes j0 = count-1-2k and j1 = j0-1. With S = 2L+1 guard bits and the low lanes
    read unsigned (u = lane + 2^L s, s its sign bit), (a_2k+1 2^S + u_a2k)(b_j0 2^S + u_bj1)
    holds a_2k+1 u_bj1 + u_a2k b_j0 in bits [S, 2S) (the low product is below 2^2L);
    subtracting 2^L (s_bj1 a_2k+1 + s_a2k b_j0), which does not wait for the DSP, gives
    a_2k+1 b_j1 + a_2k b_j0. No adder sits before the DSP."""
    L, count = mul.lane_width, mul.width // mul.lane_width
    S = 2 * L + 1
    signed_lane, pair_on = mul.mode(m)
    narrow = mul.pack[mul.groups.index(L)] if L in mul.groups else Const(0, 1)
    wx, wy = 3 * L + 1, max(mul.width, 3 * L + 1)

    def lane(value, i):
        return value[i * L:(i + 1) * L]

    wide, mids, fixes = [], [], []
    for k in range(count // 2):
        x, y = Signal(signed(wx), name=f"x{k}"), Signal(signed(wy), name=f"y{k}")
        sign = mul.a[(2 * k + 2) * L - 1] & signed_lane[2 * k + 1]
        j0, j1 = count - 1 - 2 * k, count - 2 - 2 * k
        gap = Const(0, S - L)
        x_narrow = Cat(lane(mul.a, 2 * k), gap, lane(mul.a, 2 * k + 1)).as_signed()
        y_narrow = Cat(lane(mul.b, j1), gap, lane(mul.b, j0)).as_signed()
        m.d.comb += [
            x.eq(Mux(narrow, x_narrow,
                     Cat(mul.a[2 * k * L:(2 * k + 2) * L], sign).as_signed())),
            y.eq(Mux(narrow, y_narrow, _b_word(mul, 2 * k + 1, signed_lane, pair_on)))]
        product = Signal(signed(wx + wy), name=f"pair{k}")
        m.d.comb += product.eq(x * y)
        product = mul.staged(m, product, f"pair{k}_q")
        wide.append(product << 2 * L * k)
        mids.append(product[S:2 * S].as_signed())
        fixes += [Mux(mul.b[(j1 + 1) * L - 1], lane(mul.a, 2 * k + 1).as_signed(), 0),
                  Mux(mul.a[(2 * k + 1) * L - 1], lane(mul.b, j0).as_signed(), 0)]
    fix = mul.staged(m, balanced_sum(fixes), "fix")
    narrow = mul.staged(m, narrow, "narrow_q")
    narrow_sum = balanced_sum(mids) - (fix << L)
    return Mux(narrow, narrow_sum << L * (count - 1), balanced_sum(wide))
