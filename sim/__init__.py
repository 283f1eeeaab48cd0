"""Simulation of the generated accelerator: the host protocol, a cocotb testbench and runners.

``sim.host`` turns contract jobs into stream beats and back (no simulator needed);
``sim.runner.run_rtl_job`` runs one job on the generated Verilog under cocotb;
``sim.regression`` is ``varimac sim``; ``sim.bench`` measures utilization and speed.
"""
