#!/usr/bin/env bash
# Memory per worker (issue 12): peak RSS of `acervo run` with --jobs 1 and
# --jobs 2 on the same lot of real colour scans, in the same invocation; the
# difference is what one more worker costs, the rest what a run costs. These
# two figures are kRunMemoryBytes and kWorkerMemoryBytes
# (pipeline/lot_runner.h), which cap the workers of a run by its memory budget
# (docs/cli.md, "Workers and memory").
# The lot: every RGB/RGBA page of the shared corpus (1,960-2,000 px wide),
# copied to a temp folder (links are refused in lots).
# usage: bench/worker_memory.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
acervo=$build/pipeline/acervo
corpus=$root/../shared/corpus
[[ -x $acervo ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
[[ -d $corpus ]] || { echo "no corpus at $corpus" >&2; exit 2; }
work=$(mktemp -d /tmp/acervo-worker-mem-XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1
mkdir -p "$work/lot"
while IFS= read -r f; do
  if file "$f" | grep -q 'color RGB'; then cp "$f" "$work/lot/$(basename "$f")"; fi
done < <(find "$corpus" -name '*.png' | sort)
pages=$(ls "$work/lot" | wc -l)
declare -A secs kb
for jobs in 1 2; do
  /usr/bin/time -f '%e %M' -o "$work/time-$jobs" \
    "$acervo" run "$work/lot" --out "$work/out-$jobs" --jobs "$jobs" --quiet > /dev/null || true
  read -r secs[$jobs] kb[$jobs] < "$work/time-$jobs"
done
echo "$pages colour pages of the corpus, acervo run"
printf '%-8s %10s %14s\n' jobs seconds "peak RSS MB"
for jobs in 1 2; do
  awk -v j="$jobs" -v s="${secs[$jobs]}" -v k="${kb[$jobs]}" 'BEGIN { printf "%-8d %10.1f %14.1f\n", j, s, k / 1024 }'
done
awk -v a="${kb[1]}" -v b="${kb[2]}" \
  'BEGIN { printf "one more worker: %.0f MB; the run with one worker: %.0f MB\n", (b - a) / 1024, a / 1024 }'
