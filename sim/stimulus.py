"""Stimulus and result files of the fast harness (``sim.fast_tb``'s testbench).

Stimulus (text): a header ``njobs seed gap stall`` (gap and stall: probabilities × 65536 that
an operand stream holds ``valid`` low / the result sink holds ``ready`` low in a cycle), then
per job a line ``CMD nbeats timeout`` (``CMD``: the packed command word in hex; ``nbeats`` 0
for a command the array must refuse) and ``nbeats`` lines ``A B`` (the packed operand beats in
hex, ``sim.host``'s order). The words are packed with NumPy (``hex_words``), bit for bit what
``host.packed_beats`` packs one beat at a time.

Result (text, ``record_width`` integers a line): ``0 m n last y0 .. y{cols-1}`` per result
beat (the ``max_width``-bit words as unsigned integers: ``assemble`` reads them signed), ``1 error saturated underflow cycles`` at each job's end,
``2 cycles`` at the end of the file, ``3 job cycles`` when a job timed out. A job's result
beats are ``host.assemble``'s rows.
"""

import numpy as np

from . import host
from .fast_tb import record_width

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
BEAT, JOB_END, FINISH, TIMEOUT = 0, 1, 2, 3


def hex_words(values, width):
    """Rows of ``values`` (n × L signed integers) as words of L ``width``-bit fields (field i
    in bits [i·width, (i+1)·width)), each written in lower-case hex without leading zeros."""
    values = np.asarray(values, np.int64 if width < 63 else object)   # wide: Python ints
    n, count = values.shape
    bits = ((values[..., None] >> np.arange(width)) & 1).astype(np.int64)   # n, L, width
    bits = bits.reshape(n, count * width)
    nibbles = -(-count * width // 4)
    bits = np.pad(bits, ((0, 0), (0, nibbles * 4 - count * width)))
    digits = (bits.reshape(n, nibbles, 4) @ np.array([1, 2, 4, 8]))[:, ::-1]
    text = np.ascontiguousarray(_HEX[digits]).view(f"S{nibbles}").ravel()
    return [t.decode().lstrip("0") or "0" for t in text]


def job_lines(config, job, **overrides):
    """The stimulus lines of one job; with ``overrides`` (``host.command``'s m, k, n), only
    the command line: a command the array must refuse before any beat."""
    cmd = format(host.packed_command(config, job, **overrides), "x")
    if overrides:
        return [f"{cmd} 0 1000"]
    a_beats, b_beats = host.operand_beats(config, job)
    a_hex = hex_words(a_beats, config.word_width)
    b_hex = hex_words(b_beats, config.word_width)
    return [f"{cmd} {len(a_hex)} {host.timeout_cycles(config, job)}"] + \
        [f"{a} {b}" for a, b in zip(a_hex, b_hex)]


def write_stimulus(path, config, items, *, seed=0, gap=0.0, stall=0.0):
    """Write ``items`` — jobs, or ``(job, overrides)`` pairs for refused commands — to
    ``path``; gaps and stalls as probabilities in [0, 1)."""
    for name, p in (("gap", gap), ("stall", stall)):
        if not 0 <= p < 1:
            raise ValueError(f"{name} must be in [0, 1), not {p}")
    with open(path, "w") as f:
        f.write(f"{len(items)} {seed & 0xffffffff} {int(gap * 65536)} {int(stall * 65536)}\n")
        for item in items:
            job, overrides = host.split_item(item)
            f.write("\n".join(job_lines(config, job, **(overrides or {}))) + "\n")


def read_records(path, config):
    """The result file as an int64 array (lines × ``record_width``)."""
    with open(path) as f:
        text = f.read()
    values = np.array(text.split(), np.int64)
    width = record_width(config)
    if values.size % width:
        raise ValueError(f"{path}: truncated result file")
    return values.reshape(-1, width)


def split_jobs(records):
    """``(per-job list of (beats, status), finish cycles or None, timed-out job or None)``;
    ``status`` is ``(error, saturated, underflow, cycles)``."""
    ends = np.flatnonzero(records[:, 0] != BEAT)
    jobs, start, finish, timeout = [], 0, None, None
    for i in ends:
        kind = records[i, 0]
        if kind == JOB_END:
            jobs.append((records[start:i, 1:], tuple(int(x) for x in records[i, 1:5])))
        elif kind == FINISH:
            finish = int(records[i, 1])
        elif kind == TIMEOUT:
            timeout = int(records[i, 1])
        start = i + 1
    return jobs, finish, timeout
