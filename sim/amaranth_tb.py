"""The amaranth.sim testbench of the Amaranth ``Accelerator`` (no Verilog involved).

``TB`` mirrors ``sim.tb.TB``, the cocotb testbench of the generated Verilog: the same drivers
(``cmd``, ``a``, ``b`` sources with ``send``/``sent``, a ``y`` sink with ``words``), the same
methods (``start``, ``reset``, ``set_traffic``, ``wait_cycles``, ``wait_for``, ``status``,
``submit``, ``wait_done``, ``run_job``, ``lane_registers``/``read_lanes``) and the same cycle
semantics: each cycle the drivers write their signals, then sample the settled handshake,
the watchers and the waited-for condition see the values before the rising edge, and
``cycle`` counts the edges. ``sim.suite``'s scenarios run on either. The protocol itself
(beats, command, result assembly) is ``sim.host``'s.
"""

import random

from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from hw.top import Accelerator

from . import host


class StreamSource:
    """Drives a stream's ``valid``/``payload`` from a queue of packed words; a random fraction
    ``gap`` of the cycles where it could offer a new word leaves ``valid`` low."""

    def __init__(self, port, rng, *, gap=0.0):
        self.port, self.rng, self.gap = port, rng, gap
        self.queue, self.current, self.offered, self.sent = [], None, False, 0

    def send(self, words):
        self.queue.extend(reversed(words))      # popped from the end

    def clear(self):
        self.queue.clear()
        self.current, self.offered = None, False

    def drive(self, ctx):
        if self.current is None and self.queue:
            self.current = self.queue.pop()
        # Once offered, a word stays offered until it is taken (valid never drops early).
        offer = self.current is not None and (self.offered or self.rng.random() >= self.gap)
        if offer and not self.offered:
            ctx.set(self.port.payload.as_value(), self.current)
        ctx.set(self.port.valid, offer)
        self.offered = offer

    def sample(self, ctx):
        if self.offered and ctx.get(self.port.ready):
            self.current, self.offered = None, False
            self.sent += 1


class StreamSink:
    """Takes words from a stream; a random fraction ``stall`` of cycles holds ``ready`` low."""

    def __init__(self, port, rng, *, stall=0.0):
        self.port, self.rng, self.stall = port, rng, stall
        self.words, self.accepting = [], False

    def drive(self, ctx):
        self.accepting = self.rng.random() >= self.stall
        ctx.set(self.port.ready, self.accepting)

    def sample(self, ctx):
        if self.accepting and ctx.get(self.port.valid):
            self.words.append(ctx.get(self.port.payload.as_value()))


class TB(host.JobDriver):
    """``sim.tb.TB`` for amaranth.sim; ``run`` binds it to a simulation (``ctx``)."""

    def __init__(self, dut, config, *, seed=0, gap=0.0, stall=0.0):
        self.dut, self.config = dut, config
        self.rng = random.Random(seed)
        self.cmd = StreamSource(dut.cmd, self.rng)
        self.a = StreamSource(dut.a, self.rng, gap=gap)
        self.b = StreamSource(dut.b, self.rng, gap=gap)
        self.y = StreamSink(dut.y, self.rng, stall=stall)
        self.cycle = 0
        self.watchers = []          # called before the edge every cycle: watcher(tb)
        self.ctx = None
        self._status = None
        self._lanes = [("/".join(path + (sig.name,)), reg.group, bounds, sig)
                       for path, reg in dut.gated for bounds, sig in zip(reg.bounds, reg.lanes)]

    def set_traffic(self, *, gap=0.0, stall=0.0):
        self.a.gap = self.b.gap = gap
        self.y.stall = stall

    async def start(self):
        await self.reset(2)

    async def reset(self, cycles=2):
        """Hold the asynchronous reset for ``cycles`` rising edges. Whatever the drivers still
        had to send, and results not yet collected, are dropped."""
        ctx, rst = self.ctx, self.dut.clock_domain.rst
        for src in (self.cmd, self.a, self.b):
            src.clear()
            ctx.set(src.port.valid, 0)
        ctx.set(self.y.port.ready, 0)
        self.y.words.clear()
        ctx.set(rst, 1)
        for _ in range(cycles):
            await ctx.tick()
            self.cycle += 1
        ctx.set(rst, 0)

    async def _step(self, condition):
        """One cycle: drive, sample, watch, then the edge; whether ``condition`` held before
        it (the status is kept then: ``wait_done`` returns what it saw)."""
        parts = (self.cmd, self.a, self.b, self.y)
        for p in parts:
            p.drive(self.ctx)
        for p in parts:
            p.sample(self.ctx)
        for w in self.watchers:
            w(self)
        self.cycle += 1
        held = condition()
        if held:
            self._status = self.status()
        await self.ctx.tick()
        return held

    async def wait_cycles(self, n):
        for _ in range(n):
            await self._step(lambda: False)

    async def wait_for(self, condition, *, timeout_cycles, what):
        """Run cycles until ``condition()`` holds before an edge; fails after
        ``timeout_cycles``."""
        deadline = self.cycle + timeout_cycles
        while not await self._step(condition):
            if self.cycle >= deadline:
                raise AssertionError(f"timed out after {timeout_cycles} cycles waiting for "
                                     f"{what}")

    def status(self):
        get, d = self.ctx.get, self.dut
        return {"busy": get(d.busy), "done": get(d.done), "error": get(d.error),
                "saturated": get(d.saturated), "underflow": get(d.underflow)}

    def lane_registers(self):
        """``[(name, group, (lo, hi))]`` of every lane of ``Accelerator.gated``."""
        return [lane[:3] for lane in self._lanes]

    def read_lanes(self):
        return [self.ctx.get(sig) for _, _, _, sig in self._lanes]

    async def wait_done(self, *, timeout_cycles):
        """After ``submit``: wait for ``done`` with ``busy`` low; returns the status."""
        get, d = self.ctx.get, self.dut
        await self.wait_for(lambda: get(d.done) and not get(d.busy),
                            timeout_cycles=timeout_cycles, what="done")
        return self._status


def run(config, body, *, seed=0, gap=0.0, stall=0.0, dut=None, platform=None):
    """Simulate ``await body(tb)`` on a started ``TB`` of ``config``'s ``Accelerator``
    (``dut``, when given); returns what ``body`` returned. ``platform`` is passed to
    elaboration (``hw.platform.DSP_PLATFORM``: the FPGA build)."""
    dut = dut or Accelerator(config=config)
    tb = TB(dut, config, seed=seed, gap=gap, stall=stall)
    out = []

    async def bench(ctx):
        tb.ctx = ctx
        await tb.start()
        out.append(await body(tb))

    sim = Simulator(Fragment.get(dut, platform))
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out[0]


def simulate_jobs(config, items, **kwargs):
    """Run ``items`` back to back without reset (``run``'s keywords); one entry per item: a
    job's ``(GemmResult, cycles)``, or for a ``(job, overrides)`` command the array must
    refuse (``host.split_item``), its ``error`` after checking that no result came out."""
    async def body(tb):
        results = []
        for index, item in enumerate(items):
            job, overrides = host.split_item(item)
            if overrides is None:
                results.append(await tb.run_job(job))
                continue
            await tb.submit(job, **overrides)
            status = await tb.wait_done(timeout_cycles=100)
            if tb.y.words:
                raise AssertionError(f"item {index}: a refused command gave results")
            results.append(status["error"])
        return results
    return run(config, body, **kwargs)
