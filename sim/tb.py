"""The cocotb testbench of the generated ``varimac`` Verilog.

``TB`` owns the clock, the reset and one driver or monitor per stream. One loop runs every
cycle: on the falling edge each driver writes its signals (never after ``ReadOnly``), then in
``ReadOnly`` each one samples the settled handshake, so a transfer is recorded exactly when
``valid & ready`` holds before the rising edge.
"""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Event, FallingEdge, ReadOnly, RisingEdge

from . import host

CLOCK_NS = 10


class StreamSource:
    """Drives ``{name}__valid``/``__payload`` from a queue of packed words; a random fraction
    ``gap`` of the cycles where it could offer a new word leaves ``valid`` low."""

    def __init__(self, dut, name, rng, *, gap=0.0):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.rng, self.gap = rng, gap
        self.queue, self.current, self.offered, self.sent = [], None, False, 0
        self.valid_driven = None

    def send(self, words):
        self.queue.extend(reversed(words))      # popped from the end

    def clear(self):
        self.queue.clear()
        self.current, self.offered = None, False

    def drive(self):
        if self.current is None and self.queue:
            self.current = self.queue.pop()
        # Once offered, a word stays offered until it is taken (valid never drops early).
        offer = self.current is not None and (self.offered or self.rng.random() >= self.gap)
        if offer and not self.offered:
            self.payload.value = self.current
        if offer != self.valid_driven:
            self.valid.value = int(offer)
            self.valid_driven = offer
        self.offered = offer

    def sample(self):
        if self.offered and self.ready.value:
            self.current, self.offered = None, False
            self.sent += 1


class StreamSink:
    """Takes words from ``{name}__valid``/``__payload``; a random fraction ``stall`` of cycles
    holds ``ready`` low (backpressure)."""

    def __init__(self, dut, name, rng, *, stall=0.0):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.rng, self.stall = rng, stall
        self.words, self.accepting, self.ready_driven = [], False, None

    def drive(self):
        self.accepting = self.rng.random() >= self.stall
        if self.accepting != self.ready_driven:
            self.ready.value = int(self.accepting)
            self.ready_driven = self.accepting

    def sample(self):
        if self.accepting and self.valid.value:
            self.words.append(self.payload.value.to_unsigned())


class TB(host.JobDriver):
    def __init__(self, dut, config, *, seed=0, gap=0.0, stall=0.0):
        self.dut, self.config = dut, config
        self.rng = random.Random(seed)
        self.cmd = StreamSource(dut, "cmd", self.rng)
        self.a = StreamSource(dut, "a", self.rng, gap=gap)
        self.b = StreamSource(dut, "b", self.rng, gap=gap)
        self.y = StreamSink(dut, "y", self.rng, stall=stall)
        self.cycle = 0
        self.watchers = []          # called in ReadOnly every cycle: watcher(tb)
        self._wake, self._until = Event(), None
        self._reset_request, self._reset_done = 0, Event()
        self._loop = None
        self._lanes = None

    def set_traffic(self, *, gap=0.0, stall=0.0):
        self.a.gap = self.b.gap = gap
        self.y.stall = stall

    async def start(self):
        for src in (self.cmd, self.a, self.b):
            src.valid.value = 0
        self.y.ready.value = 0
        self.dut.rst.value = 0
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        await FallingEdge(self.dut.clk)
        await self._reset(2)
        self._loop = cocotb.start_soon(self._run())

    async def reset(self, cycles=2):
        """Hold the asynchronous reset for ``cycles`` rising edges (Icarus needs two). Whatever
        the drivers still had to send, and results not yet collected, are dropped."""
        self._reset_request = cycles
        self._reset_done.clear()
        await self._reset_done.wait()

    async def _reset(self, cycles):
        """From a falling edge to a falling edge, with only this coroutine writing."""
        self.dut.rst.value = 1
        for src in (self.cmd, self.a, self.b):
            src.clear()
            src.valid.value = 0
            src.valid_driven = False
        self.y.words.clear()
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0

    async def _run(self):
        parts = (self.cmd, self.a, self.b, self.y)
        while True:
            await FallingEdge(self.dut.clk)
            if self._reset_request:
                await self._reset(self._reset_request)
                self._reset_request = 0
                self._reset_done.set()
            for p in parts:
                p.drive()
            await ReadOnly()
            for p in parts:
                p.sample()
            for w in self.watchers:
                w(self)
            self.cycle += 1
            if self._until is not None and self._until():
                self._until = None
                self._wake.set()

    async def wait_cycles(self, n):
        target = self.cycle + n
        await self.wait_for(lambda: self.cycle >= target, timeout_cycles=n + 1, what="cycles")

    async def wait_for(self, condition, *, timeout_cycles, what):
        """Wait (in ReadOnly) until ``condition()`` holds; fails after ``timeout_cycles``."""
        deadline = self.cycle + timeout_cycles
        self._wake.clear()
        self._until = lambda: condition() or self.cycle >= deadline
        await self._wake.wait()
        if not condition():
            raise AssertionError(f"timed out after {timeout_cycles} cycles waiting for {what}")

    def status(self):
        d = self.dut
        return {"busy": int(d.busy.value), "done": int(d.done.value),
                "error": int(d.error.value), "saturated": d.saturated.value.to_unsigned(),
                "underflow": d.underflow.value.to_unsigned()}

    def lane_registers(self):
        """``[(name, group, (lo, hi))]`` of every lane of ``Accelerator.gated``, by its path in
        the Verilog hierarchy (``sim.runner`` makes these registers visible)."""
        return [lane[:3] for lane in self._lane_handles()]

    def read_lanes(self):
        return [int(h.value) for _, _, _, h in self._lane_handles()]

    def _lane_handles(self):
        if self._lanes is None:
            from hw.top import Accelerator
            self._lanes = []
            for path, reg in Accelerator(config=self.config).gated:
                handle = self.dut
                for part in path:
                    handle = getattr(handle, part)
                self._lanes += [("/".join(path + (lane.name,)), reg.group, bounds,
                                 getattr(handle, lane.name))
                                for bounds, lane in zip(reg.bounds, reg.lanes)]
        return self._lanes

    async def wait_done(self, *, timeout_cycles):
        """After ``submit``: wait for ``done`` with ``busy`` low; returns the status."""
        await self.wait_for(lambda: self.dut.done.value and not self.dut.busy.value,
                            timeout_cycles=timeout_cycles, what="done")
        return self.status()
