"""varimac's flows: the command line, Verilog export, synthesis, power, FPGA and reports."""
