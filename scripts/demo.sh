#!/usr/bin/env bash
# README command (a): install, build, generate the sample lot, process it with
# the embedded SQLite store, and show where the PDFs are and a sample search.
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
exit $status
