"""The fast harness's files: NumPy beat packing bit for bit against ``sim.host``, and
``host.assemble`` refusing every protocol violation (no simulator needed)."""

import numpy as np
import pytest

from golden import gemm
from hw.config import AccelConfig
from sim import host, random_jobs, scenarios, stimulus
from sim.fast import Outcome
from sim.verify import compare

CONFIGS = [AccelConfig.preset("tiny"),
           AccelConfig(rows=3, cols=2, max_width=8, lane_width=2, max_k=40),
           AccelConfig(rows=2, cols=5, max_width=16, lane_width=8, max_k=9, tunable=False),
           AccelConfig(rows=1, cols=1, max_width=10, lane_width=2, max_k=20, subword=False)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.rows}x{c.cols}-w{c.max_width}")
def test_numpy_packing_is_host_packing(config):
    for job in random_jobs.random_jobs(config, 40, seed=5):
        lines = stimulus.job_lines(config, job)
        cmd, beats, _ = lines[0].split()
        assert int(cmd, 16) == host.packed_command(config, job)
        a_words, b_words = host.packed_beats(config, job)
        assert int(beats) == len(a_words) == len(lines) - 1
        got = [tuple(int(x, 16) for x in line.split()) for line in lines[1:]]
        assert got == list(zip(a_words, b_words))


def test_hex_words_of_negative_and_odd_widths():
    values = np.array([[-1, 0, 5], [-512, 511, -2]])
    words = stimulus.hex_words(values, 10)
    for row, word in zip(values.tolist(), words):
        want = sum((v & 0x3ff) << (10 * i) for i, v in enumerate(row))
        assert int(word, 16) == want


def _ideal_records(config, job):
    """The result beats a correct array sends for ``job``: what ``assemble`` must accept."""
    c, y = config, gemm(job).y
    m, _, n = job.shape
    rows = []
    for m0, n0 in host.tiles(c, job):
        for i in range(min(c.rows, m - m0)):
            data = [int(y[m0 + i, n0 + j]) << (c.max_width - job.out_width)
                    if n0 + j < n else 0 for j in range(c.cols)]
            rows.append([m0 + i, n0, 0] + [d & ((1 << c.max_width) - 1) for d in data])
    rows[-1][2] = 1
    return np.array(rows, np.int64)


def test_assemble_accepts_the_protocol_and_refuses_violations():
    config = CONFIGS[0]
    job = scenarios.random_job(config, np.random.default_rng(1), a_width=8, b_width=4,
                               out_width=8, rounding=1, m=5, k=3, n=5)
    want = gemm(job)
    status = dict(error=0, saturated=want.saturated, underflow=want.underflow)
    beats = _ideal_records(config, job)
    assert len(beats) > 2
    assert host.assemble(config, job, beats, **status).same_bits(want)
    swapped = beats[[1, 0] + list(range(2, len(beats)))]
    no_last = beats.copy()
    no_last[-1, 2] = 0
    unaligned = beats.copy()
    unaligned[0, 3] |= 1
    cases = [(swapped, "names row"), (beats[:-1], "result beats arrived"),
             (no_last, "last flag"), (unaligned, "MSB-aligned")]
    for bad, message in cases:
        with pytest.raises(AssertionError, match=message):
            host.assemble(config, job, bad, **status)
    with pytest.raises(AssertionError, match="refused a valid job with error 4"):
        host.assemble(config, job, beats, error=4)


def test_compare_names_the_first_difference():
    config = CONFIGS[0]
    job = random_jobs.random_jobs(config, 30, seed=2)[-1]
    want = gemm(job)
    y = want.y.copy()
    y[-1, -1] ^= 1
    bad = Outcome(error=0, saturated=want.saturated, underflow=want.underflow, cycles=1,
                  result=type(want)(y=y, saturated=want.saturated, underflow=want.underflow))
    m, n = y.shape
    assert compare(job, bad) == f"y[{m - 1}, {n - 1}] = {y[-1, -1]}, golden {want.y[-1, -1]}"
    counted = Outcome(error=0, saturated=want.saturated + 1, underflow=want.underflow,
                      cycles=1, result=type(want)(y=want.y, saturated=want.saturated + 1,
                                                   underflow=want.underflow))
    assert compare(job, counted).startswith("saturated = ")
    good = Outcome(error=0, saturated=0, underflow=0, cycles=1, result=want)
    assert compare(job, good) is None


def test_random_jobs_cover_every_width_combination_and_the_corners():
    config = CONFIGS[1]
    jobs = random_jobs.random_jobs(config, 400, seed=3)
    corners = random_jobs.corner_jobs(config, seed=4)
    seen = {(j.a_width, j.b_width, j.out_width, int(j.rounding)) for j in jobs}
    assert len(seen) == len(config.widths) ** 3 * 2
    assert len(corners) > 10 and any(j.shape[1] == 1 for j in jobs)
    assert any(j.shape[1] == config.max_k for j in corners.values())
    for job in jobs:
        m, k, n = job.shape
        host.check_job(config, job)
        assert m <= 4 * config.rows and n <= 4 * config.cols
