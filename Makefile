# varimac — every target bootstraps .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
VARIMAC := $(VENV)/bin/varimac
# Nothing beside the checkout is needed: the liberty files and the demo's images ship in the
# repository. A full CIFAR-10 copy beside it (../shared/datasets) is used for `make train` when
# present; otherwise training looks where `varimac data download` puts the official archive.
SHARED ?= $(abspath ../shared)
export VARIMAC_DATA ?= $(if $(wildcard $(SHARED)/datasets),$(SHARED)/datasets)
# Test workers (pytest-xdist): one per core by default; JOBS=1 runs the suite in one process.
# Each test file runs on one worker, so a module's simulator build is made once.
JOBS ?= auto

.PHONY: setup test test-slow demo verilog sim sim-cocotb train sweep traces power arch fpga timing bench paper clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 || $(PY) -m pip install --quiet 'torch>=2.0'
	$(PY) -m pip install --quiet -e '.[test,sweep]'
	touch $@

test: setup
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile tests

test-slow: setup
	$(PY) -m pytest -q -m slow tests

demo: setup
	$(VARIMAC) demo --out build/demo

verilog: setup
	$(VARIMAC) verilog --out build/verilog

# The generator's sweep (every configuration built and verified on random jobs and its range
# edges), then 10^4 random jobs on the 8x8 default; both on the fast Verilator harness.
sim: setup
	$(VARIMAC) sim --sweep --out build/sim/sweep
	$(VARIMAC) sim --random 10000 --preset default --out build/sim/random

# The directed cocotb protocol tests (resets, refused commands, the gating proof) on Icarus.
sim-cocotb: setup
	$(VARIMAC) sim --out build/sim/cocotb

train: setup
	$(VARIMAC) train --policy two-phase --epochs 20 --download --out build/train/two-phase

# Issue 20's grid: three seeds of every policy compared in the report (hours per run on 2 cores).
SWEEP_POLICIES ?= float32,fixed-16,fixed-8,two-phase,adaptive,cyclic,progressive,per-role,wide-ends,metric,fixed-8+headroom
sweep: setup
	$(VARIMAC) sweep --policies $(SWEEP_POLICIES) --seeds 0,1,2 --epochs 20 --out build/sweep

# Step-0 GEMM jobs of the network at each fixed width, trained on the shipped demo subset: the
# trace rows of `make power`, regenerated from a fresh clone.
traces: setup
	for w in 4 8 12 16; do $(VARIMAC) train --policy fixed-$$w --epochs 1 --train-subset 128 \
	  --test-subset 128 --data demo --trace --no-progress --out build/traces/fixed-$$w || exit 1; done

# Zero-delay and glitch-aware energy of the tunable and the fixed array, both clocked at the
# period the slower one meets (results/timing), on random jobs and on the network's training
# GEMMs (make traces): 3 jobs of each per width, each job priced alone and kept under
# the work/cache folder of build/power, so that an interrupted run resumes where it stopped.
power: traces
	$(VARIMAC) power --timing results/timing/timing.json --variants tunable,fixed \
	  --jobs build/traces --out build/power

arch: setup
	$(VARIMAC) arch --out build/arch

fpga: setup
	$(VARIMAC) fpga --family ice40 --out build/fpga/ice40
	$(VARIMAC) fpga --family ecp5 --out build/fpga/ecp5

timing: setup
	$(VARIMAC) timing --preset small --out build/timing
	$(VARIMAC) timing --out build/timing

bench: setup
	$(VARIMAC) bench --out build/bench

paper: setup
	$(VARIMAC) report --runs runs/*/ --power results/power/power.json --out docs/figures
	$(VARIMAC) system --runs runs/*/ --memory edge large --out results/system
	$(VARIMAC) quote docs/RESULTS.md README.md docs/system.md

clean:
	rm -rf build
