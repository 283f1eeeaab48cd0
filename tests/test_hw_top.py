"""The whole Accelerator in amaranth.sim against golden.gemm, bit for bit (fast; the same
scenarios run on the generated Verilog in tests/test_sim_cocotb.py)."""

import numpy as np
import pytest

from golden import gemm
from hw.config import AccelConfig
from hw.control import Control, JobError
from hw.multiplier import DSP_PLATFORM
from hw.pe import ProcessingElement
from hw.quantizer import OutputQuantizer
from sim import scenarios
from sim.amaranth_tb import simulate_jobs

CONFIG = AccelConfig.preset("tiny")


def assert_exact(jobs, results):
    for i, (job, result) in enumerate(zip(jobs, results)):
        expected = gemm(job)
        assert result.same_bits(expected), (i, job.shape, job.scalars(), result, expected)


@pytest.mark.parametrize("gap, stall", [(0.0, 0.0), (0.4, 0.5)])
def test_every_width_combination(gap, stall):
    jobs = scenarios.width_jobs(CONFIG, seed=11)
    assert_exact(jobs, simulate_jobs(CONFIG, jobs, seed=1, gap=gap, stall=stall))


# The architecture variants (AccelConfig.mult_tree, valid_gating): other gates, the same bits.
VARIANT = AccelConfig.preset("tiny", mult_tree="folded", valid_gating=True)


@pytest.mark.parametrize("scenario", ["widths", "corners", "formats"])
def test_architecture_variants(scenario):
    jobs = {"widths": lambda: scenarios.width_jobs(VARIANT, seed=15),
            "corners": lambda: list(scenarios.corner_jobs(VARIANT).values()),
            "formats": lambda: scenarios.format_change_jobs(VARIANT, seed=16)}[scenario]()
    assert_exact(jobs, simulate_jobs(VARIANT, jobs, seed=8, gap=0.3, stall=0.3))


# An even lane count: the FPGA multiplier's one product per pair of lanes (tiny has three).
PAIRED = AccelConfig(rows=2, cols=2, max_width=8, lane_width=4, max_k=8, max_dim=15)


@pytest.mark.parametrize("config", [CONFIG, PAIRED], ids=["lane-rows", "lane-pairs"])
def test_fpga_multiplier_build(config):
    # The FPGA build (DSP-sized multiplier products, p and acc loaded whole) on every width
    # combination, packed or not.
    jobs = scenarios.width_jobs(config, seed=14)
    assert_exact(jobs, simulate_jobs(config, jobs, seed=6, gap=0.2, stall=0.2,
                                     platform=DSP_PLATFORM))


def test_corners():
    jobs = list(scenarios.corner_jobs(CONFIG).values())
    assert_exact(jobs, simulate_jobs(CONFIG, jobs, seed=2, gap=0.3, stall=0.3))


def test_format_changes_without_reset():
    jobs = scenarios.format_change_jobs(CONFIG, seed=12)
    assert_exact(jobs, simulate_jobs(CONFIG, jobs, seed=3, gap=0.2, stall=0.2))


def test_refused_commands_then_exact_jobs():
    good = scenarios.width_jobs(CONFIG, seed=13)
    sequence, expect = [], []
    for i, (name, job, overrides, code) in enumerate(scenarios.invalid_commands(CONFIG)):
        sequence += [(job, overrides), good[i]]
        expect += [code, good[i]]
    results = simulate_jobs(CONFIG, sequence, seed=4, gap=0.2, stall=0.2)
    for got, want in zip(results, expect):
        if isinstance(want, JobError):
            assert got == want
        else:
            assert got.same_bits(gemm(want))


def test_fixed_width_baseline():
    c = AccelConfig.preset("tiny", tunable=False)
    rng = np.random.default_rng(5)
    jobs = [scenarios.random_job(c, rng, a_width=c.max_width, b_width=c.max_width,
                                 out_width=c.max_width, rounding=r) for r in (0, 1, 0, 1)]
    assert_exact(jobs, simulate_jobs(c, jobs, seed=5, gap=0.3, stall=0.3))
    narrow = scenarios.invalid_commands(c)[0]
    assert narrow[3] == JobError.A_WIDTH
    assert simulate_jobs(c, [(narrow[1], narrow[2])]) == [JobError.A_WIDTH]


def test_throughput_without_stalls():
    """Back-to-back tiles with K >= rows keep the array busy: the cycle count from command
    to done is tiles * K plus a fixed pipeline latency (no per-tile bubbles)."""
    c = CONFIG
    rng = np.random.default_rng(6)
    counts = {}
    for tiles_m in (1, 3):
        job = scenarios.random_job(c, rng, a_width=12, b_width=12, out_width=12, rounding=0,
                                   m=tiles_m * c.rows, n=2 * c.cols, k=8)
        cycles = []
        simulate_jobs(c, [job], watch=lambda ctx, i: cycles.append(1))
        counts[tiles_m] = len(cycles)
    # Two more rows of tiles (4 more tiles of K = 8 beats) cost exactly 32 more cycles.
    assert counts[3] - counts[1] == 2 * 2 * 8


def test_packed_beats_take_fewer_cycles():
    """At the narrowest width the tiny array packs P = 3 k per beat: tiles of K = 24 cost 8
    beats each, with no per-tile bubbles."""
    c = CONFIG
    w = min(c.widths)
    assert c.pack(w, w) == (3, w)
    rng = np.random.default_rng(7)
    counts = {}
    for tiles_m in (1, 3):
        job = scenarios.random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=0,
                                   m=tiles_m * c.rows, n=2 * c.cols, k=24)
        cycles = []
        [result] = simulate_jobs(c, [job], watch=lambda ctx, i: cycles.append(1))
        assert result.same_bits(gemm(job))
        counts[tiles_m] = len(cycles)
    assert counts[3] - counts[1] == 2 * 2 * 8


def test_latency_is_the_documented_sum():
    """One tile without stalls, counted from the edge that takes the command: the beats
    enter on the K edges after the control's latency (to ``start``), a PE's result follows its
    last beat by the PE's lead (its flags register holds the beat at that edge), then the
    quantizer's latency, the rows one per cycle, the de-skew, and the edge that hands over the
    last beat and sets ``done`` (docs/hardware.md)."""
    c = CONFIG
    k = 5
    job = scenarios.random_job(c, np.random.default_rng(8), a_width=12, b_width=12,
                               out_width=12, rounding=1, m=c.rows, n=c.cols, k=k)
    cycles = []
    [result] = simulate_jobs(c, [job], watch=lambda ctx, i: cycles.append(1))
    assert result.same_bits(gemm(job))
    expected = (Control.latency + k + ProcessingElement.lead + OutputQuantizer.latency
                + (c.rows - 1) + (c.cols - 1) + 1)
    assert len(cycles) == expected
