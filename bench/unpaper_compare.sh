#!/usr/bin/env bash
# Image cleanup speed, Acervo against unpaper on the same pages in the same
# run, one page at a time on one core each:
#   acervo preprocess  (orientation, colour, deskew, border, clean, blank,
#                       binarize: one process for all pages)
#   unpaper            (defaults: deskew, borders, noise, blackfilter; one
#                       process per page, as unpaper takes one sheet a call)
# Pages: 6 generated A4 300 dpi scans (skew, borders, punch holes, specks)
# plus unpaper's own test inputs and real scans from ../shared/corpus when
# present. Prints both times, per page, and the ratio.
# usage: bench/unpaper_compare.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
acervo=$build/pipeline/acervo
synth=$build/samples/generator/acervo-synth
[[ -x $acervo && -x $synth ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
command -v unpaper >/dev/null || { echo "unpaper not installed (scripts/debian-packages.txt)" >&2; exit 2; }
work=$(mktemp -d /tmp/acervo-unpaper-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/acervo" "$work/unpaper"

printf 'Processo administrativo numero %s. O requerente apresentou os documentos exigidos pelo edital, \n' \
  1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 > "$work/text.txt"
for i in 1 2 3 4 5 6; do
  skew=$(awk -v i="$i" 'BEGIN { printf "%.2f", (i - 3.5) * 1.7 }')
  $synth page --text "$work/text.txt" --out "$work/in/gen$i.png" --dpi 300 --skew "$skew" \
    --seed "$i" --punch-holes --dark-border >/dev/null
done
corpus=$root/../shared/corpus
if [[ -d $corpus ]]; then
  # Gray/bitonal/RGB PNG only: Debian's unpaper 7 (libav input) refuses
  # JPEG's yuvj and RGBA pixels.
  for f in unpaper-tests/imgsrc001.png unpaper-tests/imgsrcE001.png scribeocr-benchmark/filing_01.png \
           ptbr-dharma/barranquilla.png; do
    [[ -f $corpus/$f ]] && cp "$corpus/$f" "$work/in/"
  done
fi
pages=$(ls "$work/in" | wc -l)
export OMP_THREAD_LIMIT=1

start=$(date +%s.%N)
taskset -c 0 "$acervo" preprocess "$work"/in/* --out "$work/acervo" > /dev/null
end=$(date +%s.%N)
a_s=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')

start=$(date +%s.%N)
for f in "$work"/in/*; do
  taskset -c 0 unpaper --overwrite "$f" "$work/unpaper/$(basename "${f%.*}").pnm" > /dev/null 2>&1 ||
    echo "unpaper failed on $(basename "$f")" >&2
done
end=$(date +%s.%N)
u_s=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')

awk -v p="$pages" -v a="$a_s" -v u="$u_s" 'BEGIN {
  printf "pages: %d (one core each tool)\n", p;
  printf "acervo preprocess: %7.2f s  %7.0f ms/page\n", a, 1000 * a / p;
  printf "unpaper          : %7.2f s  %7.0f ms/page\n", u, 1000 * u / p;
  printf "speed ratio unpaper/acervo: %.1fx\n", u / a;
}'
