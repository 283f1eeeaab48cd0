# varimac — every target bootstraps .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
VARIMAC := $(VENV)/bin/varimac
# The dataset and liberty files live beside the checkout when the project is laid out that way.
SHARED ?= $(abspath ../shared)
export VARIMAC_DATA ?= $(if $(wildcard $(SHARED)/datasets),$(SHARED)/datasets)
export VARIMAC_LIBERTY ?= $(if $(wildcard $(SHARED)/liberty),$(SHARED)/liberty)

.PHONY: setup test demo verilog sim train power fpga timing bench paper clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 || $(PY) -m pip install --quiet 'torch>=2.0'
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: setup
	$(PY) -m pytest -q tests

demo: setup
	$(VARIMAC) demo --out build/demo

verilog: setup
	$(VARIMAC) verilog --out build/verilog

sim: setup
	$(VARIMAC) sim --out build/sim

train: setup
	$(VARIMAC) train --policy two-phase --epochs 20 --out build/train/two-phase

power: setup
	$(VARIMAC) power --out build/power

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
	$(PY) -m flows.quote docs/RESULTS.md README.md

clean:
	rm -rf build
