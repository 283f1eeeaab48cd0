"""The host side of the accelerator's protocol, independent of any simulator.

A job becomes a command word, then per tile (row-major over ceil(M/rows) × ceil(N/cols) tiles)
K operand beats: A[m0 + i, k] for i < rows and B[k, n0 + j] for j < cols, each value shifted
into the top of the ``max_width``-bit datapath (MSB-aligned) and zero past M and N. A job the
array packs (``AccelConfig.pack``: P > 1) sends ceil(K/P) beats instead; beat t holds k = tP + g
in a's field g and in b's field P-1-g (field 0 at the top of the ``word_width``-bit word, wider
than max_width only for the 2-D decomposed multiplier; ``hw.multiplier`` explains the
reversal), each MSB-aligned in the field's G bits, zero past K. Result beats carry a row
Y[m, n0 + j] (j < cols), MSB-aligned in the output width.
"""

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data

from golden import GemmResult
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
    # Words wider than int64 holds (the fused multiplier's) as Python integers.
    dtype = np.int64 if max_width < 63 else object
    padded = np.zeros(values.shape[:-1] + (beats * count,), dtype)
    padded[..., :k] = values.astype(dtype) << (group - width)
    fields = padded.reshape(values.shape[:-1] + (beats, count)) & ((1 << group) - 1)
    order = range(count - 1, -1, -1) if reverse else range(count)
    word = sum(fields[..., g] << (max_width - (f + 1) * group) for f, g in enumerate(order))
    return np.where(word >> (max_width - 1), word - (1 << max_width), word)


def operand_beats(config, job):
    """``(a_beats, b_beats)``: int64 arrays (beats × rows) and (beats × cols), MSB-aligned
    (packed when ``config.pack`` says so; of Python integers for words over 62 bits)."""
    m, _, n = job.shape
    count, group = config.pack(job.a_width, job.b_width)
    w = config.word_width
    a_k = _packed_k(job.a, width=job.a_width, count=count, group=group, max_width=w)
    b_k = _packed_k(job.b.T, width=job.b_width, count=count, group=group, max_width=w,
                    reverse=True).T
    k = a_k.shape[1]
    tm, tn = -(-m // config.rows), -(-n // config.cols)
    a = np.zeros((tm * config.rows, k), a_k.dtype)
    b = np.zeros((k, tn * config.cols), b_k.dtype)
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


def split_item(item):
    """``(job, overrides)`` of a driver's item: a job (``overrides`` None), or a ``(job,
    overrides)`` pair, a command the array must refuse (``command``'s m, k, n)."""
    return item if isinstance(item, tuple) else (item, None)


def timeout_cycles(config, job):
    """A generous bound on a job's cycles from command to done, gaps and stalls included
    (every driver's watchdog)."""
    m, k, n = job.shape
    return 2000 + 50 * len(tiles(config, job)) * (max(k, config.rows) + config.cols)


# --- results ---------------------------------------------------------------------------------

def result_names(config, job):
    """``(beats × 2)``: the (m, n0) each result beat must name, in order."""
    m, _, _ = job.shape
    return np.array([(m0 + i, n0) for m0, n0 in tiles(config, job)
                     for i in range(config.rows) if m0 + i < m], np.int64).reshape(-1, 2)


def result_row(config, word):
    """A result beat (the packed ``y`` payload) as ``[m, n, last, data...]``."""
    beat = unpack(result_layout(config), word)
    return [beat["m"], beat["n"], int(beat["last"])] + list(beat["data"])


def _name_problem(i, got, want):
    return f"result beat {i} names row {got[0]}, column {got[1]}; expected {want[0]}, {want[1]}"


def assemble(config, job, rows, *, error=0, saturated=0, underflow=0):
    """The job's ``GemmResult`` from its result beats (``rows``: ``[m, n, last, data...]``,
    data as signed or unsigned ``max_width``-bit words) and the status at done; raises
    ``AssertionError`` naming the first protocol violation."""
    c = config
    m, _, n = job.shape
    if error:
        raise AssertionError(f"the array refused a valid job with error {error}")
    rows = np.asarray(rows, np.int64).reshape(-1, 3 + c.cols)
    expected = result_names(c, job)
    if len(rows) != len(expected):
        raise AssertionError(f"{len(rows)} of {len(expected)} result beats arrived")
    bad = np.flatnonzero((rows[:, :2] != expected).any(axis=1))
    if bad.size:
        raise AssertionError(_name_problem(bad[0], rows[bad[0], :2], expected[bad[0]]))
    last = np.zeros(len(rows), np.int64)
    last[-1] = 1
    if not np.array_equal(rows[:, 2], last):
        raise AssertionError(f"result beat {np.flatnonzero(rows[:, 2] != last)[0]} has a "
                             f"wrong last flag")
    shift = c.max_width - job.out_width
    data = rows[:, 3:] & ((1 << c.max_width) - 1)
    data = np.where(data >> (c.max_width - 1), data - (1 << c.max_width), data)
    cols = np.arange(c.cols)[None, :] + expected[:, 1:2]
    inside = cols < n
    if np.any(data[inside] & ((1 << shift) - 1)):
        raise AssertionError("a result value is not MSB-aligned in the output word")
    y = np.zeros((m, n), np.int64)
    y[np.broadcast_to(expected[:, :1], cols.shape)[inside], cols[inside]] = data[inside] >> shift
    return GemmResult(y=y, saturated=int(saturated), underflow=int(underflow))


class ResultAssembler:
    """Collects result beats (packed integers) as they arrive, refusing one that comes after
    the last or names the wrong row at once; ``result`` assembles them (``assemble``)."""

    def __init__(self, config, job):
        self.config, self.job = config, job
        self.expected = result_names(config, job)
        self.rows = []

    @property
    def count(self):
        return len(self.rows)

    @property
    def complete(self):
        return self.count == len(self.expected)

    def add(self, word):
        row = result_row(self.config, word)
        if self.complete:
            raise AssertionError(f"unexpected result beat {row[:3]} after the last one")
        if tuple(row[:2]) != tuple(self.expected[self.count]):
            raise AssertionError(_name_problem(self.count, row[:2], self.expected[self.count]))
        self.rows.append(row)

    def result(self, **status):
        """``assemble`` of the beats so far with ``status`` (error, saturated, underflow)."""
        return assemble(self.config, self.job, self.rows, **status)

    @property
    def y(self):
        return self.result().y


class JobDriver:
    """One job from the host's side, the same for every testbench (``sim.tb.TB`` under cocotb,
    ``sim.amaranth_tb.TB`` in amaranth.sim): a subclass provides ``wait_for(predicate,
    timeout_cycles=, what=)``, ``wait_done(timeout_cycles=)`` (returns the status), the
    ``cmd``/``a``/``b`` stream sources (``send``, ``sent``), the ``y`` sink's ``words`` and
    ``cycle``."""

    _watchdog = staticmethod(timeout_cycles)     # the argument of ``run_job`` shadows the name

    async def submit(self, job, **overrides):
        """Send a command and wait until the array has taken it; returns the cycle."""
        sent = self.cmd.sent
        self.cmd.send([packed_command(self.config, job, **overrides)])
        await self.wait_for(lambda: self.cmd.sent > sent, timeout_cycles=100_000,
                            what="the command to be accepted")
        return self.cycle

    async def run_job(self, job, *, timeout_cycles=None):
        """Run ``job``; returns ``(GemmResult, cycles from command to done)``."""
        asm = ResultAssembler(self.config, job)
        first = len(self.y.words)
        start = await self.submit(job)
        a_words, b_words = packed_beats(self.config, job)
        self.a.send(a_words)
        self.b.send(b_words)
        status = await self.wait_done(
            timeout_cycles=timeout_cycles or self._watchdog(self.config, job))
        for word in self.y.words[first:]:
            asm.add(word)
        del self.y.words[first:]
        return asm.result(error=status["error"], saturated=status["saturated"],
                          underflow=status["underflow"]), self.cycle - start
