"""Data layouts of the accelerator's streams and the beats that travel through the array."""

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

# Field widths of the command word: wide enough to carry (and refuse) any contract job.
WIDTH_BITS = 6
FRAC_BITS = 10
DIM_FIELD_BITS = 32

# What travels with each operand beat through the array.
Flags = data.StructLayout({"valid": 1, "first": 1, "last": 1})


def job_layout():
    """The command stream's payload: one job's runtime configuration."""
    return data.StructLayout({
        "a_width": unsigned(WIDTH_BITS), "a_frac": signed(FRAC_BITS),
        "b_width": unsigned(WIDTH_BITS), "b_frac": signed(FRAC_BITS),
        "out_width": unsigned(WIDTH_BITS), "out_frac": signed(FRAC_BITS),
        "rounding": unsigned(1), "seed": unsigned(32),
        "m": unsigned(DIM_FIELD_BITS), "n": unsigned(DIM_FIELD_BITS),
        "k": unsigned(DIM_FIELD_BITS),
    })


def a_layout(config):
    """One operand beat for the rows: A[m0 + i, k] for i < rows, MSB-aligned in
    ``config.word_width`` bits (``AccelConfig.pack``)."""
    return data.ArrayLayout(signed(config.word_width), config.rows)


def b_layout(config):
    """One operand beat for the columns: B[k, n0 + j] for j < cols, MSB-aligned."""
    return data.ArrayLayout(signed(config.word_width), config.cols)


def result_layout(config):
    """One result beat: Y[m, n0 + j] for j < cols, MSB-aligned in max_width bits."""
    return data.StructLayout({
        "data": data.ArrayLayout(signed(config.max_width), config.cols),
        "m": unsigned(config.dim_bits), "n": unsigned(config.dim_bits), "last": 1,
    })
