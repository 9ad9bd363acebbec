#!/usr/bin/env bash
# Browser tests of `acervo serve` (issues 13 and 14), run by CTest as web_browser_test:
#   bash tests/browser/run.sh BUILD_DIR
# Installs playwright-core with `npm ci` (package-lock.json; it drives
# Debian's /usr/bin/chromium, no browser is downloaded), builds three small lots
# into one store, adds users and grants, starts `acervo serve` on a port the
# OS picks, and runs browser_test.js. Screenshots: BUILD_DIR/browser-tests/artifacts/.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
work="$build/browser-tests"
acervo="$build/pipeline/acervo"
synth="$build/samples/generator/acervo-synth"
mkdir -p "$work"

# playwright-core, installed again only when the lock file changed.
if ! cmp -s "$src/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$src/browser_test.js" "$work/"

run=$(mktemp -d "$work/run-XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$run"
}
trap cleanup EXIT

export OMP_THREAD_LIMIT=1
"$synth" lot "$src/lot-a.toml" --out "$run/lot-a" >/dev/null
"$synth" lot "$src/lot-b.toml" --out "$run/lot-b" >/dev/null
"$synth" lot "$src/lot-c.toml" --out "$run/lot-c" >/dev/null
"$acervo" run "$run/lot-a" --out "$run/out" --jobs 2 --quiet >/dev/null
"$acervo" run "$run/lot-b" --out "$run/out" --jobs 2 --quiet >/dev/null
"$acervo" run "$run/lot-c" --out "$run/out" --jobs 2 --quiet >/dev/null
db="$run/out/acervo.db"
export ACERVO_TEST_PASSWORD="senha-de-teste-123"
for u in "admin admin" "leitor reader arquivo-a" "outro reader arquivo-b" "operador operator arquivo-c"; do
  set -- $u
  printf '%s\n' "$ACERVO_TEST_PASSWORD" | "$acervo" users add "$1" --store "$db" --role "$2" ${3:+--group "$3"} \
    --password-stdin >/dev/null
done
"$acervo" users grant arquivo-a --store "$db" --lot browser-a >/dev/null
"$acervo" users grant arquivo-b --store "$db" --lot browser-b >/dev/null
"$acervo" users grant arquivo-c --store "$db" --lot browser-c >/dev/null

"$acervo" serve --store "$db" --listen 127.0.0.1:0 >"$run/serve.out" 2>"$run/serve.err" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(head -n1 "$run/serve.out" 2>/dev/null | awk '{print $4}')
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then echo "acervo serve did not start:"; cat "$run/serve.err"; exit 1; fi
echo "server: $url"

status=0
ACERVO_URL="$url" ARTIFACTS="$work/artifacts" node "$work/browser_test.js" || status=$?
# The server stops on SIGTERM and leaves its audit trail intact.
kill -TERM "$server_pid"
wait "$server_pid" || { echo "not ok - acervo serve did not stop cleanly on SIGTERM"; status=1; }
server_pid=""
"$acervo" verify --audit --store "$db" || { echo "not ok - acervo verify --audit"; status=1; }
exit $status
