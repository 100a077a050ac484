#!/usr/bin/env bash
# One prepared GPU run (see docs/scale.md "GPU paths"): carried wheels -> /tmp/site, the gpu-marked
# tests that can run on a bare GPU machine, then the GPU benchmark -> $OUT/gpu.json, gpu.md, gpu.png.
#
#   OUT=/tmp/gpu-out scripts/gpu_check.sh            # on the GPU machine (about 7 minutes)
#   OUT=/tmp/gpu-out scripts/gpu_check.sh --smoke    # here, on a CPU: tiny models, every code path
#
# Wheels: scripts/gpu_wheels.sh downloads what the GPU image lacks into .whl/ (carry it).
# Time: TOTAL_S (default 420) is split between the tests (TEST_S, default 120) and the benchmark.
set -u -o pipefail
OUT=${OUT:-/tmp/gpu-out}
TOTAL_S=${TOTAL_S:-420}
TEST_S=${TEST_S:-120}
PY=${PYTHON:-python3}
START=$(date +%s)
mkdir -p "$OUT"
log() { echo "[gpu-check $(date +%H:%M:%S) +$(( $(date +%s) - START ))s] $*"; }
left() { echo $(( TOTAL_S - ($(date +%s) - START) )); }

SMOKE=""
DEVICE=cuda
if [ "${1:-}" = "--smoke" ]; then SMOKE="--smoke"; DEVICE=cpu; fi

export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export SHOPASSIST_DATA_DIR=${SHOPASSIST_DATA_DIR:-/tmp/shopassist-gpu-data}
if [ -z "$SMOKE" ] && ls .whl/*.whl >/dev/null 2>&1; then
  log "installing $(ls .whl/*.whl | wc -l) carried wheels into /tmp/site"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl || { log "wheel install failed"; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ! "$PY" -c "import pydantic_settings" 2>/dev/null; then
  log "pydantic-settings is missing: run scripts/gpu_wheels.sh here and name .whl in the run's carry"; exit 2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,memory.used,clocks.sm \
  --format=csv,noheader
"$PY" -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), \
'transformers', transformers.__version__)"

# On a CPU (--smoke) every CUDA test skips: this still proves that the files import and collect.
# assistant/test_gpu.py is self-contained (--noconftest): the chat stack (langchain) is not there.
log "pytest -m gpu (budget ${TEST_S}s)"
timeout -k 10 "$TEST_S" "$PY" -m pytest -m gpu -p no:cacheprovider -q -rs --timeout 150 \
    tests/retrieval/test_gpu.py tests/speech/test_gpu.py 2>&1 | tee "$OUT/pytest-gpu.log"
echo "exit status $?" >> "$OUT/pytest-gpu.log"
timeout -k 10 60 "$PY" -m pytest -m gpu -p no:cacheprovider -q -rs --noconftest --timeout 50 \
    tests/assistant/test_gpu.py 2>&1 | tee -a "$OUT/pytest-gpu.log"
echo "exit status $?" >> "$OUT/pytest-gpu.log"
log "tests done"

BENCH_S=$(left)
[ "$BENCH_S" -lt 120 ] && BENCH_S=120
log "benchmark (budget ${BENCH_S}s)"
timeout -k 10 $(( BENCH_S + 40 )) "$PY" -m evals.bench.gpu --out "$OUT" --device "$DEVICE" $SMOKE \
  --total-s "$BENCH_S" 2>&1 | grep -v "Loading weights\|Writing model shards" | tee "$OUT/bench.log"
log "benchmark exit status $? — files:" && ls -la "$OUT"
[ -f "$OUT/gpu.md" ] && cat "$OUT/gpu.md"
