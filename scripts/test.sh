#!/usr/bin/env bash
# README command (b) and CI: install, build everything, run the whole CTest
# suite (unit tests, end-to-end scenarios).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
# Tesseract's OpenMP must not compete with our own workers (see docs).
export OMP_THREAD_LIMIT=1
ctest --output-on-failure -j"$(nproc)" "$@"
