"""A parsed liberty library: its cells, pins, ``internal_power`` arcs and lookup tables, in SI
units (``flows.eda.liberty_parse`` reads them; ``flows.eda.liberty`` finds and caches them)."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Table:
    """A 1-D or 2-D lookup table; ``lookup`` interpolates linearly (and extrapolates)."""
    index_1: tuple
    index_2: tuple | None
    values: np.ndarray

    def lookup(self, x1, x2=None):
        row = _interp_rows(self.index_1, self.values.reshape(len(self.index_1), -1), x1)
        if self.index_2 is None:
            return float(row[0])
        return float(_interp_rows(self.index_2, row.reshape(-1, 1), x2)[0])


@dataclass(frozen=True)
class PowerArc:
    """One ``internal_power`` group, tables in joules per transition."""
    related_pin: str | None
    when: str | None
    rise: Table | None
    fall: Table | None

    def energy(self, slew, load):
        """Mean energy (J) of one transition (half a rise plus half a fall) at slew, load."""
        total = 0.0
        for table in (self.rise, self.fall):
            if table is not None:
                total += table.lookup(slew, load) if table.index_2 is not None \
                    else table.lookup(slew)
        return total / 2


@dataclass
class Pin:
    name: str
    direction: str
    capacitance: float = 0.0        # farad
    function: str | None = None
    clock: bool = False             # a clock pin (flop clock, or an ICG's clock input)
    gate_enable: bool = False       # an ICG's enable input
    gate_out: bool = False          # an ICG's gated clock output
    power: list = field(default_factory=list)


@dataclass
class Cell:
    name: str
    area: float
    leakage: float                  # watt
    pins: dict
    ff: dict | None = None          # {"names": (q, qn), "clocked_on", "next_state", "clear", ...}
    latch: dict | None = None       # {"names": ..., "enable", "data_in", "clear", "preset"}
    icg: str | None = None          # clock_gating_integrated_cell, e.g. "latch_posedge"
    dont_use: bool = False

    def inputs(self):
        return [p for p in self.pins.values() if p.direction == "input"]

    def outputs(self):
        return [p for p in self.pins.values() if p.direction == "output"]


@dataclass
class Library:
    name: str
    voltage: float                  # volt
    time_unit: float                # second
    wire_cap_per_length: float      # farad per unit length
    wire_slope: float
    wire_fanout_length: tuple       # ((fanout, length), ...)
    cells: dict

    def wire_cap(self, fanout):
        """Wire capacitance (F) of a net with ``fanout`` loads, from the default wire-load model.

        Length is interpolated in the fanout_length table and extrapolated with ``slope`` beyond
        its last entry (the Liberty convention); a net without loads has no wire.
        """
        if fanout <= 0 or not self.wire_fanout_length:
            return 0.0
        fans = [f for f, _ in self.wire_fanout_length]
        lens = [length for _, length in self.wire_fanout_length]
        if fanout > fans[-1]:
            length = lens[-1] + (fanout - fans[-1]) * self.wire_slope
        else:
            length = float(np.interp(fanout, fans, lens))
        return length * self.wire_cap_per_length


def _interp_rows(index, rows, x):
    """Linear interpolation along axis 0 of ``rows`` at ``x`` (linear extrapolation outside)."""
    index = np.asarray(index, dtype=float)
    if len(index) == 1:
        return rows[0]
    i = int(np.clip(np.searchsorted(index, x) - 1, 0, len(index) - 2))
    x0, x1 = index[i], index[i + 1]
    t = (x - x0) / (x1 - x0)
    return rows[i] * (1 - t) + rows[i + 1] * t
