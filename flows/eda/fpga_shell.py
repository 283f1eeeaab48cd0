"""The I/O shells the FPGA flow implements the accelerator in (module ``SHELL_TOP``).

The accelerator has far more port bits than a package has pins, so it is implemented inside a
generated I/O shell with pins clk, rst, sin, load and sout. ``shell_verilog``: one serial input
shifts into a register that drives every input port (clock and reset excepted), and every
output port is captured into a register that shifts out on one pin. The shell's flops (one per
port bit) are part of the reported utilization and are stated separately (``shell_ffs``).

``ram_shell_verilog`` (iCE40): the accelerator's inputs from block RAM instead of a shift
register. A shift register of one flop per input bit costs a UP5K logic cell per bit (a flop
fed by a flop has no LUT to share its cell with: several hundred cells at 2×2). Here the inputs
are read from RAMs ``WORDS`` deep (Yosys maps them onto ``SB_RAM40_4K`` blocks, 16 bits each),
written from a 16-bit shift register of ``sin``: every input bit is still a value synthesis
cannot know. Writes go to even words and reads to odd ones, so the block RAM's behaviour when
both hit one word at once needs no emulating logic. The outputs are captured and shifted out as
in ``shell_verilog``.

Most inputs are the registered read data of one RAM. The command (``ABSORBED``) has a RAM of
its own read without a register: the accelerator's command register (``Control``'s ``job``,
reset-less on FPGA) takes the read port's place, as it would behind a command queue in block
RAM, instead of one logic cell per bit.
"""

SHELL_TOP = "varimac_fpga"
WORDS = 256     # one SB_RAM40_4K in its 256 × 16 mode
SREG = 16
ABSORBED = ("cmd__payload",)


def _split(ports, clock, reset):
    """``(inputs, outputs)`` of ``ports`` as ``(name, width)``, clock and reset left out."""
    return ([(n, w) for d, n, w in ports if d == "input" and n not in (clock, reset)],
            [(n, w) for d, n, w in ports if d == "output"])


def _fields(ports, bus):
    """``.name(bus[hi:lo])`` per port, each on the next bits of ``bus`` from bit 0."""
    conns, pos = [], 0
    for name, width in ports:
        conns.append(f".{name}({bus}[{pos + width - 1}:{pos}])")
        pos += width
    return conns


def shell_verilog(ports, *, top, clock="clk", reset="rst"):
    """The I/O shell around ``top``: pins clk, rst, sin, load, sout."""
    ins, outs = _split(ports, clock, reset)
    n_in = max(1, sum(w for _, w in ins))
    n_out = max(1, sum(w for _, w in outs))
    lines = [f"module {SHELL_TOP} (input clk, input rst, input sin, input load, output sout);",
             f"  reg [{n_in - 1}:0] shift_in;",
             f"  reg [{n_out - 1}:0] shift_out;",
             f"  wire [{n_out - 1}:0] outs;",
             "  always @(posedge clk) shift_in <= {shift_in, sin};"
             if n_in > 1 else "  always @(posedge clk) shift_in <= sin;",
             "  always @(posedge clk) shift_out <= load ? outs : (shift_out >> 1);",
             "  assign sout = shift_out[0];"]
    conns = [f".{clock}(clk)", f".{reset}(rst)", *_fields(ins, "shift_in"), *_fields(outs, "outs")]
    lines.append(f"  {top} core ({', '.join(conns)});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n", n_in + n_out


def _data(width, rotate):
    """RAM write data: the shift register's bits, rotated by one more in each 16-bit block."""
    return ", ".join(f"sreg[{(b + b // SREG + rotate) % SREG}]" for b in reversed(range(width)))


def ram_shell_verilog(ports, *, top, shell_top, clock="clk", reset="rst", absorbed=ABSORBED):
    """``(verilog, flops)``: the shell around ``top`` (pins clk, rst, sin, load, sout) and the
    number of its fabric flops."""
    ins, outs = _split(ports, clock, reset)
    n_in = max(1, sum(w for n, w in ins if n not in absorbed))
    n_out = max(1, sum(w for _, w in outs))
    lines = [f"module {shell_top} (input clk, input rst, input sin, input load, output sout);",
             f"  reg [{SREG - 1}:0] sreg;",
             "  reg [6:0] waddr, raddr;",
             f"  reg [{n_in - 1}:0] ram [0:{WORDS - 1}];",
             f"  reg [{n_in - 1}:0] ins;",
             f"  reg [{n_out - 1}:0] shift_out;",
             f"  wire [{n_out - 1}:0] outs;",
             "  always @(posedge clk) begin",
             "    sreg <= {sreg, sin};",
             "    raddr <= raddr + {6'd0, sin};",
             "    if (load) begin",
             "      waddr <= waddr + 7'd1;",
             f"      ram[{{waddr, 1'b0}}] <= {{{_data(n_in, 0)}}};",
             "    end",
             "    ins <= ram[{raddr, 1'b1}];",
             "  end"]
    for k, (name, width) in enumerate((n, w) for n, w in ins if n in absorbed):
        lines += [f"  reg [{width - 1}:0] ram_{name} [0:{WORDS - 1}];",
                  f"  always @(posedge clk) if (load) ram_{name}[{{waddr, 1'b0}}] <= "
                  f"{{{_data(width, k + 1)}}};",
                  f"  wire [{width - 1}:0] in_{name} = ram_{name}[{{raddr, 1'b1}}];"]
    lines += ["  always @(posedge clk) shift_out <= load ? outs : (shift_out >> 1);",
              "  assign sout = shift_out[0];"]
    from_ram = iter(_fields([(n, w) for n, w in ins if n not in absorbed], "ins"))
    conns = [f".{clock}(clk)", f".{reset}(rst)",
             *(f".{n}(in_{n})" if n in absorbed else next(from_ram) for n, _ in ins),
             *_fields(outs, "outs")]
    lines += [f"  {top} core ({', '.join(conns)});", "endmodule"]
    return "\n".join(lines) + "\n", SREG + 16 + n_out
