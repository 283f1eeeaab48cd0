#!/bin/sh
# Copies each unfinished run's checkpoint and log from build/runs/<policy>/ to runs/<policy>/,
# to be committed: build/ is not kept, and run_all.sh resumes a fresh clone from these copies.
# A committed log with more epochs stays: it comes from an earlier try of the same command, and
# the same command gives the same bits.
set -e
cd "$(dirname "$0")/.."
for d in build/runs/*; do
    p=$(basename "$d")
    [ -f "$d/checkpoint.npz" ] && [ -f "$d/log.json" ] || continue
    verdict=0
    .venv/bin/python - "$d/log.json" "runs/$p/log.json" <<'PY' || verdict=$?
import json, os, sys
run = json.load(open(sys.argv[1]))
kept = json.load(open(sys.argv[2]))["epochs"] if os.path.exists(sys.argv[2]) else []
sys.exit(1 if run["complete"] else 2 if len(kept) > len(run["epochs"]) else 0)
PY
    [ "$verdict" = 1 ] && continue
    mkdir -p "runs/$p"
    cp "$d/checkpoint.npz" "runs/$p/"
    [ "$verdict" = 0 ] && cp "$d/log.json" "runs/$p/"
    echo "kept $p (checkpoint$([ "$verdict" = 0 ] && echo ' and log'))"
done
