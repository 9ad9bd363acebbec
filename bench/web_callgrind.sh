#!/usr/bin/env bash
# Instructions per /api/v1/search request of `acervo serve` under callgrind
# (issue 13, item 11; figures in docs/benchmarks.md, web section): the
# figure to compare two builds by on a shared machine, where CPU time moves
# with the neighbours' load and instruction counts do not.
#
#   ACERVO=BINARY bash bench/web_callgrind.sh STORE.db [PER_KIND] [OUT_DIR]
#
# The server runs under `valgrind --tool=callgrind --instr-atstart=no`; the
# first PER_KIND (default 4) queries of each of the 12 kinds of the store
# benchmark's mix (`store_scale_bench --print-urls`) are sent once to warm
# the caches, then again, one at a time, with instrumentation on; the
# user-space instructions of that second pass divided by the request count
# are printed (the kernel's share, e.g. pread copies, is not counted), then
# the same per query kind (a profile is dumped after each request). With
# OUT_DIR, the callgrind profiles (callgrind.out.N is the Nth URL's, for
# callgrind_annotate) and every response body of the counted pass (to diff
# two builds' answers; the "took_ms" member removed) are kept there.
#
# Adds the users of bench/web_bench.sh to STORE (bench-reader, granted every
# lot): use a scratch store.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
acervo="${ACERVO:-$root/build/pipeline/acervo}"
store=${1:?usage: web_callgrind.sh STORE [PER_KIND] [OUT_DIR]}
per_kind=${2:-4}
out=${3:-}
pw="bench-password-123"
work=$(mktemp -d)
pid=""
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

printf '%s\n' "$pw" | "$acervo" users add bench-reader --store "$store" --role reader --group bench --password-stdin \
  >/dev/null 2>&1 || true
sqlite3 "$store" "SELECT id FROM lots" | while read -r lot; do
  "$acervo" users grant bench --store "$store" --lot "$lot" >/dev/null 2>&1 || true
done

# (OMP_THREAD_LIMIT set: acervo would re-execute itself to set it, outside valgrind.)
OMP_THREAD_LIMIT=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
  "$acervo" serve --store "$store" --listen 127.0.0.1:0 --workers 4 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 1 600); do url=$(head -n1 "$work/serve.out" 2>/dev/null | awk '{print $4}'); [ -n "${url:-}" ] && break; sleep 0.2; done
[ -n "${url:-}" ] || { echo "the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }

jar="$work/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "$url/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "user=bench-reader" \
  --data-urlencode "password=$pw" "$url/login"
csrf=$(curl -s -b "$jar" "$url/account" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
token=$(curl -s -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"label":"bench"}' \
  "$url/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
"$root/build/bench/store_scale_bench" --pages "$(sqlite3 "$store" 'SELECT count(*) FROM pages')" --queries "$per_kind" \
  --print-urls "$work/urls.txt"
n=$(wc -l <"$work/urls.txt")

pass() {  # $1: where to keep the bodies ("" for nowhere); $2: dump a profile after each request
  local i=0
  while read -r u; do
    i=$((i + 1))
    curl -s -H "Authorization: Bearer $token" "$url$u" >"$work/body"
    if [ -n "$1" ]; then sed 's/"took_ms":[0-9.]*,\?//' "$work/body" >"$1/$(printf '%03d' "$i").json"; fi
    if [ -n "${2:-}" ]; then callgrind_control -d "$pid" >/dev/null 2>&1; fi
  done <"$work/urls.txt"
}
pass ""
if [ -n "$out" ]; then mkdir -p "$out/answers"; fi
callgrind_control -z "$pid" >/dev/null 2>&1
callgrind_control -i on "$pid" >/dev/null 2>&1
# One dump per request (callgrind.out.1 is the first URL's), so the
# instructions can be given per query kind (URL i is kind (i - 1) % 12).
pass "${out:+$out/answers}" dump
callgrind_control -i off "$pid" >/dev/null 2>&1
sleep 1
ir=$(cat "$work"/callgrind.out.* | awk '/^totals:/ {s += $2} END {print s}')
awk -v ir="$ir" -v n="$n" 'BEGIN {printf "%d requests, %.2f M instructions a request (%s)\n", n, ir / n / 1e6, ENVIRON["ACERVO"]}'
kinds=("one word (common)" "one word (rare)" "two words" "phrase" "prefix" "word + field filter"
       "word + date range" "filter only" "~ common word" "~ rare word" "~ misread rare word" "~ misread + common")
for k in $(seq 0 11); do
  s=0; c=0
  for ((i = k + 1; i <= n; i += 12)); do
    t=$(awk '/^totals:/ {s += $2} END {print s + 0}' "$work/callgrind.out.$i" 2>/dev/null || echo 0)
    s=$((s + t)); c=$((c + 1))
  done
  awk -v s="$s" -v c="$c" -v name="${kinds[$k]}" 'BEGIN {printf "  %-22s %7.2f M instructions a request\n", name, s / c / 1e6}'
done
if [ -n "$out" ]; then cp "$work"/callgrind.out* "$out/"; fi
