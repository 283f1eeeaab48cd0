"""The cocotb regression of the generated Verilog (``varimac sim``): every output and both
counters are compared bit for bit with ``golden.gemm``.

Environment: ``VARIMAC_PARAMS`` (params.json of the Verilog under test), ``VARIMAC_QUICK=1``
(a representative subset, for CI), ``VARIMAC_SUMMARY`` (a file to append one JSON line per
job to).
"""

import json
import os

import cocotb

from golden import gemm
from hw.config import AccelConfig
from hw.top import Accelerator

from . import scenarios
from .host import packed_beats
from .tb import TB

# (gap on operands, stall on results): crossed with every scenario.
TRAFFIC = ((0.0, 0.0), (0.3, 0.3), (0.5, 0.7))


def _config():
    return AccelConfig.load(os.environ["VARIMAC_PARAMS"])


def _quick():
    return os.environ.get("VARIMAC_QUICK", "0") not in ("", "0")


def _record(scenario, name, job, cycles, ok):
    path = os.environ.get("VARIMAC_SUMMARY")
    if path:
        m, k, n = job.shape
        with open(path, "a") as f:
            f.write(json.dumps({"scenario": scenario, "job": name, "m": m, "k": k, "n": n,
                                **job.scalars(), "cycles": cycles, "exact": ok}) + "\n")


def mismatch(result, expected):
    """A one-line description of how two results differ (None when every bit agrees)."""
    if result.same_bits(expected):
        return None
    bad = (result.y != expected.y).nonzero()
    where = (f"{len(bad[0])} outputs differ, first y[{bad[0][0]},{bad[1][0]}] = "
             f"{result.y[bad[0][0], bad[1][0]]} != {expected.y[bad[0][0], bad[1][0]]}"
             if len(bad[0]) else "outputs agree")
    return (f"{where}; saturated {result.saturated} vs {expected.saturated}, "
            f"underflow {result.underflow} vs {expected.underflow}")


async def check_job(tb, scenario, name, job):
    result, cycles = await tb.run_job(job)
    problem = mismatch(result, gemm(job))
    _record(scenario, name, job, cycles, problem is None)
    if problem:
        m, k, n = job.shape
        raise AssertionError(f"{scenario}/{name} ({m}x{k}x{n}, {job.scalars()}): {problem}")


async def _start(dut, seed):
    tb = TB(dut, _config(), seed=seed)
    await tb.start()
    return tb


@cocotb.test()
async def widths(dut):
    """Every width combination × both roundings, crossed with random traffic."""
    tb = await _start(dut, 1)
    jobs = scenarios.width_jobs(tb.config)
    for i, job in enumerate(jobs):
        tb.set_traffic(**dict(zip(("gap", "stall"), TRAFFIC[i % len(TRAFFIC)])))
        await check_job(tb, "widths", f"{job.a_width}/{job.b_width}/{job.out_width}"
                        f"/r{int(job.rounding)}", job)


@cocotb.test()
async def corners(dut):
    """Corner cases, each under every traffic pattern (once in quick mode)."""
    tb = await _start(dut, 2)
    traffic = TRAFFIC[1:2] if _quick() else TRAFFIC
    for name, job in scenarios.corner_jobs(tb.config).items():
        for gap, stall in traffic:
            if job.shape[1] > 256 and (gap or stall) and not _quick():
                continue        # the longest reductions only once
            tb.set_traffic(gap=gap, stall=stall)
            await check_job(tb, "corners", name, job)


@cocotb.test()
async def format_changes(dut):
    """Widths, formats and rounding change from job to job, without a reset."""
    tb = await _start(dut, 3)
    tb.set_traffic(gap=0.2, stall=0.2)
    for i, job in enumerate(scenarios.format_change_jobs(tb.config)):
        await check_job(tb, "format_changes", f"job{i}", job)


@cocotb.test()
async def reset_mid_job(dut):
    """A reset while a job feeds, computes or drains; then a job must still be exact."""
    tb = await _start(dut, 4)
    c = tb.config
    jobs = scenarios.format_change_jobs(c, seed=4, count=4)
    big = scenarios.corner_jobs(c)["ragged_m_n"]
    for when in (3, 2 * c.rows + 5, 40):
        tb.set_traffic(gap=0.2, stall=0.5)
        await tb.submit(big)
        a_words, b_words = packed_beats(c, big)
        tb.a.send(a_words)
        tb.b.send(b_words)
        await tb.wait_cycles(when)
        await tb.reset()
        status = tb.status()
        if status["busy"] or status["done"] or status["error"]:
            raise AssertionError(f"after reset: status {status}")
        for i, job in enumerate(jobs):
            await check_job(tb, "reset_mid_job", f"after{when}_job{i}", job)


@cocotb.test()
async def invalid_commands(dut):
    """Commands the array cannot run: an error code, no results, and the next job exact."""
    tb = await _start(dut, 5)
    follow = scenarios.width_jobs(tb.config, seed=6)
    for i, (name, job, overrides, code) in enumerate(scenarios.invalid_commands(tb.config)):
        await tb.submit(job, **overrides)
        status = await tb.wait_done(timeout_cycles=100)
        if status["error"] != code or tb.y.words:
            raise AssertionError(f"{name}: error {status['error']} (expected {int(code)}), "
                                 f"{len(tb.y.words)} result beats")
        _record("invalid_commands", name, job, 0, True)
        await check_job(tb, "invalid_commands", f"after_{name}", follow[i % len(follow)])


@cocotb.test()
async def gating(dut):
    """At every width below max_width, the lane registers below the top W bits never change
    during a job, while the results stay exact (and the other lanes do switch)."""
    tb = await _start(dut, 7)
    c = tb.config
    watch = LaneWatch(dut, c)
    tb.watchers.append(watch.sample)
    for job in scenarios.gating_jobs(c):
        watch.arm(job)
        await check_job(tb, "gating", f"{job.a_width}/{job.b_width}/{job.out_width}", job)
        watch.check(job)


class LaneWatch:
    """Samples every lane register named by ``Accelerator.gated`` in the Verilog hierarchy."""

    def __init__(self, dut, config):
        self.config = config
        self.lanes = []     # (name, group, (lo, hi), handle)
        for path, reg in Accelerator(config).gated:
            handle = dut
            for part in path:
                handle = getattr(handle, part)
            for bounds, lane in zip(reg.bounds, reg.lanes):
                self.lanes.append(("/".join(path + (lane.name,)), reg.group, bounds,
                                   getattr(handle, lane.name)))
        self.first = self.changed = None

    def arm(self, job):
        self.first, self.changed = None, set()

    def sample(self, tb):
        if self.first is None:
            self.first = [int(h.value) for _, _, _, h in self.lanes]
            return
        for i, (_, _, _, h) in enumerate(self.lanes):
            if int(h.value) != self.first[i]:
                self.changed.add(i)

    def check(self, job):
        held = held_lanes(self.config, job, [(g, b) for _, g, b, _ in self.lanes])
        toggled = [self.lanes[i][0] for i in sorted(self.changed) if held[i]]
        if toggled:
            raise AssertionError(f"gated lanes changed at widths {job.a_width}/{job.b_width}/"
                                 f"{job.out_width}: {', '.join(toggled[:8])}")
        for group in ("a", "b", "acc", "out"):
            active = [i for i, (_, g, _, _) in enumerate(self.lanes) if g == group and not held[i]]
            if not self.changed.intersection(active):
                raise AssertionError(f"no active {group} lane switched: the watch saw nothing")


def held_lanes(config, job, lanes):
    """Per (group, (lo, hi)) lane: whether the spec says it must hold during ``job``.

    A/b/out registers hold the operand or result MSB-aligned (a/b in each of the P fields of a
    packed beat, ``AccelConfig.pack``), so only those bits are used; product and accumulator
    bits below 2*max_width - Wa - Wb, less (P-1)·G when packed, are zero. A lane with no used
    bit must hold.
    """
    w = config.max_width
    count, size = config.pack(job.a_width, job.b_width)
    used = {"a": [(w - g * size - job.a_width, w - g * size) for g in range(count)],
            "b": [(w - g * size - job.b_width, w - g * size) for g in range(count)],
            "out": [(w - job.out_width, w)],
            "acc": [(2 * w - job.a_width - job.b_width - (count - 1) * size, 1 << 30)]}
    return [not any(lo < top and bottom < hi for bottom, top in used[group])
            for group, (lo, hi) in lanes]
