#!/usr/bin/env bash
# The CUDA checks of lava-fptt, for a machine with a CUDA GPU: under 10 minutes in all.
#
#   1. the tests marked `cuda` (tests/test_cuda.py): every training method on CUBA and LTC
#      networks, slayer's CUDA CUBA forward against its CPU arithmetic, the LTC blocks and the
#      SSNN-BP reference against the CPU, a run trained on the GPU loaded on the CPU;
#   2. a table of training throughput on the GPU (benchmarks/memory.py --device cuda): BPTT,
#      SLTT and FPTT at T = 128, 512, 2048 beside SpikingJelly 2.0 on the same GPU.
#
# Needs a CUDA build of torch in the environment (this project pins the CPU build: e.g.
# `make env TORCH="torch==2.13.0 --index-url <a CUDA wheel index>"`), nvcc for slayer's CUDA
# kernels (compiled by torch on first use; the package nvidia-cuda-nvcc provides one) and,
# for the SpikingJelly rows, benchmarks/requirements.txt (installed --no-deps).
#
#   tools/gpu_check.sh [OUT_DIR]        # PYTHON=... to use another interpreter
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-benchmarks/results}
"$PY" - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_check: torch {torch.__version__} sees no CUDA GPU (a CPU build, or no driver); nothing to check")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}", flush=True)
PY
echo "== CUDA tests"
timeout 240 "$PY" -m pytest -q -m cuda -rs -p no:cacheprovider tests/test_cuda.py
echo "== training throughput on the GPU (one training pass; seconds are wall time after synchronizing)"
timeout 330 "$PY" benchmarks/memory.py --device cuda --steps 128 512 2048 \
    --algos bptt sltt fptt sj-fptt sj-sltt --out "$OUT"
