#!/bin/sh
# Trains every policy on the full CIFAR-10 training set, one run after another, and copies each
# finished log.json to runs/<policy>/. Checkpoints live in build/runs/<policy>/ (git-ignored);
# `sh runs/keep.sh` copies an unfinished run's checkpoint to runs/<policy>/ to be committed, and
# a fresh clone starts from that copy: running this script again resumes where it stopped, and
# skips a policy whose committed log is complete.
# Usage: sh runs/run_all.sh [EPOCHS [POLICY...]]
# (BACKEND=torch|numpy forces one backend, e.g. torch on a machine with a GPU).
set -e
cd "$(dirname "$0")/.."
EPOCHS=${1:-20}
[ $# -gt 0 ] && shift
POLICIES=${*:-float32 fixed-16 two-phase adaptive fixed-8 two-phase-float autoflex fixed-12 fixed-4}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
for p in $POLICIES; do
    # Same bits on both backends; on a CPU NumPy's float64 BLAS runs the 12- and 16-bit GEMMs
    # faster than torch (results/bench/train.md), torch the 8-bit and float32 ones.
    case "$p" in
        fixed-16|fixed-12|two-phase|adaptive) backend=${BACKEND:-numpy} ;;
        *) backend=${BACKEND:-torch} ;;
    esac
    if [ -f "runs/$p/log.json" ] && .venv/bin/python -c \
        'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["complete"])' "runs/$p/log.json"
    then
        echo "$p: finished, runs/$p/log.json"
        continue
    fi
    mkdir -p "build/runs/$p"
    if [ ! -f "build/runs/$p/checkpoint.npz" ] && [ -f "runs/$p/checkpoint.npz" ]; then
        cp "runs/$p/checkpoint.npz" "build/runs/$p/checkpoint.npz"
    fi
    .venv/bin/varimac train --policy "$p" --epochs "$EPOCHS" --backend "$backend" --threads 1 \
        --no-progress --out "build/runs/$p"
    # runs/<policy>/ appears only with a log in it: `make paper` reads every folder there.
    mkdir -p "runs/$p"
    cp "build/runs/$p/log.json" "runs/$p/log.json"
    rm -f "runs/$p/checkpoint.npz"
done
