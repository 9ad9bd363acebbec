#!/usr/bin/env bash
# Speed of `acervo serve` (issue 13, item 11; figures in docs/benchmarks.md).
#
#   bash bench/web_bench.sh search STORE.db [SECONDS] [CONNECTIONS]
#     wrk against /api/v1/search on STORE (e.g. the 1,000,000-page store that
#     `store_scale_bench --pages 1000000 --backend sqlite --keep --dir D` leaves
#     in D/index.db) with the store benchmark's query mix, as a reader granted
#     every lot (the access restriction is part of every query), then the
#     search page's first render in Chromium.
#   bash bench/web_bench.sh page STORE.db
#     the page image with its highlight boxes (document page HTML, the hit
#     boxes as JSON, the page rendered from the PDF, cold and cached), on a
#     store with real PDFs (e.g. out/demo/acervo.db from scripts/demo.sh).
#
# Adds bench users to STORE (bench-admin, bench-reader; password in this
# file) — use a scratch store. The server listens on a port the OS picks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
acervo="${ACERVO:-$root/build/pipeline/acervo}"  # ACERVO=... to compare two builds in one run
mode=${1:?usage: web_bench.sh search|page STORE [SECONDS] [CONNECTIONS]}
store=${2:?store}
seconds=${3:-30}
conns=${4:-16}
pw="bench-password-123"
work=$(mktemp -d)
pid=""
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

for u in "bench-admin admin" "bench-reader reader"; do
  set -- $u
  printf '%s\n' "$pw" | "$acervo" users add "$1" --store "$store" --role "$2" --group bench --password-stdin \
    >/dev/null 2>&1 || true
done
# Every lot of the store, granted by id: the reader's searches carry the
# allow-list a real reader's do.
sqlite3 "$store" "SELECT id FROM lots" | while read -r lot; do
  "$acervo" users grant bench --store "$store" --lot "$lot" >/dev/null 2>&1 || true
done

"$acervo" serve --store "$store" --listen 127.0.0.1:0 --workers "$((conns + 4))" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 1 100); do url=$(head -n1 "$work/serve.out" 2>/dev/null | awk '{print $4}'); [ -n "${url:-}" ] && break; sleep 0.1; done
echo "server $url, store $store"

login() {  # cookie jar for user $1
  local jar="$work/$1.jar"
  local csrf
  csrf=$(curl -s -c "$jar" -b "$jar" "$url/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "_csrf=$csrf" --data-urlencode "user=$1" \
    --data-urlencode "password=$pw" "$url/login"
  echo "$jar"
}

if [ "$mode" = search ]; then
  jar=$(login bench-reader)
  csrf=$(curl -s -b "$jar" "$url/account" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
  token=$(curl -s -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"label":"bench"}' \
    "$url/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
  "$root/build/bench/store_scale_bench" --pages "$(sqlite3 "$store" 'SELECT count(*) FROM pages')" --queries 40 \
    --print-urls "$work/urls.txt"
  echo "query mix: $(wc -l <"$work/urls.txt") URLs (12 kinds x 40)"
  # Warm the page cache and the server's caches with one pass.
  wrk -t1 -c1 -d5s -s "$root/bench/web/search_mix.lua" "$url" -- "$work/urls.txt" "$token" >/dev/null
  echo "== wrk -t2 -c$conns -d${seconds}s /api/v1/search"
  # The server's CPU time over the run (user + system, all threads): CPU per
  # request, and the rate two cores could carry at that cost — the figure
  # that holds when other jobs share the machine.
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  # And its reads from the OS (pread of store pages its connections' caches
  # did not hold: what each commit to the store file makes them drop).
  reads() { awk '/^syscr:/ {n = $2} /^rchar:/ {b = $2} END {print n, b}' "/proc/$pid/io"; }
  read -r syscr0 rchar0 < <(reads)
  cpu0=$(cpu_ticks)
  wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "$root/bench/web/search_mix.lua" "$url" -- "$work/urls.txt" "$token" |
    tee "$work/wrk.out"
  cpu1=$(cpu_ticks)
  read -r syscr1 rchar1 < <(reads)
  awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" '/requests in/ {n = $1}
    END {ms = t * 1000 / hz / n; printf "server CPU: %.1f ms a request (%d requests); 2 cores at that cost: %.0f requests/s\n", ms, n, 2000 / ms}' \
    "$work/wrk.out"
  awk -v r="$((syscr1 - syscr0))" -v b="$((rchar1 - rchar0))" '/requests in/ {n = $1}
    END {printf "server reads from the OS: %.0f a request, %.0f KB a request\n", r / n, b / n / 1024}' "$work/wrk.out"
  node_modules="$root/build/browser-tests/node_modules"
  if [ -d "$node_modules/playwright-core" ]; then
    echo "== search page first render in Chromium (20 runs)"
    NODE_PATH="$node_modules" node "$root/bench/web/first_render.js" "$url" bench-reader "$pw" \
      "certidão,registro,nascimento,penhora,João,Piracicaba,\"registro civil\",averb*" 20
  else
    echo "(no playwright-core: run the browser test once, ctest -R web_browser_test)"
  fi
else
  jar=$(login bench-admin)
  echo "== page image with highlights: per page, the document view (HTML with the boxes), the boxes (JSON),"
  echo "   the image rendered from the PDF (cold: first time at this width) and again (cached); ms"
  printf '%-40s %6s %6s %6s %6s\n' "page" "html" "boxes" "cold" "cached"
  w=1200
  sqlite3 -separator ' ' "$store" \
    "SELECT d.lot_id, d.document_id, p.pdf_page FROM pages p JOIN documents d ON d.id = p.doc_id WHERE p.in_pdf ORDER BY d.id, p.number" |
  while read -r lot doc n; do
    w=$((w + 1))  # a width not rendered before: a cold render
    t() { curl -s -o /dev/null -b "$jar" -w '%{time_total}' "$url$1" | awk '{printf "%.0f", $1 * 1000}'; }
    printf '%-40s %6s %6s %6s %6s\n' "$lot/$doc/$n" "$(t "/doc/$lot/$doc?page=$n&q=certidao")" \
      "$(t "/api/v1/documents/$lot/$doc/pages/$n?q=certidao")" "$(t "/page/$lot/$doc/$n?w=$w")" "$(t "/page/$lot/$doc/$n?w=$w")"
  done
fi
