"""Proof of gating (amaranth.sim): at every width below max_width, the registers of the lanes
that carry no operand bits (below the top W bits, or outside the W-bit fields of a packed beat)
never change during a job, the other lanes do, and results stay exact.
The same proof runs on the generated Verilog in the cocotb regression (``gating``)."""

import pytest

from golden import gemm
from hw.config import AccelConfig
from hw.top import Accelerator
from sim import scenarios
from sim.amaranth_tb import simulate_jobs
from sim.cocotb_regression import held_lanes


@pytest.mark.parametrize("preset, variant", [
    ("tiny", {}), ("tiny", dict(mult_tree="folded", valid_gating=True))],
    ids=["tiny", "tiny-variants"])
def test_gated_lanes_hold_while_results_stay_exact(preset, variant):
    config = AccelConfig.preset(preset, **variant)
    # A full-width job first, so that the held lanes hold non-zero stale values.
    rng_job = scenarios.width_jobs(config, seed=21)[-1]
    jobs = [rng_job] + scenarios.gating_jobs(config)
    dut = Accelerator(config)
    lanes = [(reg.group, (lo, hi), sig, "/".join(path) + "/" + sig.name)
             for path, reg in dut.gated for (lo, hi), sig in zip(reg.bounds, reg.lanes)]
    history = {}

    def watch(ctx, index):
        history.setdefault(index, []).append([ctx.get(sig) for _, _, sig, _ in lanes])

    results = simulate_jobs(config, jobs, seed=7, gap=0.2, stall=0.2, watch=watch, dut=dut)
    for job, result in zip(jobs, results):
        assert result.same_bits(gemm(job))
    narrow_seen = set()
    for index, job in enumerate(jobs[1:], 1):
        samples = history[index]
        changed = {i for i in range(len(lanes)) if any(s[i] != samples[0][i] for s in samples)}
        held = held_lanes(config, job, [(group, bounds) for group, bounds, _, _ in lanes])
        must_hold = {i for i, hold in enumerate(held) if hold}
        assert not changed & must_hold, [lanes[i][3] for i in sorted(changed & must_hold)]
        for group in ("a", "b", "acc", "out"):
            active = {i for i, lane in enumerate(lanes) if lane[0] == group} - must_hold
            assert changed & active, f"job {index}: no active {group} lane switched"
        narrow_seen |= {lanes[i][0] for i in must_hold}
        assert must_hold or job.a_width == job.b_width == job.out_width == config.max_width
    # Every group was narrowed at least once, and the narrowed jobs cover every width below max.
    assert narrow_seen == {"a", "b", "acc", "out"}
    assert {j.a_width for j in jobs[1:]} >= set(config.widths) - {config.max_width}
    assert any(config.pack(j.a_width, j.b_width)[0] > 1 for j in jobs[1:])   # a packed job too
