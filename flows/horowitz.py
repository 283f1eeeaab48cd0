"""Reference energies from one source: M. Horowitz, "Computing's energy problem (and what we can
do about it)", ISSCC 2014, 45 nm, 0.9 V, in pJ per operation. Every module that prices an
operation it does not measure reads them here (the memory configurations,
``flows/system/memory/*.json``, cite the same table beside each of their numbers).
"""

# Integer operations (``power.json`` records this table as ``horowitz_45nm_pj``).
INTEGER_PJ = {"add8": 0.03, "add32": 0.1, "mult8": 0.2, "mult32": 3.1}
# 32-bit floating point: a multiply and an add, one float32 MAC.
FLOAT32_MULT_PJ = 3.7
FLOAT32_ADD_PJ = 0.9
FLOAT32_MAC_PJ = FLOAT32_MULT_PJ + FLOAT32_ADD_PJ
# A 64-bit read of an 8 KB SRAM, per bit: the on-chip memory-access energy of ``varimac report``.
SRAM_8KB_PJ_PER_64_BITS = 10
SRAM_PJ_PER_BIT = SRAM_8KB_PJ_PER_64_BITS / 64


def integer_mac_pj(width, acc_width):
    """An integer MAC scaled from the table: multiplier energy quadratic in the width between
    the 8- and 32-bit points, adder energy linear in the accumulator width."""
    mult = INTEGER_PJ["mult32"] * (width / 32) ** 2 if width > 8 else \
        INTEGER_PJ["mult8"] * (width / 8) ** 2
    add = INTEGER_PJ["add32"] * acc_width / 32
    return mult + add
