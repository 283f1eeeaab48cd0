"""Which commands the array refuses, and why: ``job_error``, the first ``JobError`` of a job
command as logic, for ``Control`` to end a command it cannot run with.

A command is refused when a width is not one of ``config.widths``, K, M or N is 0 or above its
limit, or the shift a_frac + b_frac - out_frac lies outside [min_shift, max_shift]. The range
checks are either comparators or, for FPGAs, AND/OR logic (``in_range``).
"""

from enum import IntEnum

from amaranth.hdl import Cat, Const, Mux


class JobError(IntEnum):
    """The ``error`` status after a refused command (0 after an accepted one)."""
    NONE = 0
    A_WIDTH = 1     # a_width is not one of config.widths
    B_WIDTH = 2
    OUT_WIDTH = 3
    K = 4           # K is 0 or above max_k
    M = 5           # M is 0 or above max_dim
    N = 6
    SHIFT = 7       # a_frac + b_frac - out_frac outside [min_shift, max_shift]


ERROR_BITS = 3


def at_most(x, bound):
    """Unsigned ``x <= bound`` (an integer) as AND/OR logic, bit by bit from the LSB."""
    if bound < 0:
        return Const(0, 1)
    if bound >> len(x):
        return Const(1, 1)
    le = Const(1, 1)
    for i, bit in enumerate(x):
        le = (~bit | le) if (bound >> i) & 1 else (~bit & le)
    return le


def in_range(x, lo, hi):
    """``lo <= x <= hi`` for an unsigned or signed value ``x`` as logic (``at_most``): a
    signed value is compared offset by 2^(width - 1), its sign bit flipped."""
    bits, offset = x.as_unsigned(), 0
    if x.shape().signed:
        offset = 1 << (len(x) - 1)
        bits = Cat(x[:-1], ~x[-1])
    return ~at_most(bits, lo + offset - 1) & at_most(bits, hi + offset)


def job_error(config, job, *, gates=False):
    """The first ``JobError`` of command ``job`` (a ``job_layout`` view) under ``config``, as a
    value (0 when it can run). ``gates``: the range checks as logic (``in_range``) instead of
    comparators, which FPGA synthesis builds as carry chains even against a constant (an
    iCE40 logic cell per bit)."""
    c = config
    s = job.a_frac + job.b_frac - job.out_frac
    def within(x, lo, hi):
        return in_range(x, lo, hi) if gates else (x >= lo) & (x <= hi)
    checks = [
        (JobError.A_WIDTH, Cat(job.a_width == w for w in c.widths).any()),
        (JobError.B_WIDTH, Cat(job.b_width == w for w in c.widths).any()),
        (JobError.OUT_WIDTH, Cat(job.out_width == w for w in c.widths).any()),
        (JobError.K, within(job.k, 1, c.max_k)),
        (JobError.M, within(job.m, 1, c.max_dim)),
        (JobError.N, within(job.n, 1, c.max_dim)),
        (JobError.SHIFT, within(s, c.min_shift, c.max_shift)),
    ]
    error = 0
    for code, ok in reversed(checks):
        error = Mux(ok, error, int(code))
    return error
