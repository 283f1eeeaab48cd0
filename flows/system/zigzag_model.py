"""Cycles and memory energy of one GEMM on the array with a memory hierarchy, by ZigZag.

ZigZag (``zigzag-dse``, KU Leuven) searches the temporal mapping (loop order and tiling over
the memory levels) of a layer on an accelerator description and returns its latency in cycles,
stalls included, and the accesses of every memory level. The accelerator given to it:

- an operational array of ``cols`` × ``rows`` PEs (D1 unrolls N, D2 unrolls M, both padded
  to whole tiles as the array computes them:
  output-stationary, as ``hw.array``); its MAC energy is zero here, because the measured
  energy per MAC (``varimac power``) is added outside ZigZag;
- subword packing as the RTL does it (``AccelConfig.pack``): a job with P k per beat is given
  to ZigZag as a GEMM of K' = ceil(K/P) whose operands are the P-value packed words (P·Wa and
  P·Wb bits), so one ZigZag MAC is one beat of a PE and traffic is proportional to the width;
- PE registers: a register per row for a (shared along the row, ``served_dimensions`` D1), per
  column for b, and per PE an accumulator plus the drain register (two partial sums: results
  drain while the next tile computes); their energy is zero here (inside the energy per MAC);
- the on-chip buffer and DRAM of a ``MemoryConfig``: size, bits per cycle, energy per bit.

Float32 runs go on a float32 array of the same size: 32-bit words, one MAC per PE per beat.
"""

import logging
import math
import os
import tempfile

import yaml

# The mapping ZigZag keeps: the least energy × delay (a scheduler that minimised the delay
# alone could pick, among mappings of equal latency, one that moves far more DRAM traffic).
OPT = "EDP"
# Loop prime factors LOMA orders: ZigZag's default; 4 is faster but finds mappings several
# times slower on the long backward-weight GEMMs.
LPF_LIMIT = 6
PSUM_BITS = 48    # partial sums spilled to the buffer: exact for K·2^30 below 2^47
FLOAT_BITS = 32


def packing(config, a, b):
    """(P, a-word bits, b-word bits) of a GEMM with operand widths ``a``, ``b``."""
    if max(a, b) > config.max_width:
        return 1, a, b
    p, _ = config.pack(a, b)
    return p, p * a, p * b


def _port(name, kind, bits, alloc):
    return {"name": name, "type": kind, "bandwidth_min": min(8, bits), "bandwidth_max": bits,
            "allocation": alloc}


def accelerator(config, memory, *, period_ns, words, psum):
    """ZigZag's accelerator description (a dict for its YAML) for packed words ``words``."""
    reg = 2 * max(words)
    everything = ["I1, tl", "I1, fh", "I2, tl", "I2, fh", "O, tl", "O, fl", "O, fh", "O, th"]
    buf_bits, dram_bits = memory.buffer_bits_per_cycle, memory.dram_bits_per_cycle(period_ns)
    mems = {
        "reg_a": {"size": reg, "r_cost": 0, "w_cost": 0, "area": 0, "latency": 1,
                  "operands": ["I1"], "served_dimensions": ["D1"],
                  "ports": [_port("r_port_1", "read", reg, ["I1, tl"]),
                            _port("w_port_1", "write", reg, ["I1, fh"])]},
        "reg_b": {"size": reg, "r_cost": 0, "w_cost": 0, "area": 0, "latency": 1,
                  "operands": ["I2"], "served_dimensions": ["D2"],
                  "ports": [_port("r_port_1", "read", reg, ["I2, tl"]),
                            _port("w_port_1", "write", reg, ["I2, fh"])]},
        "reg_acc": {"size": 2 * psum, "r_cost": 0, "w_cost": 0, "area": 0, "latency": 1,
                    "operands": ["O"], "served_dimensions": [],
                    "ports": [_port("r_port_1", "read", psum, ["O, tl"]),
                              _port("r_port_2", "read", psum, ["O, th"]),
                              _port("w_port_1", "write", psum, ["O, fh"]),
                              _port("w_port_2", "write", psum, ["O, fl"])]},
        "buffer": {"size": memory.buffer_bytes * 8, "r_cost": memory.buffer_pj_per_bit * buf_bits,
                   "w_cost": memory.buffer_pj_per_bit * buf_bits, "area": 0, "latency": 1,
                   "operands": ["I1", "I2", "O"], "served_dimensions": ["D1", "D2"],
                   "ports": [_port("rw_port_1", "read_write", buf_bits, everything)]},
        "dram": {"size": 1 << 40, "r_cost": memory.dram_pj_per_bit * dram_bits,
                 "w_cost": memory.dram_pj_per_bit * dram_bits, "area": 0, "latency": 1,
                 "operands": ["I1", "I2", "O"], "served_dimensions": ["D1", "D2"],
                 "ports": [_port("rw_port_1", "read_write", dram_bits, everything)]},
    }
    return {"name": "varimac", "memories": mems,
            "operational_array": {"input_precision": list(words), "unit_energy": 0,
                                  "unit_area": 1, "dimensions": ["D1", "D2"],
                                  "sizes": [config.cols, config.rows]}}


def _cme(found):
    """The cost-model evaluation inside ZigZag's nested (cme, extra) results."""
    while isinstance(found, list):
        found = found[0]
    return found[0] if isinstance(found, tuple) else found


def _round_up(x, step):
    return -(-x // step) * step


def evaluate(m, k, n, *, a, b, out, config, memory, period_ns, opt=OPT):
    """{cycles, ideal_cycles, beats, buffer_pj, dram_pj, buffer_bits, dram_bits} of one GEMM,
    with the mapping that minimises ``opt`` ("EDP", "latency" or "energy")."""
    from zigzag.api import get_hardware_performance_zigzag

    floating = max(a, b) == FLOAT_BITS
    p, wa, wb = (1, a, b) if floating else packing(config, a, b)
    kk = math.ceil(k / p)
    # The array computes whole rows×cols tiles (hw.array): pad M and N as it does, so a
    # dimension that the array does not divide costs the cycles of its last, partial tile.
    mp, np_ = _round_up(m, config.rows), _round_up(n, config.cols)
    psum = FLOAT_BITS if floating else PSUM_BITS
    layer = {"id": 0, "name": "gemm", "operator_type": "Gemm",
             "equation": "O[m][n]+=I[m][k]*W[k][n]", "loop_dims": ["M", "K", "N"],
             "loop_sizes": [mp, kk, np_],
             "operand_precision": {"I": wa, "W": wb, "O": psum, "O_final": out}}
    mapping = [{"name": "default",
                "spatial_mapping": {"D1": [f"N, {config.cols}"], "D2": [f"M, {config.rows}"]},
                "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]
    acc = accelerator(config, memory, period_ns=period_ns, words=(wa, wb), psum=psum)
    logging.disable(logging.CRITICAL)   # ZigZag logs at INFO level on every stage
    with tempfile.TemporaryDirectory(prefix="varimac-zigzag-") as tmp:
        acc_path, map_path = os.path.join(tmp, "acc.yaml"), os.path.join(tmp, "map.yaml")
        with open(acc_path, "w") as f:
            yaml.safe_dump(acc, f, sort_keys=False)
        with open(map_path, "w") as f:
            yaml.safe_dump(mapping, f, sort_keys=False)
        _, _, cmes = get_hardware_performance_zigzag(
            [layer], acc_path, map_path, opt=opt, dump_folder=os.path.join(tmp, "out"),
            lpf_limit=LPF_LIMIT, loma_show_progress_bar=False)
    logging.disable(logging.NOTSET)
    cme = _cme(cmes[0][1])
    levels = {"buffer": 1, "dram": 2}  # index of each level in every operand's hierarchy
    energy = {name: sum(cme.mem_energy_breakdown[op][i] for op in cme.mem_energy_breakdown
                        if len(cme.mem_energy_breakdown[op]) > i) for name, i in levels.items()}
    return {"cycles": float(cme.latency_total2), "ideal_cycles": float(cme.ideal_cycle),
            "beats": mp * kk * np_, "pack": p,
            "buffer_pj": float(energy["buffer"]), "dram_pj": float(energy["dram"]),
            "buffer_bits": float(energy["buffer"] / memory.buffer_pj_per_bit),
            "dram_bits": float(energy["dram"] / memory.dram_pj_per_bit)}
