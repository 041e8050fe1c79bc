#!/usr/bin/env bash
# The end-of-turn and voice-activity models issue 14 asks to evaluate, from pinned PyPI wheels
# (no other network): ONNX Runtime's shared library from the `onnxruntime` wheel (loaded at run
# time by the `ort` crate's load-dynamic), and Smart Turn v3.2 and Silero VAD from the
# `pipecat-ai` wheel. Wheels are cached in ~/.cache/humanline/wheels; the three files land in
# models/turn/, each checked against its sha256. Idempotent. Used by `make turn-eval` only: the
# product does not load these models (README, "End of turn and voice activity models").
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL_DIR="$HOME/.cache/humanline/wheels"
OUT=models/turn
ORT_WHEEL="onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SUM=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
PIPECAT_WHEEL="pipecat_ai-1.14.0-py3-none-any.whl"
PIPECAT_WHEEL_SUM=0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44
# file in the wheel, file in models/turn, its sha256
FILES=(
  "$ORT_WHEEL onnxruntime/capi/libonnxruntime.so.1.32.0 libonnxruntime.so.1.32.0 SUM_ORT"
  "$PIPECAT_WHEEL pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx smart-turn-v3.2-cpu.onnx SUM_TURN"
  "$PIPECAT_WHEEL pipecat/audio/vad/data/silero_vad.onnx silero_vad.onnx SUM_VAD"
)

wheel_ok() { [ -f "$WHEEL_DIR/$1" ] && echo "$2  $WHEEL_DIR/$1" | sha256sum -c --status; }
fetch() { # wheel, sha256, pip arguments
  local wheel=$1 sum=$2
  shift 2
  if wheel_ok "$wheel" "$sum"; then return; fi
  rm -f "$WHEEL_DIR/$wheel"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip
  fi
  mkdir -p "$WHEEL_DIR"
  echo "turn-models: downloading $wheel"
  python3 -m pip download --no-deps -q -d "$WHEEL_DIR" "$@"
  wheel_ok "$wheel" "$sum" || { echo "turn-models: $wheel does not match its pinned sha256" >&2; exit 1; }
}
# The onnxruntime wheel for CPython 3.11 on glibc 2.28+ whatever Python this machine has: only
# its shared library is used.
fetch "$ORT_WHEEL" "$ORT_WHEEL_SUM" onnxruntime==1.32.0 --only-binary=:all: \
  --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp --abi cp311
fetch "$PIPECAT_WHEEL" "$PIPECAT_WHEEL_SUM" pipecat-ai==1.14.0

declare -A SUMS=(
  [SUM_ORT]=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
  [SUM_TURN]=2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f
  [SUM_VAD]=1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3
)
mkdir -p "$OUT"
for entry in "${FILES[@]}"; do
  read -r wheel inner name key <<<"$entry"
  sum=${SUMS[$key]}
  if [ -f "$OUT/$name" ] && echo "$sum  $OUT/$name" | sha256sum -c --status; then continue; fi
  python3 - "$WHEEL_DIR/$wheel" "$inner" "$OUT/$name" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  echo "$sum  $OUT/$name" | sha256sum -c --status || { echo "turn-models: $OUT/$name does not match its pinned sha256" >&2; exit 1; }
done
echo "turn-models: ok ($OUT)"
