"""``DSP_PLATFORM``: the elaboration platform of the FPGA build.

hw's components read a few attributes of the platform they are elaborated for (with
``getattr`` and the ASIC structure as the default, so ``platform=None`` is the ASIC build).
``DSP_PLATFORM`` sets them for FPGAs: ``hw.top.generate_verilog(config, platform=DSP_PLATFORM)``
is what ``varimac fpga`` implements (docs/fpga.md).
"""


class DSPPlatform:
    """Elaboration platform for FPGA flows: ``LaneMultiplier`` uses its DSP-sized products
    (``lane_products``, ``hw.multiplier_dsp``), and the PE's product and accumulator registers
    load all lanes on one enable (``lane_loads``): an iCE40 logic tile's flops share one clock
    enable, so per-lane enables split the accumulator's carry chain at every lane (its critical
    path on the UP5K), while every reader masks the disabled lanes anyway. ``ResultDrain``
    names its result beats with a counter at its output instead of a delay line
    (``recount_names``); ``Control`` reads the settings that copy a command field from its
    command register (``settings_in_job``)."""
    lane_products = "rows"
    lane_loads = False
    recount_names = True
    settings_in_job = True


DSP_PLATFORM = DSPPlatform()
