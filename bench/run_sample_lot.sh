#!/usr/bin/env bash
# End-to-end throughput on the sample lot, Acervo against the peer measured
# in the same run on the same pages:
#   acervo run  (orientation, deskew, blank, OCR, one PDF per document, store)
#   tesseract   (plain CLI, one searchable PDF per page, 2 pages in parallel,
#                no preprocessing: the floor any OCR pipeline starts from)
# Prints pages/min and peak RSS for both and the ratio.
# usage: bench/run_sample_lot.sh [JOBS]   (run from the repository root after a build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${1:-2}
acervo=build/pipeline/acervo
synth=build/samples/generator/acervo-synth
[[ -x $acervo && -x $synth ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
work=$(mktemp -d /tmp/acervo-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
$synth lot samples/demo/demo-lot.toml --out "$work/lot" >/dev/null
pages=$(($(wc -l < "$work/lot/ground-truth/pages.tsv") - 1))
export OMP_THREAD_LIMIT=1

/usr/bin/time -f '%e %M' -o "$work/acervo.time" \
  $acervo run "$work/lot" --out "$work/out" --jobs "$jobs" -q > /dev/null
read -r a_s a_kb < "$work/acervo.time"

# Peer: every page of every input file as its own image, tesseract -> PDF.
mkdir -p "$work/peer"
find "$work/lot" -maxdepth 1 -type f \( -name '*.tif' -o -name '*.png' -o -name '*.jpg' \) -print0 |
  sort -z > "$work/inputs"
/usr/bin/time -f '%e %M' -o "$work/peer.time" \
  xargs -0 -P "$jobs" -I{} sh -c 'tesseract "$1" "$2/$(basename "$1")" -l por+eng pdf >/dev/null 2>&1' _ {} "$work/peer" < "$work/inputs"
read -r t_s t_kb < "$work/peer.time"

awk -v p="$pages" -v as="$a_s" -v akb="$a_kb" -v ts="$t_s" -v tkb="$t_kb" -v j="$jobs" 'BEGIN {
  printf "sample lot: %d pages, %d jobs\n", p, j;
  printf "acervo run : %6.1f s  %6.1f pages/min  peak RSS %5.0f MB\n", as, p*60/as, akb/1024;
  printf "tesseract  : %6.1f s  %6.1f pages/min  peak RSS %5.0f MB (largest single process)\n", ts, p*60/ts, tkb/1024;
  printf "ratio acervo/tesseract pages/min: %.2f\n", (p/as)/(p/ts);
}'
echo "acervo PDFs: $(du -cb "$work"/out/*/*.pdf | tail -1 | cut -f1) bytes; tesseract PDFs: $(du -cb "$work"/peer/*.pdf | tail -1 | cut -f1) bytes"
