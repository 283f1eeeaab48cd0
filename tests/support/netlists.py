"""Hand-made gate-level netlists in Yosys JSON, read back as ``flows.netlist.Netlist``."""

import json

from flows.eda.netlist import Netlist
from flows.eda.synth import category_of


def make_netlist(path, *, ports, cells, outputs=None, top="top"):
    """A Yosys-JSON netlist, module ``top``: ``ports`` {name: (direction, [bits])}, ``cells``
    {name: (type, {pin: (direction, bit)})}, or {name: (type, {pin: bit})} with ``outputs``
    the output pins' names."""
    if outputs is not None:
        cells = {n: (t, {p: ("output" if p in outputs else "input", b) for p, b in pins.items()})
                 for n, (t, pins) in cells.items()}
    module = {
        "ports": {n: {"direction": d, "bits": b} for n, (d, b) in ports.items()},
        "cells": {n: {"type": t, "port_directions": {p: d for p, (d, _) in pins.items()},
                      "connections": {p: [b] for p, (_, b) in pins.items()}}
                  for n, (t, pins) in cells.items()},
        "netnames": {},
    }
    path.write_text(json.dumps({"modules": {top: module}}))
    return Netlist(path, top=top, category_of=category_of)


def flop_netlist(tmp_path):
    # clk(2) -> DFF CK; d(3) -> D; Q(4) -> INV_X1 A; ZN(5) -> y
    cells = {
        "vmcat_lane_registers.ff": ("DFF_X1", {"D": ("input", 3), "CK": ("input", 2),
                                               "Q": ("output", 4)}),
        "vmcat_control.inv": ("INV_X1", {"A": ("input", 4), "ZN": ("output", 5)}),
    }
    return make_netlist(tmp_path / "flop.json", cells=cells, ports={
        "clk": ("input", [2]), "d": ("input", [3]), "y": ("output", [5])})
