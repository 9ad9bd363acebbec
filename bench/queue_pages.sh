#!/usr/bin/env bash
# Pages per minute through the shared work queue (issue 18) on this machine,
# against `acervo batch` on the same lots in the same invocation:
#   batch   --jobs 1      one process, one page at a time (the peer of 1 worker)
#   worker  x1, --jobs 1  one worker process
#   batch   --jobs 2      one process, two pages at a time (the peer of 2 workers)
#   worker  x2, --jobs 1  two worker processes on the same shared root
# Every run uses its own database of one throwaway PostgreSQL server (started
# here: initdb in a temp folder, Unix socket only, durable settings) and its
# own output folder; the lots are COPIES copies of the demo lot (13 A4 pages
# at 300 dpi each, 6 documents).
# usage: bench/queue_pages.sh [COPIES]   (from the repository root after a build; as root or a user
#        that can run the PostgreSQL server binaries)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
copies=${1:-3}
acervo=$root/build/pipeline/acervo
synth=$root/build/samples/generator/acervo-synth
[[ -x $acervo && -x $synth ]] || { echo "build first: bash scripts/build.sh" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/acervo-queue-bench-XXXXXX)
as_pg=()
if [[ $(id -u) == 0 ]]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_pg[@]}" "$bin/initdb" -D "$work/pg" -A trust -U acervo -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -o "-c listen_addresses='' -c unix_socket_directories='$work'" \
  -l "$work/pg.log" -w start >/dev/null
db() { echo "host=$work user=acervo dbname=$1"; }
for name in batch1 worker1 batch2 worker2; do
  psql -q "$(db postgres)" -c "CREATE DATABASE $name" >/dev/null
done

# The lots: copies of the demo lot, each with its own lot id.
mkdir -p "$work/gen"
"$synth" lot samples/demo/demo-lot.toml --out "$work/gen/demo" >/dev/null
pages_per_lot=$(($(wc -l < "$work/gen/demo/ground-truth/pages.tsv") - 1))
pages=$((pages_per_lot * copies))
for setup in batch1 worker1 batch2 worker2; do
  mkdir -p "$work/$setup/inbox"
  for i in $(seq 1 "$copies"); do
    cp -r "$work/gen/demo" "$work/$setup/inbox/lote-$i"
    sed -i "s/^id = \"demo-2026-0001\"/id = \"demo-2026-000$i\"/" "$work/$setup/inbox/lote-$i/profile.toml"
  done
done
export OMP_THREAD_LIMIT=1

# Wall seconds and CPU seconds (user + system) of each setup: on a machine
# shared with other work the wall time depends on the others; the CPU per
# page does not.
timed() {  # timed NAME COMMAND...: appends "wall cpu" of one process to $work/NAME.time
  /usr/bin/time -f '%e %U %S' -a -o "$work/$1.time" "${@:2}" >/dev/null
}
now() { date +%s.%N; }

t0=$(now)
timed batch1 "$acervo" batch "$work/batch1/inbox" --out "$work/batch1/out" --store "$(db batch1)" --jobs 1 -q
b1=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')

t0=$(now)
"$acervo" enqueue --store "$(db worker1)" --shared-root "$work/worker1" "$work/worker1/inbox"/lote-* >/dev/null
timed worker1 "$acervo" worker --store "$(db worker1)" --shared-root "$work/worker1" --jobs 1 --exit-when-idle -q
w1=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')

t0=$(now)
timed batch2 "$acervo" batch "$work/batch2/inbox" --out "$work/batch2/out" --store "$(db batch2)" --jobs 2 -q
b2=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')

t0=$(now)
"$acervo" enqueue --store "$(db worker2)" --shared-root "$work/worker2" "$work/worker2/inbox"/lote-* >/dev/null
timed worker2 "$acervo" worker --store "$(db worker2)" --shared-root "$work/worker2" --jobs 1 --exit-when-idle -q &
timed worker2 "$acervo" worker --store "$(db worker2)" --shared-root "$work/worker2" --jobs 1 --exit-when-idle -q
wait
w2=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')

for setup in batch1 worker1 batch2 worker2; do
  n=$(psql -Atq "$(db "$setup")" -c "SELECT count(*) FROM pages")
  [[ $n == "$pages" ]] || { echo "queue_pages: $setup stored $n pages, expected $pages" >&2; exit 1; }
done
cpu() { awk '{ s += $2 + $3 } END { print s }' "$work/$1.time"; }
awk -v p="$pages" -v c="$copies" -v cores="$(getconf _NPROCESSORS_ONLN)" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    -v b1="$b1" -v w1="$w1" -v b2="$b2" -v w2="$w2" \
    -v cb1="$(cpu batch1)" -v cw1="$(cpu worker1)" -v cb2="$(cpu batch2)" -v cw2="$(cpu worker2)" 'BEGIN {
  printf "%d lots, %d pages (A4, 300 dpi), PostgreSQL store, %d cores, load average %s at the end\n", c, p, cores, load;
  printf "                            wall      pages/min   CPU s/page\n";
  printf "acervo batch --jobs 1      : %6.1f s  %6.1f       %5.2f\n", b1, p * 60 / b1, cb1 / p;
  printf "1 worker --jobs 1          : %6.1f s  %6.1f       %5.2f   (CPU %.2fx batch --jobs 1)\n", w1, p * 60 / w1,
         cw1 / p, cw1 / cb1;
  printf "acervo batch --jobs 2      : %6.1f s  %6.1f       %5.2f\n", b2, p * 60 / b2, cb2 / p;
  printf "2 workers --jobs 1 each    : %6.1f s  %6.1f       %5.2f   (CPU %.2fx batch --jobs 2; wall %.2fx 1 worker)\n",
         w2, p * 60 / w2, cw2 / p, cw2 / cb2, w1 / w2;
}'
