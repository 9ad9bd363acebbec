#!/usr/bin/env bash
# Configures and builds Acervo (Release) in ./build. Extra arguments are
# passed to `cmake --build` (e.g. --target acervo).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" "$@"
