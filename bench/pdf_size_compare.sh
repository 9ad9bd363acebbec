#!/usr/bin/env bash
# PDF size, Acervo against OCRmyPDF in the same run on the same inputs:
#   acervo run                        (PDF/A-1b: G4 for bitonal pages, JPEG for
#                                      gray/colour at the measured quality)
#   ocrmypdf --output-type pdfa-1     (Debian's OCRmyPDF with Ghostscript)
# Inputs: the demo lot's pages plus some real corpus pages (read in place from
# ACERVO_CORPUS_DIR / ../shared/corpus; never copied into the repository).
# The colour stage classes nearly every real scan of the corpus bw, so to
# measure the gray and colour classes on real scans too, the script also
# derives (in its temp folder, with Debian's Pillow, which OCRmyPDF needs
# anyway) alpha-free copies of the corpus pages that have an alpha channel
# (OCRmyPDF refuses those) and copies of three real scans with a red rubber
# stamp and a blue pen stroke drawn on them (classed colour).
# Every input file is one document for both tools (no manifest), so the PDFs
# pair up one to one. Prints one row per document (with how Acervo stored its
# image: ccitt, jpeg, image (Flate), or mrc = G4 mask + JPEG background and
# foreground) and, per colour class (the class Acervo's colour stage gave
# the pages), the mean KB per page of both, the ratio (target <= 0.5) and
# Acervo's mean for 300-dpi pages (target <= 200 KB/page).
# usage: bench/pdf_size_compare.sh [BUILD_DIR] [JOBS]   (from the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
jobs=${2:-2}
acervo=$build/pipeline/acervo
synth=$build/samples/generator/acervo-synth
[[ -x $acervo && -x $synth ]] || { echo "build first: bash scripts/build.sh (or pass BUILD_DIR)" >&2; exit 2; }
command -v ocrmypdf >/dev/null || { echo "install Debian's ocrmypdf (scripts/debian-packages.txt)" >&2; exit 2; }
corpus=${ACERVO_CORPUS_DIR:-$root/../shared/corpus}
work=$(mktemp -d /tmp/acervo-pdfsize-XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_THREAD_LIMIT=1

# The bench lot: demo pages (generated) and corpus pages (copied: acervo follows no link out of a lot).
$synth lot samples/demo/demo-lot.toml --out "$work/demo" >/dev/null
mkdir -p "$work/lot"
find "$work/demo" -maxdepth 1 -type f \( -name '*.tif' -o -name '*.png' -o -name '*.jpg' \) \
  -exec cp {} "$work/lot/" \;
if [[ -d $corpus ]]; then
  # Text pages (the colour stage keeps most of them bitonal) and pages with
  # photos, stamps and colour (slide, form, photographed page) so that the
  # gray and colour classes are measured too. Pages with an alpha channel
  # (ptbr-dharma/anatomia.png, receipt_03.png) are left out: OCRmyPDF refuses
  # them.
  for f in tesseract-test/8087_054.3B.tif tesseract-test/phototest.tif ptbr-dharma/doutrina_nacional.png \
           ptbr-dharma/barranquilla.png scribeocr-benchmark/filing_01.png \
           scribeocr-benchmark/deposition_02.png ocrmypdf-resources/linn.png unpaper-tests/imgsrc001.png \
           scribeocr-benchmark/slide_01.png scribeocr-benchmark/form_01.png scribeocr-benchmark/multicol_05.jpg \
           scribeocr-benchmark/chart_01.png unpaper-tests/imgsrc003.png unpaper-tests/imgsrc004.png; do
    [[ -f $corpus/$f ]] && cp "$corpus/$f" "$work/lot/$(basename "$f")"
  done
  /usr/bin/python3 - "$corpus" "$work/lot" <<'EOF'
import sys
from PIL import Image
corpus, lot = sys.argv[1], sys.argv[2]
# Alpha flattened onto white paper.
for f in ("scribeocr-benchmark/multicol_01.png", "ptbr-dharma/anatomia.png",
          "scribeocr-benchmark/receipt_03.png"):
    src = Image.open(f"{corpus}/{f}")
    im = src.convert("RGBA")
    page = Image.new("RGB", im.size, (255, 255, 255))
    page.paste(im, mask=im.split()[3])
    page.save(f"{lot}/flat_{f.split('/')[-1]}", dpi=src.info.get("dpi", (300, 300)))
EOF
  # Real scans with a red rubber stamp and a blue pen stroke (colour class).
  for f in scribeocr-benchmark/filing_01.png scribeocr-benchmark/deposition_02.png ptbr-dharma/doutrina_nacional.png; do
    /usr/bin/python3 "$root/bench/stamp_page.py" "$corpus/$f" "$work/lot/stamped_$(basename "$f")" --default-dpi 300
  done
else
  echo "warning: no corpus at $corpus; demo pages only" >&2
fi

/usr/bin/time -f '%e' -o "$work/acervo.time" \
  $acervo run "$work/lot" --out "$work/out" --jobs "$jobs" -q --lot-id bench > /dev/null || true
mkdir -p "$work/peer"
find "$work/lot" -maxdepth 1 \( -type f -o -type l \) -print0 | sort -z > "$work/inputs"
# --image-dpi only applies to images without a resolution (Acervo assumes
# 300 dpi for those too); --jobs 1 per file, files in parallel.
/usr/bin/time -f '%e' -o "$work/peer.time" \
  xargs -0 -P "$jobs" -I{} sh -c 'ocrmypdf -q --output-type pdfa-1 -l por+eng --image-dpi 300 --jobs 1 \
      "$1" "$2/$(basename "$1" | sed "s/\.[^.]*$//").pdf" 2>>"$2/errors.log" || echo "ocrmypdf failed: $1" >&2' \
      _ {} "$work/peer" < "$work/inputs"

/usr/bin/python3 - "$work" "$(cat "$work/acervo.time")" "$(cat "$work/peer.time")" <<'EOF'
import os, re, sqlite3, subprocess, sys
from collections import Counter, defaultdict
work, a_s, p_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])

def pages(pdf):
    out = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 0

def images(pdf):
    """How the PDF stores its page images (mrc when a stencil mask is there)
    and the highest image resolution (the text's)."""
    rows = subprocess.run(["pdfimages", "-list", pdf], capture_output=True, text=True).stdout
    rows = [r.split() for r in rows.splitlines()[2:] if r.strip()]
    kinds = sorted({"mrc" if r[2] in ("stencil", "mask") else r[8] for r in rows})
    if "mrc" in kinds: kinds = ["mrc"]
    ppi = max((int(r[12]) for r in rows), default=0)
    return "+".join(kinds), ppi

db = sqlite3.connect(os.path.join(work, "out", "acervo.db"))
rows = db.execute("""SELECT d.document_id, d.pdf_path, p.color_class, p.in_pdf
                     FROM documents d JOIN pages p ON p.doc_id = d.id
                     WHERE d.lot_id = 'bench'""").fetchall()
docs = defaultdict(lambda: {"classes": Counter(), "pdf": None})
for doc, pdf, cls, in_pdf in rows:
    docs[doc]["pdf"] = pdf
    if in_pdf: docs[doc]["classes"][cls] += 1

print(f"{'document':34} {'class':6} {'pages':>5} {'acervo':>9} {'acervo KB/p':>12} {'ocrmypdf KB/p':>14} {'ratio':>6}")
by_class = defaultdict(lambda: [0, 0, 0, 0])  # acervo bytes, acervo pages, peer bytes, peer pages
text300 = [0, 0]
for doc in sorted(docs):
    d = docs[doc]
    peer = os.path.join(work, "peer", doc + ".pdf")
    if not d["pdf"] or not os.path.exists(d["pdf"]) or not os.path.exists(peer):
        print(f"{doc:34} (missing output: acervo={bool(d['pdf'])} ocrmypdf={os.path.exists(peer)})")
        continue
    cls = d["classes"].most_common(1)[0][0] if d["classes"] else "?"
    if len(d["classes"]) > 1: cls = "mixed"
    a_b, a_p = os.path.getsize(d["pdf"]), pages(d["pdf"])
    p_b, p_p = os.path.getsize(peer), pages(peer)
    kinds, ppi = images(d["pdf"])
    print(f"{doc:34} {cls:6} {a_p:>5} {kinds:>9} {a_b/a_p/1024:>12.1f} {p_b/p_p/1024:>14.1f} {(a_b/a_p)/(p_b/p_p):>6.2f}")
    for k in (cls, "all"):
        c = by_class[k]; c[0] += a_b; c[1] += a_p; c[2] += p_b; c[3] += p_p
    # 300-dpi pages: those whose page image (the text mask for mrc) is
    # stored at 300 dpi or more.
    if ppi >= 295:
        text300[0] += a_b; text300[1] += a_p
print()
print(f"{'class':6} {'acervo KB/page':>15} {'ocrmypdf KB/page':>17} {'ratio':>6}   (target ratio <= 0.5)")
for k in sorted(by_class):
    a_b, a_p, p_b, p_p = by_class[k]
    print(f"{k:6} {a_b/a_p/1024:>15.1f} {p_b/p_p/1024:>17.1f} {(a_b/a_p)/(p_b/p_p):>6.2f}")
if text300[1]:
    print(f"\nacervo, 300-dpi pages: {text300[0]/text300[1]/1024:.1f} KB/page over {text300[1]} pages (target <= 200)")
print(f"time: acervo run {a_s:.1f} s (whole pipeline), ocrmypdf {p_s:.1f} s")
EOF
if [[ -s $work/peer/errors.log ]]; then echo "ocrmypdf messages:"; sort -u "$work/peer/errors.log" | head -20; fi
