#!/usr/bin/env bash
# Known-item recall on generated pages really rendered (acervo-synth page:
# several fonts and sizes, 150/200 dpi, scanner degradations, skew) and
# really OCRed by `acervo run`: Tesseract's own misreadings, none of the
# text error model's (issue 15). Texts come from known_item_bench's text
# maker with a seed the matchers were never tuned on.
#
# usage: bash bench/known_item_rendered.sh DIR [PAGES] [SEED] [-- known_item_bench options]
#   DIR: where the page folder is made (kept: its OCR is cached in DIR/ocr.tsv,
#        so rerunning with another build compares the search code alone).
# Environment: DPIS (default "150 200"), SIZES (body type in points,
# default "9 10 11") and BLURS (optics blur sigma in pixels, default "0.6")
# are cycled through page by page; NOISE (gaussian noise sigma, default 6);
# BUILD (default build).
# Examples (from the repository folder):
#   bash bench/known_item_rendered.sh /tmp/rendered 60 2612 -- --generated 2000
#   SIZES="7 8" bash bench/known_item_rendered.sh /tmp/rendered-small 100 2613 -- --generated 2000
set -euo pipefail
dir=${1:?usage: known_item_rendered.sh DIR [PAGES] [SEED] [-- bench options]}
pages=${2:-60}
seed=${3:-2612}
shift $(( $# < 3 ? $# : 3 ))
[[ ${1:-} == -- ]] && shift
build=${BUILD:-build}
synth=$build/samples/generator/acervo-synth
bench=$build/bench/known_item_bench
if [[ ! -f $dir/manifest.tsv ]]; then
  mkdir -p "$dir/texts" "$dir/pages"
  "$bench" --write-texts "$dir/texts" --generated "$pages" --seed "$seed" --corpus /nonexistent
  read -r -a dpis <<< "${DPIS:-150 200}"
  read -r -a sizes <<< "${SIZES:-9 10 11}"
  read -r -a blurs <<< "${BLURS:-0.6}"
  fonts=("DejaVu Serif" "Liberation Sans" "Nimbus Roman" "DejaVu Sans" "Liberation Serif" "URW Bookman")
  printf 'path\tsource\tdpi\tlanguage\thas_gt\tnotes\n' > "$dir/manifest.tsv"
  for ((i = 0; i < pages; i++)); do
    id=$(printf 'r%04d' "$i")
    font=${fonts[$((i % ${#fonts[@]}))]}
    dpi=${dpis[$((i % ${#dpis[@]}))]}
    size=${sizes[$(((i / ${#dpis[@]}) % ${#sizes[@]}))]}
    blur=${blurs[$((i % ${#blurs[@]}))]}
    skew=$(awk -v i="$i" 'BEGIN { printf "%.1f", ((i * 7) % 11 - 5) / 2.5 }')
    extra=()
    (( i % 4 == 3 )) && extra+=(--bleed 0.15)
    (( i % 5 == 4 )) && extra+=(--dark-border)
    "$synth" page --text "$dir/texts/$id.txt" --out "$dir/pages/$id.png" --gt "$dir/pages/$id.txt" \
      --dpi "$dpi" --font "$font" --font-size "$size" --skew "$skew" --seed "$((seed + i))" --blur "$blur" --noise "${NOISE:-6}" "${extra[@]}"
    printf 'pages/%s.png\tknown_item_rendered.sh seed %s\t%s\tpor\tyes\t%s %spt skew %s blur %s %s\n' \
      "$id" "$seed" "$dpi" "$font" "$size" "$skew" "$blur" "${extra[*]}" >> "$dir/manifest.tsv"
  done
fi
exec "$bench" --corpus "$dir" --ocr-cache "$dir/ocr.tsv" "$@"
