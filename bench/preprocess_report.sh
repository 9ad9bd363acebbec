#!/usr/bin/env bash
# Every image-cleanup figure (issue 3) with one command, each against its
# target:
#   1. build/bench/preprocess_eval CORPUS   deskew, orientation, blank pages,
#                                            OCR not worse (Tesseract CER)
#   2. build/bench/preprocess_bench          whole chain per page at 200/300/600
#                                            dpi, gray / colour scan of b/w /
#                                            colour, CPU, medians of 3
#   3. bench/unpaper_compare.sh              Acervo vs unpaper, same pages,
#                                            same run
# Then one summary line per target. Exit status 0 only when every target is
# met. Takes ~15-25 minutes on 2 cores (the OCR part of 1 dominates);
# --no-ocr skips the OCR comparison (then ~6 minutes).
# usage: bench/preprocess_report.sh [BUILD_DIR] [CORPUS_DIR] [--no-ocr]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
corpus=${2:-../shared/corpus}
ocr_flag=${3:-}
eval_bin=$build/bench/preprocess_eval
bench_bin=$build/bench/preprocess_bench
[[ -x $eval_bin && -x $bench_bin ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
[[ -d $corpus ]] || { echo "corpus not found: $corpus" >&2; exit 2; }
export OMP_THREAD_LIMIT=1
work=$(mktemp -d /tmp/acervo-preprocess-report-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== 1. preprocess_eval $corpus $ocr_flag"
status=0
"$eval_bin" "$corpus" $ocr_flag | tee "$work/eval.txt" || status=$?

echo "== 2. preprocess_bench (BM_ImageChain, CPU, medians of 3)"
"$bench_bin" --benchmark_filter='BM_ImageChain' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  grep '_median' | tee "$work/bench.csv"

echo "== 3. unpaper_compare"
bash bench/unpaper_compare.sh "$build" | tee "$work/unpaper.txt"

echo
echo "== Summary (issue 3 targets)"
grep -E '^(deskew|orientation|blank precision|blank recall|OCR):' "$work/eval.txt" || true
# name,iterations,real_time,cpu_time,time_unit,...: "BM_ImageChain/dpi:300/mode:2_median"
chain_ok=1
modes=(gray "colour scan of b/w" colour)
while IFS=, read -r name _ _ cpu unit _; do
  name=${name//\"/}
  dpi=${name#*dpi:}; dpi=${dpi%%/*}
  mode=${name#*mode:}; mode=${mode%%_*}
  verdict=""
  if [[ $dpi == 300 ]]; then
    if awk -v t="$cpu" 'BEGIN { exit !(t <= 100) }'; then verdict="PASS (<= 100 ms)"; else verdict="FAIL (> 100 ms)"; chain_ok=0; fi
  fi
  printf 'chain %s dpi %-18s %7.1f %s CPU %s\n' "$dpi" "${modes[$mode]}:" "$cpu" "$unit" "$verdict"
done < "$work/bench.csv"
grep -E 'speed ratio' "$work/unpaper.txt" || true
if [[ $status -ne 0 || $chain_ok -ne 1 ]]; then
  echo "overall: FAIL"
  exit 1
fi
echo "overall: PASS"
