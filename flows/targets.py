"""The project's targets, one table: each bound a measurement is judged against, read by the
code that judges it and written into its result file beside the verdict.

The RTL benchmark's utilization target (0.90 for M, N >= 4x the array, ``sim/bench.py``) stays
with sim/, which imports nothing from flows/.
"""

# Energy per MAC ratios of the tunable array (``flows.eda.power_report.ratios``), at most.
POWER = {"w8_over_fixed_w16": 0.35, "w4_over_fixed_w16": 0.15, "w4_over_w8": 0.30,
         "tunable_w16_over_fixed_w16": 1.05}

# Static timing and area of the 8x8 array (``flows.eda.timing``): Fmax at least, the output
# quantizers' share of the area at most.
TIMING = {"fmax_mhz_nangate45_8x8": 400.0, "quantizer_area_share_8x8": 0.20}

# FPGA (``flows.eda.fpga``): per family, the array that must fit and the clock it must reach
# (nextpnr's Fmax, best seed), which is also the clock nextpnr is steered to (``--freq``).
FPGA_ARRAY = {"ice40": (2, 2), "ecp5": (4, 4)}
FPGA_MHZ = {"ice40": 24.0, "ecp5": 60.0}

# Seconds per fixed-point training step over float32 torch's, at most (``varimac bench --only
# train``).
TRAIN_STEP_OVER_FLOAT32 = 1.5

# The seed experiment (``flows.reports.report.targets``), in the order the report lists them:
# ("accuracy", scheme, reference, points below the reference at most),
# ("energy", scheme, share of fixed-16's energy at most),
# ("fewer_16bit", scheme, reference): a smaller share of 16-bit MACs than the reference.
REPORT = (("accuracy", "fixed-16", "float32", 1.0),
          ("accuracy", "two-phase", "float32", 1.5),
          ("energy", "two-phase", 0.70),
          ("accuracy", "adaptive", "two-phase", 0.0),
          ("fewer_16bit", "adaptive", "two-phase"),
          ("energy", "adaptive", 0.50))
