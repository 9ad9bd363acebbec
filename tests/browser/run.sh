#!/usr/bin/env bash
# Browser tests of `acervo serve` (issues 13 and 14; certificate login, issue 19), run by
# CTest as web_browser_test:
#   bash tests/browser/run.sh BUILD_DIR
# Installs playwright-core with `npm ci` (package-lock.json; it drives
# Debian's /usr/bin/chromium, no browser is downloaded), builds three small lots
# into one store, adds users and grants, starts `acervo serve` on a port the
# OS picks, and runs browser_test.js. Screenshots: BUILD_DIR/browser-tests/artifacts/.
set -euo pipefail
# A command that stops the script (set -e) names itself: a failure under
# load once ended this test after its last "ok" with no word of why.
trap 'echo "not ok - tests/browser/run.sh line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
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
cp "$src/browser_test.js" "$src/certificate_test.js" "$src/common.js" "$work/"

run=$(mktemp -d "$work/run-XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$run"
}
trap cleanup EXIT

# serve NAME ARGS...: starts `acervo serve --store $db --listen 127.0.0.1:0
# ARGS` in the background and sets url and server_pid.
serve() {
  local name=$1
  shift
  "$acervo" serve --store "$db" --listen 127.0.0.1:0 "$@" >"$run/$name.out" 2>"$run/$name.err" &
  server_pid=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(head -n1 "$run/$name.out" 2>/dev/null | awk '{print $4}')
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then echo "acervo serve ($name) did not start:"; cat "$run/$name.err"; exit 1; fi
  echo "server: $url"
}
# stop_server: the server stops on SIGTERM and leaves its audit trail intact.
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "not ok - acervo serve did not stop cleanly on SIGTERM"; status=1; }
  server_pid=""
  "$acervo" verify --audit --store "$db" || { echo "not ok - acervo verify --audit"; status=1; }
}

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

serve serve

status=0
ACERVO_URL="$url" ARTIFACTS="$work/artifacts" REPLACEMENT_IMAGE="$run/lot-a/01-certidao-p1.png" \
  node "$work/browser_test.js" || status=$?
stop_server

# Issue 19: ICP-Brasil certificate login in Chromium. A test CA (openssl ca,
# so a certificate can be revoked and listed in a CRL), the reader's e-CPF
# (SubjectAltName otherName 2.16.76.1.3.1 = birth date + CPF, DOC-ICP-04)
# and a revoked one; the server over HTTPS with --tls-client-ca/-crl.
pki="$run/pki"
mkdir -p "$pki/new"
: >"$pki/index.txt"; echo 1000 >"$pki/serial"; echo 1000 >"$pki/crlnumber"
cat >"$pki/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
dir = $pki
database = \$dir/index.txt
new_certs_dir = \$dir/new
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 30
policy = any
unique_subject = no
[any]
commonName = supplied
CNF
cat >"$pki/ecpf.ext" <<EXT
basicConstraints = CA:FALSE
keyUsage = digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = clientAuth, emailProtection
subjectAltName = email:leitor@example.gov.br, otherName:2.16.76.1.3.1;OCTETSTRING:0102198052998224725000000000000000000001234567SSPSP
EXT
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/O=ICP-Brasil/CN=AC Teste Acervo' \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout srv.key -out srv.pem
  for n in leitor revoked; do
    openssl req -newkey rsa:2048 -nodes -subj "/O=ICP-Brasil/CN=LEITOR DE TESTE:$n" -keyout $n.key -out $n.csr
    openssl ca -batch -notext -config ca.cnf -extfile ecpf.ext -in $n.csr -out $n.pem
  done
  openssl ca -batch -config ca.cnf -revoke revoked.pem
  openssl ca -batch -config ca.cnf -gencrl -out crl.pem
) 2>"$run/pki.log" >/dev/null || { echo "not ok - openssl could not make the test PKI"; cat "$run/pki.log"; exit 1; }
"$acervo" users set leitor --store "$db" --cpf 529.982.247-25 >/dev/null
if "$acervo" users set outro --store "$db" --cpf 529.982.247-26 2>/dev/null; then
  echo "not ok - acervo users set --cpf takes a CPF with wrong check digits"; status=1
fi
serve serve-tls --tls-cert "$pki/srv.pem" --tls-key "$pki/srv.key" --tls-client-ca "$pki/ca.pem" \
  --tls-client-crl "$pki/crl.pem"
# curl presents the e-CPF: GET /login for the session and its CSRF token,
# POST /login/certificate, then the search page names the reader.
jar="$run/curl.jar"
tls=(-sk --cert "$pki/leitor.pem" --key "$pki/leitor.key" -b "$jar" -c "$jar")
csrf=$(curl "${tls[@]}" "$url/login" | grep -o 'name="_csrf" value="[0-9a-f]*"' | head -n1 | sed 's/.*value="//; s/"$//')
code=$(curl "${tls[@]}" -o /dev/null -w '%{http_code}' --data-urlencode "_csrf=$csrf" --data-urlencode next=/search \
  "$url/login/certificate")
if [ "$code" = 303 ] && curl "${tls[@]}" "$url/search" | grep -q '<b id="whoami">leitor</b>'; then
  echo "ok - curl with the e-CPF signs in leitor"
else
  echo "not ok - curl with the e-CPF: POST /login/certificate answered $code"; status=1
fi
code=$(curl -sk --cert "$pki/revoked.pem" --key "$pki/revoked.key" -o /dev/null -w '%{http_code}' "$url/login")
[ "$code" = 200 ] || { echo "not ok - a revoked certificate still reaches the login page ($code)"; status=1; }
ACERVO_CERT_URL="$url" CERT_DIR="$pki" ARTIFACTS="$work/artifacts" node "$work/certificate_test.js" || status=$?
stop_server
exit $status
