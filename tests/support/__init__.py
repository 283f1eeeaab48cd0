"""What several test modules share, in one place (no test module imports another; the test
folders beside this one mirror the code: hw, golden, train, sim, flows, cli, docs):

``paths`` (the repository, its build/ and tests/data folders), ``reference`` (naive reference
models written from the spec), ``multipliers`` (a multiplier's products in amaranth.sim),
``jobs`` (Hypothesis strategy of contract GEMM jobs), ``cifar`` (tiny CIFAR-10 files and data
sets), ``training`` (short training runs compared bit for bit), ``train_pins`` (the pinned
training fingerprints; run it to regenerate them), ``netlists`` (hand-made gate-level netlists)
and ``damage`` (generated damage for the fuzz tests).
"""
