#!/usr/bin/env bash
# Bounded memory (issue 7): peak RSS of `acervo batch --jobs 2` on a generated
# 100-page lot and a 1,000-page lot (300 dpi, CCITT G4 TIFFs made by
# `acervo-synth bulk`), in the same run. Prints time, pages/min and peak RSS
# of both and their ratio; the goal is <= 500 MB each and <= 1.2x between.
# Pages carry only a few lines of text so OCR stays cheap; memory is
# dominated by the pages in flight, which is what this measures. A4 pages
# cost ~1 s of CPU each through the whole chain, so for a run that fits in a
# few minutes on two cores set a smaller page: WIDTH_MM=105 HEIGHT_MM=148 (A6).
# usage: [WIDTH_MM=210 HEIGHT_MM=297] bench/batch_memory.sh [BUILD_DIR] [SMALL LARGE]
#        (defaults: build 100 1000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
small=${2:-100}
large=${3:-1000}
acervo=$build/pipeline/acervo
synth=$build/samples/generator/acervo-synth
[[ -x $acervo && -x $synth ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
work=$(mktemp -d /tmp/acervo-batch-mem-XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1

declare -A secs kb
for n in "$small" "$large"; do
  $synth bulk --pages "$n" --dpi 300 --width-mm "${WIDTH_MM:-210}" --height-mm "${HEIGHT_MM:-297}" \
    --out "$work/q$n/lote-$n"
  /usr/bin/time -f '%e %M' -o "$work/time-$n" \
    $acervo batch "$work/q$n" --out "$work/out-$n" --jobs 2 --quiet > /dev/null
  read -r secs[$n] kb[$n] < "$work/time-$n"
  rm -rf "$work/q$n" "$work/out-$n"
done

echo "pages: ${WIDTH_MM:-210} x ${HEIGHT_MM:-297} mm at 300 dpi, acervo batch --jobs 2"
printf '%-10s %10s %12s %14s\n' pages seconds pages/min "peak RSS MB"
for n in "$small" "$large"; do
  awk -v n="$n" -v s="${secs[$n]}" -v k="${kb[$n]}" \
    'BEGIN { printf "%-10d %10.1f %12.1f %14.1f\n", n, s, n / (s / 60), k / 1024 }'
done
awk -v a="${kb[$small]}" -v b="${kb[$large]}" -v s="$small" -v l="$large" \
  'BEGIN { printf "peak RSS ratio %d/%d pages: %.2fx (goal <= 1.2x; each <= 500 MB)\n", l, s, b / a }'
