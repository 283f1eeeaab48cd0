"""The host side of the accelerator's protocol, independent of any simulator.

A job becomes a command word, then per tile (row-major over ceil(M/rows) × ceil(N/cols) tiles)
K operand beats: A[m0 + i, k] for i < rows and B[k, n0 + j] for j < cols, each value shifted
into the top of the ``max_width``-bit datapath (MSB-aligned) and zero past M and N. A job the
array packs (``AccelConfig.pack``: P > 1) sends ceil(K/P) beats instead; beat t holds k = tP + g
in a's field g and in b's field P-1-g (field 0 at the top; ``hw.multiplier`` explains the
reversal), each MSB-aligned in the field's G bits, zero past K. Result beats carry a row
Y[m, n0 + j] (j < cols), MSB-aligned in the output width.
"""

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data

from hw.layouts import a_layout, b_layout, job_layout, result_layout


# --- packing values into the flat integers a simulator sees ------------------------------------

def pack(layout, value):
    """The bits of ``value`` (dict for a struct, sequence for an array, int) as an integer."""
    if isinstance(layout, data.StructLayout):
        word = 0
        for name, field in layout:
            word |= pack(field.shape, value[name]) << field.offset
        return word
    if isinstance(layout, data.ArrayLayout):
        width = Shape.cast(layout.elem_shape).width
        if len(value) != layout.length:
            raise ValueError(f"expected {layout.length} elements, not {len(value)}")
        word = 0
        for i, v in enumerate(value):
            word |= pack(layout.elem_shape, v) << (i * width)
        return word
    shape = Shape.cast(layout)
    v = int(value)
    lo, hi = (-(1 << shape.width - 1), (1 << shape.width - 1)) if shape.signed \
        else (0, 1 << shape.width)
    if not lo <= v < hi:
        raise ValueError(f"{v} does not fit {shape}")
    return v & ((1 << shape.width) - 1)


def unpack(layout, word):
    """The inverse of ``pack``."""
    word = int(word)
    if isinstance(layout, data.StructLayout):
        return {name: unpack(field.shape, word >> field.offset) for name, field in layout}
    if isinstance(layout, data.ArrayLayout):
        width = Shape.cast(layout.elem_shape).width
        return [unpack(layout.elem_shape, word >> (i * width)) for i in range(layout.length)]
    shape = Shape.cast(layout)
    word &= (1 << shape.width) - 1
    if shape.signed and word >> (shape.width - 1):
        word -= 1 << shape.width
    return word


# --- jobs ----------------------------------------------------------------------------------------

def check_job(config, job):
    """Raise ``ValueError`` with a one-line reason when ``config``'s array cannot run ``job``."""
    m, k, n = job.shape
    for name in ("a", "b", "out"):
        width = getattr(job, f"{name}_width")
        if width not in config.widths:
            raise ValueError(f"{name}_width {width} is not supported by this array "
                             f"(widths {', '.join(map(str, config.widths))})")
    if k > config.max_k:
        raise ValueError(f"K = {k} exceeds this array's max_k = {config.max_k}")
    for dim, size in (("M", m), ("N", n)):
        if size > config.max_dim:
            raise ValueError(f"{dim} = {size} exceeds this array's max_dim = {config.max_dim}")
    if not config.min_shift <= job.shift <= config.max_shift:
        raise ValueError(f"shift a_frac + b_frac - out_frac = {job.shift} is outside this "
                         f"array's range [{config.min_shift}, {config.max_shift}]")


def command(job, *, m=None, k=None, n=None):
    """The command word's fields for ``job`` (``m``, ``k``, ``n`` override its shape: tests
    use that to send commands the array must refuse)."""
    jm, jk, jn = job.shape
    fields = {name: int(v) for name, v in job.scalars().items()}
    fields.update(m=jm if m is None else m, k=jk if k is None else k, n=jn if n is None else n)
    return fields


def tiles(config, job):
    """The tile origins (m0, n0) in the order the array computes them."""
    m, _, n = job.shape
    return [(m0, n0) for m0 in range(0, m, config.rows) for n0 in range(0, n, config.cols)]


def _packed_k(values, *, width, count, group, max_width, reverse=False):
    """``values`` (.., K) -> (.., ceil(K/count)): ``count`` consecutive k per word, k = tP + g
    MSB-aligned in field g (``reverse``: field P-1-g), field f in bits
    [max_width - (f+1)·group, max_width - f·group), as a signed word."""
    k = values.shape[-1]
    beats = -(-k // count)
    padded = np.zeros(values.shape[:-1] + (beats * count,), np.int64)
    padded[..., :k] = values << (group - width)
    fields = padded.reshape(values.shape[:-1] + (beats, count)) & ((1 << group) - 1)
    order = range(count - 1, -1, -1) if reverse else range(count)
    word = sum(fields[..., g] << (max_width - (f + 1) * group) for f, g in enumerate(order))
    return np.where(word >> (max_width - 1), word - (1 << max_width), word)


def operand_beats(config, job):
    """``(a_beats, b_beats)``: int64 arrays (beats × rows) and (beats × cols), MSB-aligned
    (packed when ``config.pack`` says so)."""
    m, _, n = job.shape
    count, group = config.pack(job.a_width, job.b_width)
    w = config.max_width
    a_k = _packed_k(job.a, width=job.a_width, count=count, group=group, max_width=w)
    b_k = _packed_k(job.b.T, width=job.b_width, count=count, group=group, max_width=w,
                    reverse=True).T
    k = a_k.shape[1]
    tm, tn = -(-m // config.rows), -(-n // config.cols)
    a = np.zeros((tm * config.rows, k), np.int64)
    b = np.zeros((k, tn * config.cols), np.int64)
    a[:m] = a_k
    b[:, :n] = b_k
    # a_beats[t, kk, i] = A[t_m*rows + i, kk] for tile t = (t_m, t_n), row-major.
    a_tiles = a.reshape(tm, config.rows, k).transpose(0, 2, 1)           # tm, k, rows
    b_tiles = b.reshape(k, tn, config.cols).transpose(1, 0, 2)           # tn, k, cols
    a_beats = np.repeat(a_tiles[:, None], tn, axis=1).reshape(-1, config.rows)
    b_beats = np.broadcast_to(b_tiles[None], (tm, tn, k, config.cols)).reshape(-1, config.cols)
    return a_beats, b_beats


def packed_beats(config, job):
    """The operand beats as the integers on the ``a`` and ``b`` payload ports."""
    a_beats, b_beats = operand_beats(config, job)
    al, bl = a_layout(config), b_layout(config)
    return [pack(al, row) for row in a_beats.tolist()], [pack(bl, row) for row in b_beats.tolist()]


def packed_command(config, job, **overrides):
    return pack(job_layout(), command(job, **overrides))


class ResultAssembler:
    """Collects result beats (packed integers) into Y, checking their order and names."""

    def __init__(self, config, job):
        self.config, self.job = config, job
        m, _, n = job.shape
        self.y = np.zeros((m, n), np.int64)
        self.expected = [(m0 + i, n0) for m0, n0 in tiles(config, job)
                         for i in range(config.rows) if m0 + i < m]
        self.count = 0
        self.layout = result_layout(config)

    def add(self, word):
        beat = unpack(self.layout, word)
        if self.count >= len(self.expected):
            raise AssertionError(f"unexpected result beat {beat} after the last one")
        m, n0 = self.expected[self.count]
        if (beat["m"], beat["n"]) != (m, n0):
            raise AssertionError(f"result beat {self.count} names row {beat['m']}, column "
                                 f"{beat['n']}; expected {m}, {n0}")
        if beat["last"] != (self.count == len(self.expected) - 1):
            raise AssertionError(f"result beat {self.count} has last={beat['last']}")
        cols = min(self.config.cols, self.y.shape[1] - n0)
        shift = self.config.max_width - self.job.out_width
        values = np.array(beat["data"][:cols], np.int64)
        if np.any(values & ((1 << shift) - 1)):
            raise AssertionError(f"result beat {self.count} is not MSB-aligned: {values}")
        self.y[m, n0:n0 + cols] = values >> shift
        self.count += 1

    @property
    def complete(self):
        return self.count == len(self.expected)
