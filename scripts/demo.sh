#!/usr/bin/env bash
# README command (a): install, build, generate the sample lot, process it with
# the embedded SQLite store, show where the PDFs are and a sample search, and
# say how to open the web interface on the demo store (first admin created).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
bash scripts/build.sh --target acervo acervo-synth
lot=samples/demo-lot
out=out/demo
# The sample lot is generated (deterministically) rather than committed: the
# same generator gives the tests their exact ground truth. The output starts
# empty so the demo shows the whole run (a rerun would skip finished documents).
rm -rf "$lot" "$out"
./build/samples/generator/acervo-synth lot samples/demo/demo-lot.toml --out "$lot"
echo "== acervo run $lot --out $out" >&2
status=0
./build/pipeline/acervo run "$lot" --out "$out" || status=$?
echo
echo "== acervo search --store $out/acervo.db certidao"
./build/pipeline/acervo search --store "$out/acervo.db" certidao || true
echo
echo "== acervo search --store $out/acervo.db --json --field cpf=284.615.937-82"
./build/pipeline/acervo search --store "$out/acervo.db" --json --field cpf=284.615.937-82 || true
echo
echo "== acervo review list --store $out/acervo.db  (what needs a person; docs/review.md)"
./build/pipeline/acervo review list --store "$out/acervo.db" || true

# The web interface (issue 13) on the demo store, with a first admin account.
echo
echo "== LGPD (docs/security.md): the data-subject report of a CPF, and a redacted copy for release"
./build/pipeline/acervo lgpd report --store "$out/acervo.db" --cpf 284.615.937-82 --out "$out/lgpd-report.html" || true
./build/pipeline/acervo redact --store "$out/acervo.db" demo-2026-0001 doc-01-certidao --cpf --cnpj \
  --field interessado --out "$out/doc-01-certidao-tarjado.pdf" || true

password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)
printf '%s\n' "$password" |
  ./build/pipeline/acervo users add admin --store "$out/acervo.db" --role admin --name "Administrador" --password-stdin >/dev/null
echo
echo "== Web interface"
echo "   Start it:  ./build/pipeline/acervo serve --store $out/acervo.db"
echo "   Then open: http://127.0.0.1:8080  and sign in as  admin  with password  $password"
echo "   (loopback only; add users with 'acervo users add', grant lots with 'acervo users grant' — docs/web.md)"
exit $status
