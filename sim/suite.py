"""The RTL scenarios, written once for every testbench (``sim.tb.TB`` under cocotb on the
generated Verilog, ``sim.amaranth_tb.TB`` in amaranth.sim): each is ``async def name(tb, *,
quick=False, record=None)`` and compares every output and both counters with
``golden.gemm``, bit for bit. ``record(scenario, name, job, cycles, exact)`` is told of
every job (``varimac sim``'s summary). Each scenario starts its testbench with its own seed
(``SEEDS``)."""

from golden import gemm

from . import host, scenarios

# (gap on operands, stall on results): crossed with every scenario.
TRAFFIC = ((0.0, 0.0), (0.3, 0.3), (0.5, 0.7))
SEEDS = {"widths": 1, "corners": 2, "format_changes": 3, "reset_mid_job": 4,
         "invalid_commands": 5, "gating": 7}
SCENARIOS = tuple(SEEDS)


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


async def check_job(tb, scenario, name, job, record=None):
    result, cycles = await tb.run_job(job)
    problem = mismatch(result, gemm(job))
    if record:
        record(scenario, name, job, cycles, problem is None)
    if problem:
        m, k, n = job.shape
        raise AssertionError(f"{scenario}/{name} ({m}x{k}x{n}, {job.scalars()}): {problem}")


async def widths(tb, *, quick=False, record=None):
    """Every width combination × both roundings, crossed with random traffic."""
    for i, job in enumerate(scenarios.width_jobs(tb.config)):
        tb.set_traffic(**dict(zip(("gap", "stall"), TRAFFIC[i % len(TRAFFIC)])))
        await check_job(tb, "widths", f"{job.a_width}/{job.b_width}/{job.out_width}"
                        f"/r{int(job.rounding)}", job, record)


async def corners(tb, *, quick=False, record=None):
    """Corner cases, each under every traffic pattern (once in quick mode)."""
    traffic = TRAFFIC[1:2] if quick else TRAFFIC
    for name, job in scenarios.corner_jobs(tb.config).items():
        for gap, stall in traffic:
            if job.shape[1] > 256 and (gap or stall) and not quick:
                continue        # the longest reductions only once
            tb.set_traffic(gap=gap, stall=stall)
            await check_job(tb, "corners", name, job, record)


async def format_changes(tb, *, quick=False, record=None):
    """Widths, formats and rounding change from job to job, without a reset."""
    tb.set_traffic(gap=0.2, stall=0.2)
    for i, job in enumerate(scenarios.format_change_jobs(tb.config)):
        await check_job(tb, "format_changes", f"job{i}", job, record)


async def reset_mid_job(tb, *, quick=False, record=None):
    """A reset while a job feeds, computes or drains; then a job must still be exact."""
    c = tb.config
    jobs = scenarios.format_change_jobs(c, seed=4, count=4)
    big = scenarios.corner_jobs(c)["ragged_m_n"]
    for when in (3, 2 * c.rows + 5, 40):
        tb.set_traffic(gap=0.2, stall=0.5)
        await tb.submit(big)
        a_words, b_words = host.packed_beats(c, big)
        tb.a.send(a_words)
        tb.b.send(b_words)
        await tb.wait_cycles(when)
        await tb.reset()
        status = tb.status()
        if status["busy"] or status["done"] or status["error"]:
            raise AssertionError(f"after reset: status {status}")
        for i, job in enumerate(jobs):
            await check_job(tb, "reset_mid_job", f"after{when}_job{i}", job, record)


async def invalid_commands(tb, *, quick=False, record=None):
    """Commands the array cannot run: an error code, no results, and the next job exact."""
    follow = scenarios.width_jobs(tb.config, seed=6)
    for i, (name, job, overrides, code) in enumerate(scenarios.invalid_commands(tb.config)):
        await tb.submit(job, **overrides)
        status = await tb.wait_done(timeout_cycles=100)
        if status["error"] != code or tb.y.words:
            raise AssertionError(f"{name}: error {status['error']} (expected {int(code)}), "
                                 f"{len(tb.y.words)} result beats")
        if record:
            record("invalid_commands", name, job, 0, True)
        await check_job(tb, "invalid_commands", f"after_{name}", follow[i % len(follow)],
                        record)


async def gating(tb, *, quick=False, record=None):
    """At every width below max_width, the lane registers below the top W bits never change
    during a job, while the results stay exact (and the other lanes do switch). A full-width
    job first, so that the held lanes hold non-zero stale values."""
    c = tb.config
    await check_job(tb, "gating", "full_width", scenarios.width_jobs(c, seed=21)[-1], record)
    watch = LaneWatch(tb)
    tb.watchers.append(watch.sample)
    for job in scenarios.gating_jobs(c):
        watch.arm()
        await check_job(tb, "gating", f"{job.a_width}/{job.b_width}/{job.out_width}", job,
                        record)
        watch.check(job)
    tb.watchers.remove(watch.sample)


class LaneWatch:
    """Samples every lane register of ``Accelerator.gated`` (``tb.read_lanes``) each cycle."""

    def __init__(self, tb):
        self.config = tb.config
        self.lanes = tb.lane_registers()        # (name, group, (lo, hi))
        self.first = self.changed = None

    def arm(self):
        self.first, self.changed = None, set()

    def sample(self, tb):
        values = tb.read_lanes()
        if self.first is None:
            self.first = values
            return
        self.changed.update(i for i, v in enumerate(values) if v != self.first[i])

    def check(self, job):
        held = held_lanes(self.config, job, [(g, b) for _, g, b in self.lanes])
        toggled = [self.lanes[i][0] for i in sorted(self.changed) if held[i]]
        if toggled:
            raise AssertionError(f"gated lanes changed at widths {job.a_width}/{job.b_width}/"
                                 f"{job.out_width}: {', '.join(toggled[:8])}")
        # with clock_gates="register" the PEs' registers load whole: no acc group to watch
        for group in dict.fromkeys(g for _, g, _ in self.lanes):
            active = [i for i, (_, g, _) in enumerate(self.lanes) if g == group and not held[i]]
            if not self.changed.intersection(active):
                raise AssertionError(f"no active {group} lane switched: the watch saw nothing")


def held_lanes(config, job, lanes):
    """Per (group, (lo, hi)) lane: whether the spec says it must hold during ``job``.

    A/b/out registers hold the operand or result MSB-aligned (a/b in each of the P fields of a
    packed beat in the ``word_width``-bit word, ``AccelConfig.pack``), so only those bits are
    used; product and accumulator bits below ``AccelConfig.pad`` (2*max_width - Wa - Wb,
    less (P-1)·G when packed) are zero. A lane with no used bit must hold.
    """
    w, word = config.max_width, config.word_width
    count, size = config.pack(job.a_width, job.b_width)
    used = {"a": [(word - g * size - job.a_width, word - g * size) for g in range(count)],
            "b": [(word - g * size - job.b_width, word - g * size) for g in range(count)],
            "out": [(w - job.out_width, w)],
            "acc": [(config.pad(job.a_width, job.b_width), 1 << 30)]}
    return [not any(lo < top and bottom < hi for bottom, top in used[group])
            for group, (lo, hi) in lanes]
