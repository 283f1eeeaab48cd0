"""Switching activity of the accelerator: GEMM jobs replayed on its gate-level netlist.

The jobs are packed by ``sim.host`` (the same host protocol as the cocotb testbench) into hex
files that a plain Verilog testbench plays on the ``cmd``, ``a`` and ``b`` streams, one job
after the other without reset, with ``y.ready`` always high. Inputs are x until 1 ns and then take their values, so that every
combinational block of the RTL evaluates (Icarus runs no ``always @*`` at time 0 by itself). It records every result beat and
each job's status, so that the results are checked bit for bit against golden: an energy
figure is only reported for a netlist that computed the right answers. The VCD window opens
after reset and closes after the last job's ``done``.

The testbench text depends on the netlist's ports and the clock only: the jobs (their number,
the cycle limit and the words, streamed from the hex files with ``$fscanf``) come at run time
through plusargs, so that a compiled simulator (Verilator's) serves every replay of a netlist.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TB_TOP = "varimac_replay"
CLOCK_NS = 10


@dataclass(frozen=True)
class Replay:
    cycles: int                 # clock cycles inside the VCD window
    macs: int                   # sum of M*N*K over the jobs
    toggles: dict               # net -> 0<->1 changes


class ReplayError(RuntimeError):
    """The netlist did not compute what golden computes (or did not finish)."""


def _feeder(port, index, skew):
    """The testbench block that plays ``port``'s beats of the current job (up to ``a_end``);
    ``{port}_next`` holds the next word of the port's file, read ahead when a beat is taken."""
    return f"""        begin
          while ({index} < a_end) begin
            {port}__payload = {port}_next; {port}__valid = 1;
            @(posedge clk);
            if ({port}__ready) begin
              {index} = {index} + 1;
              r = $fscanf(fd_{port}, "%h\\n", {port}_next);
            end
            #{skew};
          end
          {port}__valid = 0;
        end"""


def testbench(*, top, ports, clock_ns=CLOCK_NS):
    """Verilog text of the replay testbench; ``ports`` maps name -> (direction, width). It reads
    ``+dir=`` (the folder of ``write_stimulus``'s files), ``+jobs=``, ``+max_cycles=`` and
    ``+vcd=`` at run time (``plusargs``).

    Inputs change ``min(1, clock_ns / 4)`` ns after a rising edge; a clock other than the
    default 10 ns sets a 1 ns / 1 ps timescale so that fractional delays keep their value."""
    need = ["clk", "rst", "cmd__payload", "cmd__valid", "cmd__ready", "a__payload",
            "a__valid", "a__ready", "b__payload", "b__valid", "b__ready", "y__payload",
            "y__valid", "y__ready", "busy", "done", "error", "saturated", "underflow"]
    missing = [p for p in need if p not in ports]
    if missing:
        raise ValueError(f"module {top} lacks the port(s) {', '.join(missing)}")
    w = {p: ports[p][1] for p in need}
    regs = ["cmd__payload", "a__payload", "b__payload"]
    # Inputs start as x and get their values at 1 ns: the x->0 events make every
    # combinational block evaluate once (Icarus does not run an always @* at time 0).
    decl = [f"  reg [{w[p] - 1}:0] {p}, {p.split('__')[0]}_next;" for p in regs]
    decl += ["  reg cmd__valid, a__valid, b__valid, y__ready;"]
    for p in ("cmd__ready", "a__ready", "b__ready", "y__valid", "busy", "done"):
        decl.append(f"  wire {p};")
    for p in ("y__payload", "error", "saturated", "underflow"):
        decl.append(f"  wire [{w[p] - 1}:0] {p};")
    conns = ", ".join(f".{p}({p})" for p in need if p not in ("clk", "rst", "y__ready"))
    skew = f"{min(1, clock_ns / 4):g}"
    timescale = "" if clock_ns == CLOCK_NS else "`timescale 1ns/1ps\n"
    return f"""{timescale}
module {TB_TOP};
  reg clk = 0, rst;
  always #{clock_ns / 2} clk = ~clk;
{chr(10).join(decl)}
  {top} dut (.clk(clk), .rst(rst), .y__ready(y__ready), {conns});
  reg [8*512-1:0] vcd, dir;
  integer j, ai = 0, bi = 0, a_end = 0, fd_y, fd_s, cycles = 0, counting = 0;
  integer n_jobs, max_cycles, beats, fd_cmd, fd_a, fd_b, fd_beats, r;
  always @(posedge clk) begin
    if (counting) cycles = cycles + 1;
    if (y__valid && counting) $fwrite(fd_y, "%h\\n", y__payload);
    if (cycles > max_cycles) begin $display("TIMEOUT after %0d cycles", cycles); $finish; end
  end
  initial begin
    if (!$value$plusargs("vcd=%s", vcd) || !$value$plusargs("dir=%s", dir)
        || !$value$plusargs("jobs=%d", n_jobs)
        || !$value$plusargs("max_cycles=%d", max_cycles)) begin
      $display("usage: +vcd=FILE +dir=DIR +jobs=N +max_cycles=N"); $finish;
    end
    fd_cmd = $fopen({{dir, "/cmd.hex"}}, "r");
    fd_a = $fopen({{dir, "/a.hex"}}, "r");
    fd_b = $fopen({{dir, "/b.hex"}}, "r");
    fd_beats = $fopen({{dir, "/beats.hex"}}, "r");
    r = $fscanf(fd_a, "%h\\n", a_next);
    r = $fscanf(fd_b, "%h\\n", b_next);
    fd_y = $fopen({{dir, "/y.txt"}}, "w");
    fd_s = $fopen({{dir, "/status.txt"}}, "w");
    #1 rst = 1;                       // after time 0, so that async clears see an edge
    {{cmd__valid, a__valid, b__valid, y__ready}} = 4'b0001;
    cmd__payload = 0; a__payload = 0; b__payload = 0;
    repeat (3) @(negedge clk);
    rst = 0;
    @(negedge clk);
    $dumpfile(vcd);
    $dumpvars(1, {TB_TOP}.dut);
    counting = 1;
    for (j = 0; j < n_jobs; j = j + 1) begin
      r = $fscanf(fd_cmd, "%h\\n", cmd_next);
      r = $fscanf(fd_beats, "%h\\n", beats);
      cmd__payload = cmd_next;
      cmd__valid = 1;
      @(posedge clk);
      while (!cmd__ready) @(posedge clk);
      #{skew} cmd__valid = 0;
      a_end = a_end + beats;
      fork
{_feeder("a", "ai", skew)}
{_feeder("b", "bi", skew)}
      join
      @(posedge clk);
      while (!(done && !busy)) @(posedge clk);
      $fwrite(fd_s, "%0d %0d %0d\\n", error, saturated, underflow);
    end
    counting = 0;
    $dumpoff;
    $fwrite(fd_s, "cycles %0d\\n", cycles);
    $fclose(fd_y); $fclose(fd_s);
    $finish;
  end
endmodule
"""


def plusargs(work, *, n_jobs, n_beats, max_cycles=None):
    """The run-time arguments of ``testbench`` for the jobs ``write_stimulus`` put in
    ``work`` (all but ``+vcd=``); the default cycle limit is generous: a job stalls nowhere."""
    if max_cycles is None:
        max_cycles = 10 * n_beats + 200 * n_jobs + 1000
    return (f"+dir={Path(work).resolve()}", f"+jobs={n_jobs}", f"+max_cycles={max_cycles}")


def write_stimulus(config, jobs, work):
    """The hex files of ``jobs`` in ``work``; returns (number of beats, expected y beats)."""
    from sim import host
    cmds, a_all, b_all, beats = [], [], [], []
    for job in jobs:
        host.check_job(config, job)
        cmds.append(host.packed_command(config, job))
        a, b = host.packed_beats(config, job)
        a_all += a
        b_all += b
        beats.append(len(a))
    work = Path(work)
    for name, words in (("cmd", cmds), ("a", a_all), ("b", b_all), ("beats", beats)):
        (work / f"{name}.hex").write_text("".join(f"{w:x}\n" for w in words))
    return len(a_all)


def check_results(config, jobs, work):
    """Compare the recorded results with golden; returns the cycle count of the window."""
    from golden import gemm
    from sim import host
    work = Path(work)
    status = (work / "status.txt").read_text().split("\n") if (work / "status.txt").exists() \
        else []
    if not status or not status[-2].startswith("cycles"):
        log = (work / "sim.log").read_text() if (work / "sim.log").exists() else ""
        raise ReplayError(f"the replay did not finish: {log.strip()[-300:]}")
    words = [int(x, 16) for x in (work / "y.txt").read_text().split()]
    pos = 0
    for i, job in enumerate(jobs):
        err, sat, und = (int(x) for x in status[i].split())
        asm = host.ResultAssembler(config, job)
        while not asm.complete:
            if pos >= len(words):
                raise ReplayError(f"job {i}: {asm.count} of {len(asm.expected)} result beats")
            asm.add(words[pos])
            pos += 1
        want = gemm(job)
        if err or not np.array_equal(asm.y, want.y) or (sat, und) != (want.saturated,
                                                                      want.underflow):
            raise ReplayError(f"job {i}: the netlist's result differs from golden (error "
                              f"{err}, saturated {sat}/{want.saturated}, underflow "
                              f"{und}/{want.underflow})")
    if pos != len(words):
        raise ReplayError(f"{len(words) - pos} result beats more than the jobs produce")
    return int(status[-2].split()[1])


def replay(*, config, jobs, netlist, library, work_dir, max_cycles=None, clock_ns=CLOCK_NS,
           arcs=None):
    """Run ``jobs`` on the gate-level ``netlist`` clocked at ``clock_ns``; returns a checked
    ``Replay``. With ``arcs`` (cell delays from ``flows.eda.glitchsim.read_sdf``) the simulation
    has those delays and counts glitches; without, it has none."""
    from . import gatesim, glitchsim
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("y.txt", "status.txt"):
        (work / stale).unlink(missing_ok=True)
    n_beats = write_stimulus(config, jobs, work)
    ports = {name: (d, len(bits)) for name, (d, bits) in netlist.ports.items()}
    tb = testbench(top=netlist.top, ports=ports, clock_ns=clock_ns)
    delays = {} if arcs is None else {"arcs": arcs}
    simulate = gatesim.simulate if arcs is None else glitchsim.simulate
    toggles, _ = simulate(netlist=netlist, library=library, testbench=tb, tb_top=TB_TOP,
                          work_dir=work,
                          plusargs=plusargs(work, n_jobs=len(jobs), n_beats=n_beats,
                                            max_cycles=max_cycles), **delays)
    cycles = check_results(config, jobs, work)
    macs = sum(int(np.prod(job.shape)) for job in jobs)
    return Replay(cycles=cycles, macs=macs, toggles=toggles)
