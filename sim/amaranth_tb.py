"""Run jobs on the Amaranth ``Accelerator`` in ``amaranth.sim`` (no Verilog involved).

Used by the fast unit tests and the proof of gating: the same host protocol as the cocotb
testbench, with optional random gaps on the operands and backpressure on the results.
"""

import random

from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from golden import GemmResult
from hw.top import Accelerator

from . import host


def simulate_jobs(config, jobs, *, seed=0, gap=0.0, stall=0.0, watch=None, max_cycles=200_000,
                  dut=None, platform=None):
    """Run ``jobs`` back to back without reset; returns one entry per job.

    A job is a ``GemmJob`` (its entry: the ``GemmResult``) or ``(GemmJob, overrides)``, a
    command the array should refuse (``host.command`` overrides; its entry: the ``error``
    status, after checking that no result came out).
    ``gap``/``stall``: probabilities of an idle operand cycle / a cycle without ``y.ready``.
    ``watch(ctx, job_index)`` is called once per clock cycle while a job runs, after the edge.
    ``platform`` is passed to elaboration (``hw.multiplier.DSP_PLATFORM``: the FPGA build).
    """
    dut = dut or Accelerator(config)
    rng = random.Random(seed)
    results = []
    state = {"job": None, "assembler": None, "done": False}

    async def driver(ctx):
        for index, job in enumerate(jobs):
            job, overrides = job if isinstance(job, tuple) else (job, None)
            state["job"], state["assembler"] = index, host.ResultAssembler(config, job)
            ctx.set(dut.cmd.payload.as_value(),
                    host.packed_command(config, job, **(overrides or {})))
            ctx.set(dut.cmd.valid, 1)
            await ctx.tick().until(dut.cmd.ready)
            ctx.set(dut.cmd.valid, 0)
            if overrides is not None:
                ctx.set(dut.y.ready, 1)
                for _ in range(3 * (config.rows + config.cols)):
                    if ctx.get(dut.y.valid):
                        raise AssertionError(f"job {index}: a refused command gave results")
                    await ctx.tick()
                if not ctx.get(dut.done) or ctx.get(dut.busy):
                    raise AssertionError(f"job {index}: a refused command left the array busy")
                results.append(ctx.get(dut.error))
                continue
            a_beats, b_beats = host.packed_beats(config, job)
            ctx.set(dut.a.valid, 0)
            ctx.set(dut.b.valid, 0)
            # The two operand streams are independent; interleave them cycle by cycle.
            a_iter, b_iter = iter(a_beats), iter(b_beats)
            a_cur, b_cur = next(a_iter, None), next(b_iter, None)
            cycles = 0
            while not ctx.get(dut.done) or ctx.get(dut.busy):
                a_go = a_cur is not None and rng.random() >= gap
                b_go = b_cur is not None and rng.random() >= gap
                ctx.set(dut.a.valid, a_go)
                ctx.set(dut.b.valid, b_go)
                if a_go:
                    ctx.set(dut.a.payload.as_value(), a_cur)
                if b_go:
                    ctx.set(dut.b.payload.as_value(), b_cur)
                ready = rng.random() >= stall
                ctx.set(dut.y.ready, ready)
                a_took = a_go and ctx.get(dut.a.ready)
                b_took = b_go and ctx.get(dut.b.ready)
                y_took = ready and ctx.get(dut.y.valid)
                word = ctx.get(dut.y.payload.as_value()) if y_took else None
                await ctx.tick()
                if watch is not None:
                    watch(ctx, index)
                if a_took:
                    a_cur = next(a_iter, None)
                if b_took:
                    b_cur = next(b_iter, None)
                if word is not None:
                    state["assembler"].add(word)
                cycles += 1
                if cycles > max_cycles:
                    raise AssertionError(f"job {index} did not finish in {max_cycles} cycles")
            ctx.set(dut.y.ready, 0)
            asm = state["assembler"]
            if not asm.complete:
                raise AssertionError(f"job {index}: {asm.count} of {len(asm.expected)} "
                                     f"result beats")
            results.append(GemmResult(y=asm.y, saturated=ctx.get(dut.saturated),
                                      underflow=ctx.get(dut.underflow)))

    sim = Simulator(Fragment.get(dut, platform))
    sim.add_clock(1e-8)
    sim.add_testbench(driver)
    sim.run()
    return results
