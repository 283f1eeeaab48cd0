"""The whole Accelerator in amaranth.sim against golden.gemm, bit for bit, beyond the shared
RTL suite (tests/sim/test_suite.py): the architecture variants, the FPGA build, the
fixed-width baseline and the cycle counts the documentation states."""

import dataclasses

import numpy as np
import pytest

from golden import gemm
from hw.config import AccelConfig
from hw.control import Control
from hw.job_check import JobError
from hw.pe import ProcessingElement, pe_lead
from hw.platform import DSP_PLATFORM
from hw.quantizer import OutputQuantizer
from hw.top import Accelerator
from sim import scenarios, suite
from sim.amaranth_tb import run, simulate_jobs

CONFIG = AccelConfig.preset("tiny")


def assert_exact(jobs, results):
    for i, (job, (result, _)) in enumerate(zip(jobs, results)):
        expected = gemm(job)
        assert result.same_bits(expected), (i, job.shape, job.scalars(), result, expected)


# The architecture options off (the array before them; the defaults are every suite's CONFIG)
# and the 2-D decomposed multiplier (9 k per 36-bit beat at 4 bits in tiny): other gates, the
# same bits.
PLAIN = AccelConfig.preset("tiny", mult_tree="split", valid_gating=False, zero_gating=False,
                           clock_gates="lane")
VARIANTS = {"plain": PLAIN, "fused2d": AccelConfig.preset("tiny", mult_tree="fused2d")}


@pytest.mark.parametrize("scenario", ["widths", "corners", "gating"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_architecture_variants(variant, scenario):
    run(VARIANTS[variant], lambda tb: getattr(suite, scenario)(tb, quick=True),
        seed=suite.SEEDS[scenario])


# An even lane count: the FPGA multiplier's one product per pair of lanes (tiny has three).
PAIRED = AccelConfig(rows=2, cols=2, max_width=8, lane_width=4, max_k=8, max_dim=15)


# The ECP5 build's pipeline (AccelConfig.mult_stages): a register at the DSP products.
STAGED = [dataclasses.replace(c, mult_stages=1) for c in (CONFIG, PAIRED)]


@pytest.mark.parametrize("config", [CONFIG, PAIRED] + STAGED,
                         ids=["lane-rows", "lane-pairs", "lane-rows-staged", "lane-pairs-staged"])
def test_fpga_multiplier_build(config):
    # The FPGA build (DSP-sized multiplier products, p and acc loaded whole) on every width
    # combination, packed or not; with mult_stages, through the register after the DSPs.
    jobs = scenarios.width_jobs(config, seed=14)
    assert_exact(jobs, simulate_jobs(config, jobs, seed=6, gap=0.2, stall=0.2,
                                     platform=DSP_PLATFORM))


def test_fpga_build_refuses_what_the_asic_build_refuses():
    # Control's range checks are logic on FPGA (hw.job_check.in_range): each refused command,
    # then a valid one, which runs exactly.
    bad = scenarios.invalid_commands(CONFIG)
    valid = scenarios.width_jobs(CONFIG, seed=3)[:1]
    results = simulate_jobs(CONFIG, [(job, overrides) for _, job, overrides, _ in bad] + valid,
                            platform=DSP_PLATFORM)
    assert results[:-1] == [code for *_, code in bad]
    assert_exact(valid, results[-1:])


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
        [(result, counts[tiles_m])] = simulate_jobs(c, [job])
        assert result.same_bits(gemm(job))
    # Two more rows of tiles (4 more tiles of K = 8 beats) cost exactly 32 more cycles.
    assert counts[3] - counts[1] == 2 * 2 * 8


@pytest.mark.parametrize("variant, count, k", [("folded", 3, 24), ("fused2d", 9, 27)])
def test_packed_beats_take_fewer_cycles(variant, count, k):
    """At the narrowest width the tiny array packs P = 3 k per beat (9 with the 2-D
    decomposed multiplier): tiles of K = 24 cost 8 beats each (K = 27: 3 beats), with no
    per-tile bubbles."""
    c = AccelConfig.preset("tiny", mult_tree=variant)
    w = min(c.widths)
    assert c.pack(w, w) == (count, w)
    rng = np.random.default_rng(7)
    counts = {}
    for tiles_m in (1, 3):
        job = scenarios.random_job(c, rng, a_width=w, b_width=w, out_width=w, rounding=0,
                                   m=tiles_m * c.rows, n=2 * c.cols, k=k)
        [(result, counts[tiles_m])] = simulate_jobs(c, [job])
        assert result.same_bits(gemm(job))
    assert counts[3] - counts[1] == 2 * 2 * (k // count)


@pytest.mark.parametrize("stages, platform", [(0, None), (1, None), (1, DSP_PLATFORM)],
                         ids=["asic", "asic-staged", "fpga-staged"])
def test_latency_is_the_documented_sum(stages, platform):
    """One tile without stalls. ``run_job`` counts, as the cocotb testbench does (and
    ``varimac gemm --backend rtl`` reports), the edges from the one that takes the command to
    the one that sets ``done``, both included: after the command's edge, the beats enter on
    the K edges after the control's latency (to ``start``), a PE's result follows its last
    beat by the PE's lead (its flags register holds the beat at that edge), then the
    quantizer's latency, the rows one per cycle, the de-skew, and the edge that hands over the
    last beat and sets ``done`` (docs/hardware.md)."""
    c = dataclasses.replace(CONFIG, mult_stages=stages)
    k = 5
    job = scenarios.random_job(c, np.random.default_rng(8), a_width=12, b_width=12,
                               out_width=12, rounding=1, m=c.rows, n=c.cols, k=k)
    dut = Accelerator(config=c)
    [(result, cycles)] = simulate_jobs(c, [job], dut=dut, platform=platform)
    assert result.same_bits(gemm(job))
    assert pe_lead(c) == 2 + stages     # the multiplier's register adds one cycle
    expected = 1 + (Control.latency + k + pe_lead(c) + OutputQuantizer.latency
                    + (c.rows - 1) + (c.cols - 1) + 1)
    assert cycles == expected == 1 + k + dut.latency


@pytest.mark.parametrize("component", [Accelerator, Control, ProcessingElement,
                                       OutputQuantizer])
def test_components_take_one_keyword_config(component):
    with pytest.raises(TypeError, match="config must be an AccelConfig, not 'tiny'"):
        component(config="tiny")
    with pytest.raises(TypeError):
        component(CONFIG)


# AccelConfig.zero_gating (a default): zero products skipped, on jobs with many zeros (packed
# ones too); on FPGA also through the register after the DSPs (mult_stages).
@pytest.mark.parametrize("config, platform", [
    (CONFIG, None), (CONFIG, DSP_PLATFORM), (STAGED[0], DSP_PLATFORM),
    (dataclasses.replace(PLAIN, zero_gating=True), None)],
    ids=["asic", "fpga", "fpga-staged", "lane-clock-gates-split-tree"])
def test_zero_gating_on_sparse_jobs(config, platform):
    jobs = scenarios.sparse_jobs(config)
    assert_exact(jobs, simulate_jobs(config, jobs, seed=9, gap=0.2, stall=0.2,
                                     platform=platform))
