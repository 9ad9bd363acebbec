#!/usr/bin/python3
"""Real pages, real speed (issue 16): Acervo against bare Tesseract and
OCRmyPDF on the same pages in one invocation, with a verdict per target.

Pages: every ground-truth page of the shared corpus (manifest.tsv,
has_gt=yes) plus generated pages with exact ground truth (acervo-synth) of
other layouts and resolutions: two and three columns, justified text,
tables, mixed type sizes, 150/200/300/400 dpi, files without a dpi tag or
with a wrong one, colour pages.

Peers, each over the same page files (one input file per page):
  acervo run LOT --out OUT --jobs 2 --hocr   (one PDF/A per page, SQLite store)
  tesseract IMAGE OUT -l por+eng             (two at a time, OMP_THREAD_LIMIT=1)
  ocrmypdf --deskew --clean --rotate-pages --output-type pdfa-1
           -l por+eng --jobs 1 --image-dpi 300   (two processes at a time)
(--image-dpi only applies to files without a resolution, which OCRmyPDF
refuses otherwise; RGBA pages are given to OCRmyPDF flattened on white,
because it refuses alpha. --hocr costs Acervo a few ms a page and gives the
word boxes the alignment check needs.)

Printed: wall time, pages/min, CPU-s/page, peak RSS, PDF bytes/page; per
page the time of each against bare Tesseract's and the CER of the text
pdftotext extracts from each PDF (tesseract: its .txt), plus Acervo's
stored OCR text; then the memory runs (whole corpus at --jobs 2 and 1, an
A3 600-dpi colour page), the colour-page size and fidelity pass and a
verdict per target. Corpus and generated pages are reported side by side.

Timing on a shared machine: the three tools run one after the other over
the same pages; --rounds N repeats the whole comparison N times in rotated
order and keeps each tool's fastest round. Per-page comparisons use CPU
seconds (acervo: the thread CPU time its stages record per page; tesseract
and OCRmyPDF: the process's user+system time, children included), which
other load on the machine inflates far less than wall time.

usage: bench/real_pages.py [--build DIR] [--corpus DIR] [--jobs N]
       [--rounds N] [--skip-ocrmypdf] [--skip-memory] [--only corpus|generated]
       [--baseline TSV] [--write-tsv TSV] [--keep DIR]
"""
import argparse
from collections import Counter
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024

# ---------------------------------------------------------------- pages ----

# Portuguese running text for the generated pages (administrative and
# legal prose, the kind of paper public archives hold).
PARAGRAPHS = [
    "A Secretaria Municipal de Administração informa que o processo de digitalização do acervo "
    "documental seguirá as normas do Decreto nº 10.278, de 18 de março de 2020, que estabelece a "
    "técnica e os requisitos para a digitalização de documentos públicos ou privados, a fim de que "
    "os documentos digitalizados produzam os mesmos efeitos legais dos documentos originais.",
    "Os documentos serão organizados em lotes, cada lote correspondendo a uma caixa de arquivo, e "
    "receberão metadados mínimos: título, tipo documental, data de produção, responsável pela "
    "digitalização, local e data da digitalização, identificador do documento digital e o resumo "
    "criptográfico de cada imagem, calculado no momento da captura.",
    "Após a conferência, o servidor responsável lavrará termo de digitalização, do qual constarão o "
    "número de folhas, a existência de páginas em branco, de folhas danificadas ou ilegíveis e "
    "quaisquer ocorrências verificadas durante o procedimento, que serão comunicadas ao setor de "
    "protocolo para as providências cabíveis.",
    "Nos termos do artigo 5º da Lei Geral de Proteção de Dados Pessoais, os dados de pessoas naturais "
    "constantes dos documentos somente poderão ser consultados por servidores autorizados, mediante "
    "registro de cada acesso, com indicação do usuário, da data, da hora e da finalidade da consulta.",
    "O requerente solicita a expedição de certidão de inteiro teor do processo administrativo, "
    "instruído com cópia do documento de identidade, comprovante de residência e procuração com "
    "poderes específicos, juntando ainda o comprovante de recolhimento da taxa correspondente.",
    "Considerando a necessidade de preservar a memória institucional do município e de assegurar o "
    "acesso rápido às informações, determina-se que os originais permaneçam guardados pelo prazo "
    "previsto na tabela de temporalidade, vedada a sua eliminação antes da homologação da listagem.",
    "A comissão permanente de avaliação de documentos reunir-se-á mensalmente para analisar as "
    "propostas de eliminação, observando o valor histórico, probatório e informativo de cada série "
    "documental, e publicará o edital de ciência de eliminação no diário oficial do município.",
    "Fica o interessado notificado a apresentar, no prazo de quinze dias úteis, contados do "
    "recebimento desta, os documentos relacionados no parecer técnico, sob pena de arquivamento do "
    "pedido, sem prejuízo de nova solicitação instruída com a documentação completa.",
    "O acervo compreende livros de registro, plantas de loteamento, processos de licenciamento, "
    "folhas de pagamento e correspondência oficial, em papel de gramaturas diversas, muitos com "
    "manchas de umidade, grampos oxidados, anotações a lápis e carimbos em tinta azul ou vermelha.",
    "Encaminhem-se os autos à Procuradoria-Geral do Município para manifestação sobre a regularidade "
    "do procedimento licitatório, com urgência, tendo em vista o vencimento do contrato vigente e a "
    "necessidade de continuidade da prestação dos serviços de limpeza urbana e manutenção de praças.",
    "Declaro, para os devidos fins, que as cópias digitais anexas conferem com os originais "
    "apresentados, os quais foram restituídos ao interessado após a captura das imagens, "
    "permanecendo arquivados no sistema sob o número de protocolo indicado no cabeçalho.",
    "A execução orçamentária do exercício registrou receita corrente líquida superior à prevista, "
    "o que permitiu a recomposição das dotações destinadas à educação infantil, ao transporte "
    "escolar e à conservação dos prédios públicos tombados pelo patrimônio histórico estadual.",
]

TABLE = """+ Processo | Interessado | Data | Situação
+ 0004821-10.2023 | Maria das Graças Souza | 15/03/2023 | Deferido
+ 0005133-77.2023 | João Batista Ferreira | 02/04/2023 | Em análise
+ 0005390-02.2023 | Associação de Moradores | 19/04/2023 | Arquivado
+ 0006012-45.2023 | Antônio Carlos Lima | 08/05/2023 | Deferido
+ 0006577-31.2023 | Cooperativa Agrícola Sul | 27/05/2023 | Indeferido
+ 0007104-88.2023 | Luíza Helena Prado | 11/06/2023 | Em análise
+ 0007459-16.2023 | Construtora Horizonte | 30/06/2023 | Deferido
+ 0008120-53.2023 | Sebastião Rocha | 14/07/2023 | Recurso
+ 0008845-70.2023 | Escola Estadual Dom Pedro | 02/08/2023 | Deferido
+ 0009301-29.2023 | Francisca Alves | 21/08/2023 | Arquivado"""


def para(k, n):
    """n paragraphs of running text starting at the k-th, blank-line separated."""
    return "\n\n".join(PARAGRAPHS[(k + i) % len(PARAGRAPHS)] for i in range(n))


def generated_pages():
    """Specs of the generated pages: name, markup, rendered dpi, dpi written
    into the file (None: the same; 0: none), body size, skew, colour."""
    two_col = ("# RELATÓRIO DE ATIVIDADES DO ARQUIVO MUNICIPAL\n\n%columns 2\n%justify on\n"
               + "## 1. Digitalização\n" + para(0, 5) + "\n\n## 2. Conservação\n" + para(5, 5) + "\n")
    three_col = ("# BOLETIM INFORMATIVO DO ACERVO\n\n%columns 3\n%justify on\n" + para(4, 12) + "\n")
    table = ("# PROCESSOS DESPACHADOS NO SEMESTRE\n\n" + para(1, 2) + "\n\n" + TABLE + "\n\n" + para(7, 3) + "\n")
    mixed = ("%size 20\n## Prefeitura Municipal de Vila Nova\n%size 11\n" + para(2, 2) +
             "\n\n%size 8\n%columns 2\n%justify on\n" + para(5, 6) + "\n%columns 1\n%justify off\n%size 14\n"
             "## Termo de encerramento\n%size 11\n" + para(10, 1) + "\n")
    one_col = ("# OFÍCIO Nº 127/2024\n\n" + para(6, 6) + "\n")
    small = ("# EDITAL DE CIÊNCIA DE ELIMINAÇÃO\n\n" + para(8, 12) + "\n")
    return [
        # name, markup, dpi, dpi tag, body pt, skew, colour
        ("gen-2col-300", two_col, 300, None, 10, 0.7, False),
        ("gen-3col-300", three_col, 300, None, 9, -0.4, False),
        ("gen-table-300", table, 300, None, 10, 0.3, False),
        ("gen-mixed-300", mixed, 300, None, 11, -0.9, False),
        ("gen-2col-150", two_col, 150, None, 10, 0.5, False),
        ("gen-1col-200", one_col, 200, None, 11, 1.2, False),
        ("gen-table-400", table, 400, None, 10, -0.6, False),
        ("gen-3col-300-nodpi", three_col, 300, 0, 9, 0.2, False),
        ("gen-2col-200-tag72", two_col, 200, 72, 10, -0.3, False),
        ("gen-mixed-200-tag300", mixed, 200, 300, 11, 0.4, False),
        ("gen-small-150-nodpi", small, 150, 0, 8, 0.8, False),
        ("gen-color-table-300", table, 300, None, 10, 0.4, True),
        ("gen-color-2col-200", two_col, 200, None, 10, -0.5, True),
        # More colour pages of other layouts and resolutions: Tesseract is
        # given colour pages in gray, measured here as well as on the corpus.
        ("gen-color-3col-400", three_col, 400, None, 9, 0.3, True),
        ("gen-color-mixed-150-nodpi", mixed, 150, 0, 11, -0.6, True),
        ("gen-color-small-200", small, 200, None, 8, 0.5, True),
    ]


COLOURISE = r'''
import sys
from PIL import Image, ImageDraw, ImageChops
src, dst, dpi = sys.argv[1], sys.argv[2], float(sys.argv[3])
gray = Image.open(src).convert("L")
w, h = gray.size
# Cream paper, dark-blue ink: the gray page decides where the ink is.
paper = Image.new("RGB", (w, h), (246, 240, 222))
ink = Image.new("RGB", (w, h), (25, 30, 70))
page = Image.composite(paper, ink, gray)
d = ImageDraw.Draw(page, "RGBA")
# A light colour band behind the title, a red stamp, a blue pen stroke and
# a colour logo patch: mixed raster content a scanner of colour forms sees.
d.rectangle([int(w * 0.08), int(h * 0.075), int(w * 0.92), int(h * 0.115)], fill=(120, 170, 220, 70))
cx, cy, r = int(w * 0.78), int(h * 0.86), int(w * 0.07)
for k in range(int(r * 0.08)):
    d.ellipse([cx - r + k, cy - r + k, cx + r - k, cy + r - k], outline=(190, 30, 45, 200))
d.line([(int(w * 0.2 + i * w * 0.004), int(h * 0.9 + (h * 0.006 if (i // 5) % 2 else -h * 0.006)))
        for i in range(60)], fill=(30, 50, 170, 230), width=max(2, int(w * 0.002)))
for i in range(8):
    d.rectangle([int(w * 0.08) + i * int(w * 0.01), int(h * 0.02), int(w * 0.08) + (i + 1) * int(w * 0.01),
                 int(h * 0.05)], fill=(40 + 25 * i, 140, 200 - 20 * i, 255))
page.save(dst, dpi=(dpi, dpi))
'''

FLATTEN = r'''
import sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
im = Image.open(src)
dpi = im.info.get("dpi")
rgba = im.convert("RGBA")
page = Image.new("RGB", rgba.size, (255, 255, 255))
page.paste(rgba, mask=rgba.split()[3])
page.save(dst, **({"dpi": dpi} if dpi else {}))
'''


def sh(args, **kw):
    return subprocess.run(args, check=True, **kw)


def prepare_pages(args, work):
    """Returns a list of page dicts: name, path (input for acervo and
    tesseract), ocrmypdf_path, truth, group ('corpus'/'generated'), dpi."""
    synth = Path(args.build) / "samples/generator/acervo-synth"
    pages = []
    if args.only != "generated":
        corpus = Path(args.corpus)
        manifest = (corpus / "manifest.tsv").read_text(encoding="utf-8").splitlines()
        header = manifest[0].split("\t")
        for row in manifest[1:]:
            f = dict(zip(header, row.split("\t")))
            if f.get("has_gt") != "yes":
                continue
            src = corpus / f["path"]
            truth = src.with_suffix(".txt")
            if not src.exists() or not truth.exists():
                continue
            pages.append({"name": src.stem, "src": src, "truth": truth, "group": "corpus", "lang": f["language"]})
        # Derived: real scans of the corpus with colour marks drawn on them.
        derived = work / "derived"
        derived.mkdir()
        for name in ("scribeocr-benchmark/filing_01.png", "scribeocr-benchmark/deposition_02.png",
                     "ptbr-dharma/doutrina_nacional.png", "scribeocr-benchmark/multicol_01.png"):
            src = corpus / name
            if not src.exists():
                continue
            out = derived / ("stamped-" + src.name)
            sh(["/usr/bin/python3", str(ROOT / "bench/stamp_page.py"), str(src), str(out)])
            pages.append({"name": out.stem, "src": out, "truth": src.with_suffix(".txt"), "group": "derived",
                          "lang": "eng"})
    if args.only != "corpus":
        gen = work / "generated"
        gen.mkdir()
        for i, (name, markup, dpi, tag, body, skew, colour) in enumerate(generated_pages()):
            text = gen / (name + ".markup")
            text.write_text(markup, encoding="utf-8")
            gray = gen / (name + (".gray.png" if colour else ".png"))
            truth = gen / (name + ".txt")
            cmd = [str(synth), "page", "--text", str(text), "--dpi", str(dpi), "--font-size", str(body),
                   "--skew", str(skew), "--seed", str(1600 + i), "--gt", str(truth), "--out", str(gray)]
            if tag is not None:
                cmd += ["--dpi-tag", str(tag)]
            sh(cmd)
            path = gray
            if colour:
                path = gen / (name + ".png")
                sh(["/usr/bin/python3", "-c", COLOURISE, str(gray), str(path), str(dpi)])
                gray.unlink()
            pages.append({"name": name, "src": path, "truth": truth, "group": "generated", "lang": "por"})
    # One lot folder with one file per page (names keep their order), and
    # OCRmyPDF's inputs (alpha flattened).
    lot = work / "lot"
    peer_in = work / "ocrmypdf-in"
    lot.mkdir()
    peer_in.mkdir()
    write_profile(lot)
    for k, p in enumerate(pages):
        p["file"] = f"{k + 1:03d}-{p['name']}{p['src'].suffix}"
        p["path"] = lot / p["file"]
        # A copy: acervo follows no link out of a lot folder (issue 12).
        shutil.copyfile(p["src"], p["path"])
        p["ocrmypdf_path"] = peer_in / p["file"]
        if has_alpha(p["src"]):
            p["ocrmypdf_path"] = peer_in / (Path(p["file"]).stem + ".png")
            sh(["/usr/bin/python3", "-c", FLATTEN, str(p["src"]), str(p["ocrmypdf_path"])])
        else:
            os.symlink(p["src"], p["ocrmypdf_path"])
    return pages, lot


# No page deadline for Acervo: bare Tesseract and OCRmyPDF have none, and on
# a loaded machine the default (120 s wall a page) cuts OCR short, which would
# count as a page read as empty.
NO_DEADLINE = "[ocr]\npage_deadline_s = 0\n"


def write_profile(lot, extra=""):
    (lot / "profile.toml").write_text(extra + NO_DEADLINE, encoding="utf-8")


def has_alpha(path):
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "import sys; from PIL import Image; print(Image.open(sys.argv[1]).mode)", str(path)],
                         capture_output=True, text=True).stdout.strip()
    return out in ("RGBA", "LA", "PA")


# ---------------------------------------------------------------- runs -----

def run_pool(jobs, parallel, env):
    """Runs (key, argv) jobs `parallel` at a time. Returns (wall seconds,
    {key: {wall, cpu, rss_kb, rc}}): per process wall, user+system CPU of
    it and its children, and the largest RSS among them (wait4)."""
    pending = list(jobs)
    running = {}
    results = {}
    t0 = time.monotonic()
    while pending or running:
        while pending and len(running) < parallel:
            key, argv = pending.pop(0)
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            running[proc.pid] = (key, proc, time.monotonic())
        pid, status, ru = os.wait4(-1, 0)
        if pid not in running:
            continue
        key, proc, start = running.pop(pid)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        proc.stderr.close()
        results[key] = {"wall": time.monotonic() - start, "cpu": ru.ru_utime + ru.ru_stime,
                        "rss_kb": ru.ru_maxrss, "rc": proc.returncode, "err": err[-400:]}
    return time.monotonic() - t0, results


def run_acervo(args, lot, out, jobs, env, extra=()):
    argv = [args.acervo or str(Path(args.build) / "pipeline/acervo"), "run", str(lot), "--out", str(out), "--jobs", str(jobs),
            "--lot-id", "bench", "-q"] + list(extra)
    wall, res = run_pool([("acervo", argv)], 1, env)
    r = res["acervo"]
    r["wall"] = wall
    return r


def run_tesseract(pages, out, parallel, env):
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(p["name"], ["tesseract", str(p["path"]), str(out / p["name"]), "-l", "por+eng"]) for p in pages]
    return run_pool(jobs, parallel, env)


def run_ocrmypdf(pages, out, parallel, env, archive=True):
    out.mkdir(parents=True, exist_ok=True)
    opts = ["--deskew", "--clean", "--rotate-pages"] if archive else ["--rotate-pages"]
    jobs = [(p["name"], ["ocrmypdf", "-q"] + opts + ["--output-type", "pdfa-1", "-l", "por+eng", "--jobs", "1",
                                                     "--image-dpi", "300", str(p["ocrmypdf_path"]),
                                                     str(out / (p["name"] + ".pdf"))]) for p in pages]
    return run_pool(jobs, parallel, env)


# ------------------------------------------------------------- measures ----

def pdftotext(pdf, txt, bbox=False):
    args = ["pdftotext", "-enc", "UTF-8"] + (["-bbox"] if bbox else []) + [str(pdf), str(txt)]
    return subprocess.run(args, capture_output=True).returncode == 0


def cers(args, pairs):
    """CER of each (truth, text) file pair, through page_metrics."""
    tool = Path(args.build) / "bench/page_metrics"
    data = "".join(f"{t}\t{h}\n" for t, h in pairs)
    out = subprocess.run([str(tool), "cer"], input=data, capture_output=True, text=True, check=True).stdout
    return [float(x) for x in out.split()]


def acervo_rows(out):
    """Per document (= input file): pdf path, stored text, stage history,
    colour class and the page's skew/flags."""
    db = sqlite3.connect(out / "acervo.db")
    rows = {}
    for doc, pdf, text, stages, cls, flags in db.execute(
            """SELECT d.document_id, d.pdf_path, p.text, p.stages, p.color_class, p.flags
               FROM documents d JOIN pages p ON p.doc_id = d.id ORDER BY d.document_id, p.number"""):
        # The store keeps paths relative to the output folder (issue 12).
        pdf = str(out / pdf) if pdf and not os.path.isabs(pdf) else pdf
        rows[doc] = {"pdf": pdf, "text": text, "stages": json.loads(stages or "[]"), "class": cls,
                     "flags": json.loads(flags or "[]")}
    return rows


def doc_id_of(page, rows=None):
    """The document id acervo gave the page's file (its name without the
    order prefix), or the file's stem."""
    if rows is None or page["name"] in rows:
        return page["name"]
    return Path(page["file"]).stem


def stage_times(stages):
    """(wall ms, cpu ms) summed over the page's stages."""
    wall = sum(s.get("ms", 0) for s in stages)
    cpu = sum(s.get("cpu_ms", s.get("ms", 0)) for s in stages)
    return wall, cpu


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
HOCR_WORD = re.compile(r'class="ocrx_word"[^>]*title="bbox (\d+) (\d+) (\d+) (\d+)[^"]*">([^<]*)<')


def box_alignment(pdf, hocr, work):
    """(words matched with IoU >= 0.5, words) between the PDF's text layer
    (pdftotext -bbox, points) and the OCR boxes (hOCR, pixels)."""
    html = work / "bbox.html"
    if not hocr.exists() or not pdftotext(pdf, html, bbox=True):
        return 0, 0
    pdf_words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(html.read_text("utf-8"))]
    h = hocr.read_text("utf-8")
    # Pixels to points from the PDF page's size over the OCR page's (hOCR's
    # scan_res is whole dpi: a guessed 140.27 dpi written as 140 would shift
    # the boxes at the foot of a page by a line's height).
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html.read_text("utf-8"))
    box = re.search(r'class="ocr_page"[^>]*title="[^"]*bbox 0 0 (\d+) (\d+)', h)
    if not page or not box:
        return 0, 0
    sx, sy = float(page.group(1)) / float(box.group(1)), float(page.group(2)) / float(box.group(2))
    ocr = [(int(a) * sx, int(b) * sy, int(c) * sx, int(d) * sy) for a, b, c, d, t in HOCR_WORD.findall(h) if t.strip()]
    if not ocr:
        return 0, 0
    # Each OCR word is matched with the PDF word of largest overlap (the
    # text layer may order or group them differently).
    matched = 0
    for (x1, y1, x2, y2) in ocr:
        best = 0.0
        for (a1, b1, a2, b2, _) in pdf_words:
            iw = min(x2, a2) - max(x1, a1)
            ih = min(y2, b2) - max(y1, b1)
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            union = (x2 - x1) * (y2 - y1) + (a2 - a1) * (b2 - b1) - inter
            best = max(best, inter / union if union > 0 else 0)
        matched += best >= 0.5
    return matched, len(ocr)


def pdf_pages(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else 0


# -------------------------------------------------------------- report -----

class Verdicts:
    def __init__(self):
        self.rows = []

    def add(self, target, ok, figure):
        self.rows.append((target, ok, figure))

    def print(self):
        print("\n== Verdict per target ==")
        for target, ok, figure in self.rows:
            mark = "MET" if ok is True else "NOT MET" if ok is False else "n/a"
            print(f"  [{mark:7}] {target}: {figure}")


def mean(xs):
    xs = [x for x in xs if x == x]
    return sum(xs) / len(xs) if xs else float("nan")


def word_recall(truth_path, text_path):
    """Share of the truth's words (lowercased, letters and digits) found in
    the text, each occurrence matched at most once; nan when a file is
    missing."""
    try:
        truth = Path(truth_path).read_text(encoding="utf-8", errors="replace")
        text = Path(text_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return float("nan")
    want = Counter(re.findall(r"\w+", truth.lower()))
    got = Counter(re.findall(r"\w+", text.lower()))
    total = sum(want.values())
    return sum((want & got).values()) / total if total else float("nan")


def fmt(x, spec=".3f"):
    return "-" if x is None or x != x else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--corpus", default=os.environ.get("ACERVO_CORPUS_DIR", str(ROOT.parent / "shared/corpus")))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="repeat the timed comparison, rotating the order")
    ap.add_argument("--skip-ocrmypdf", action="store_true")
    ap.add_argument("--skip-memory", action="store_true", help="skip the whole-corpus and A3 memory runs")
    ap.add_argument("--skip-fidelity", action="store_true", help="skip the colour-page fidelity pass")
    ap.add_argument("--colour-peer", help="OCRmyPDF's PDFs of the colour pages (NAME.pdf, --rotate-pages "
                                          "--output-type pdfa-1 --image-dpi 300) from an earlier run: the "
                                          "fidelity pass uses them instead of running OCRmyPDF, and runs "
                                          "with --skip-ocrmypdf too")
    ap.add_argument("--only", choices=["corpus", "generated"])
    ap.add_argument("--baseline", default=str(ROOT / "bench/real_pages_baseline.tsv"),
                    help="per-page CERs of the code before issue 16 (the 'not worse than today' check)")
    ap.add_argument("--write-tsv", help="write this run's per-page figures here")
    ap.add_argument("--keep", help="keep the work folder here (default: a temp folder, removed)")
    ap.add_argument("--acervo", help="the acervo binary to measure (default: BUILD/pipeline/acervo; another "
                                     "build's to write a baseline)")
    args = ap.parse_args()
    build = Path(args.build)
    for tool in ("pipeline/acervo", "samples/generator/acervo-synth", "bench/page_metrics"):
        if not (build / tool).exists():
            sys.exit(f"build first (missing {build / tool}): bash scripts/build.sh")
    if args.only != "generated" and not (Path(args.corpus) / "manifest.tsv").exists():
        sys.exit(f"no corpus at {args.corpus} (--corpus DIR or ACERVO_CORPUS_DIR)")
    if args.keep:
        work = Path(args.keep)
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="acervo-realpages-"))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        report(args, work, env)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(args, work, env):
    t_start = time.monotonic()
    pages, lot = prepare_pages(args, work)
    n = len(pages)
    groups = [g for g in ("corpus", "derived", "generated") if any(p["group"] == g for p in pages)]
    counts = ", ".join(f"{sum(p['group'] == g for p in pages)} {g}" for g in groups)
    print(f"{n} pages ({counts}), "
          f"jobs {args.jobs}, rounds {args.rounds}; load average at start {os.getloadavg()[0]:.1f}")

    # ---- timed runs, rotated per round; each tool's fastest round counts.
    tools = ["acervo", "tesseract"] + ([] if args.skip_ocrmypdf else ["ocrmypdf"])
    best = {}
    for r in range(args.rounds):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for tool in order:
            rdir = work / f"round{r}" / tool
            if tool == "acervo":
                res = run_acervo(args, lot, rdir, args.jobs, env, ["--hocr"])
                entry = {"wall": res["wall"], "cpu": res["cpu"], "rss_kb": res["rss_kb"], "dir": rdir,
                         "rc": res["rc"], "err": res["err"]}
            elif tool == "tesseract":
                wall, per = run_tesseract(pages, rdir, args.jobs, env)
                entry = {"wall": wall, "cpu": sum(x["cpu"] for x in per.values()),
                         "rss_kb": max(x["rss_kb"] for x in per.values()), "per": per, "dir": rdir}
            else:
                wall, per = run_ocrmypdf(pages, rdir, args.jobs, env)
                entry = {"wall": wall, "cpu": sum(x["cpu"] for x in per.values()),
                         "rss_kb": max(x["rss_kb"] for x in per.values()), "per": per, "dir": rdir}
            print(f"  round {r + 1}: {tool:9} {entry['wall']:7.1f} s wall (load {os.getloadavg()[0]:.1f})", flush=True)
            if tool not in best or entry["wall"] < best[tool]["wall"]:
                best[tool] = entry
    a, t = best["acervo"], best["tesseract"]
    o = best.get("ocrmypdf")
    if a["rc"] not in (0, 1):
        print(f"acervo run failed (exit {a['rc']}): {a['err']}")

    # ---- per page figures
    arows = acervo_rows(a["dir"]) if (a["dir"] / "acervo.db").exists() else {}
    txt = work / "text"
    txt.mkdir(exist_ok=True)
    pairs = []
    for p in pages:
        doc = doc_id_of(p, arows)
        row = arows.get(doc)
        p["doc"] = doc
        p["acervo"] = row
        p["a_pdf_txt"] = txt / f"{p['name']}.acervo.txt"
        p["a_store_txt"] = txt / f"{p['name']}.store.txt"
        p["o_pdf_txt"] = txt / f"{p['name']}.ocrmypdf.txt"
        p["t_txt"] = t["dir"] / f"{p['name']}.txt"
        if row:
            pdftotext(row["pdf"], p["a_pdf_txt"])
            p["a_store_txt"].write_text(row["text"], encoding="utf-8")
        if o:
            opdf = o["dir"] / f"{p['name']}.pdf"
            if opdf.exists():
                pdftotext(opdf, p["o_pdf_txt"])
        for k in ("t_txt", "a_pdf_txt", "a_store_txt", "o_pdf_txt"):
            pairs.append((p["truth"], p[k]))
    values = cers(args, pairs)
    cut = [p["name"] for p in pages if p["acervo"] and any(f.endswith("_deadline") for f in p["acervo"]["flags"])]
    if cut:
        print(f"WARNING: a stage deadline cut these pages short, their figures are not comparable: {', '.join(cut)}")
    for i, p in enumerate(pages):
        p["cer_t"], p["cer_apdf"], p["cer_astore"], p["cer_opdf"] = values[4 * i:4 * i + 4]
        p["recall_astore"] = word_recall(p["truth"], p["a_store_txt"])
        p["recall_t"] = word_recall(p["truth"], p["t_txt"])
        row = p["acervo"]
        p["a_wall"], p["a_cpu"] = stage_times(row["stages"]) if row else (float("nan"),) * 2
        p["a_wall"] /= 1000
        p["a_cpu"] /= 1000
        tp = t["per"].get(p["name"], {})
        p["t_wall"], p["t_cpu"] = tp.get("wall", float("nan")), tp.get("cpu", float("nan"))
        op = o["per"].get(p["name"], {}) if o else {}
        p["o_wall"], p["o_cpu"] = op.get("wall", float("nan")), op.get("cpu", float("nan"))
        p["o_rc"] = op.get("rc")
        p["a_bytes"] = os.path.getsize(row["pdf"]) if row and os.path.exists(row["pdf"]) else float("nan")
        opdf = o["dir"] / f"{p['name']}.pdf" if o else None
        p["o_bytes"] = os.path.getsize(opdf) if opdf and opdf.exists() else float("nan")
        hocr = a["dir"] / "bench" / "sidecars" / p["doc"] / "page-0001.hocr"
        p["box_ok"], p["box_n"] = box_alignment(row["pdf"], hocr, work) if row else (0, 0)

    print("\n== Per page (CPU s: acervo = its stages' thread CPU; tesseract, OCRmyPDF = the process, children "
          "included) ==")
    hdr = (f"{'page':34} {'group':9} {'acervo':>7} {'tess':>6} {'a/t':>5} {'ocrmypdf':>8} "
           f"{'CER tess':>8} {'acv pdf':>7} {'acv store':>9} {'ocrm pdf':>8} {'acv KB':>7} {'ocrm KB':>7} "
           f"{'class':5} {'boxes':>6}")
    print(hdr)
    for p in pages:
        cls = p["acervo"]["class"] if p["acervo"] else "-"
        print(f"{p['name'][:34]:34} {p['group']:9} {p['a_cpu']:7.2f} {p['t_cpu']:6.2f} "
              f"{p['a_cpu'] / p['t_cpu'] if p['t_cpu'] else float('nan'):5.2f} {fmt(p['o_cpu'], '8.2f')} "
              f"{fmt(p['cer_t'], '8.3f')} {fmt(p['cer_apdf'], '7.3f')} {fmt(p['cer_astore'], '9.3f')} "
              f"{fmt(p['cer_opdf'], '8.3f')} {fmt(p['a_bytes'] / 1024, '7.1f')} {fmt(p['o_bytes'] / 1024, '7.1f')} "
              f"{cls:5} {p['box_n'] and p['box_ok'] / p['box_n'] or 0:6.1%}")

    print("\n== Whole run, same invocation ==")
    print(f"{'tool':10} {'pages':>5} {'wall s':>8} {'pages/min':>9} {'CPU-s/page':>10} {'peak RSS MB':>11} "
          f"{'KB/page':>8}")
    a_bytes = sum(p["a_bytes"] for p in pages if p["a_bytes"] == p["a_bytes"])
    o_bytes = sum(p["o_bytes"] for p in pages if p["o_bytes"] == p["o_bytes"])
    o_done = sum(1 for p in pages if p["o_bytes"] == p["o_bytes"])
    print(f"{'acervo':10} {n:5} {a['wall']:8.1f} {n * 60 / a['wall']:9.1f} {a['cpu'] / n:10.2f} "
          f"{a['rss_kb'] / 1024:11.0f} {a_bytes / n / 1024:8.1f}")
    print(f"{'tesseract':10} {n:5} {t['wall']:8.1f} {n * 60 / t['wall']:9.1f} {t['cpu'] / n:10.2f} "
          f"{t['rss_kb'] / 1024:11.0f} {'(txt)':>8}")
    if o:
        print(f"{'ocrmypdf':10} {n:5} {o['wall']:8.1f} {n * 60 / o['wall']:9.1f} {o['cpu'] / n:10.2f} "
              f"{o['rss_kb'] / 1024:11.0f} {o_bytes / max(1, o_done) / 1024:8.1f}"
              + (f"  ({n - o_done} pages failed)" if o_done < n else ""))

    print("\n== Per group ==")
    print(f"{'group':10} {'pages':>5} {'acv CPU':>8} {'tess CPU':>8} {'ocrm CPU':>8} {'mean CER tess':>13} "
          f"{'acv store':>9} {'acv pdf':>7} {'ocrm pdf':>8} {'acv KB/p':>8} {'ocrm KB/p':>9} {'boxes':>6}")
    for g in groups:
        ps = [p for p in pages if p["group"] == g]
        bn = sum(p["box_n"] for p in ps)
        print(f"{g:10} {len(ps):5} {sum(p['a_cpu'] for p in ps):8.1f} {sum(p['t_cpu'] for p in ps):8.1f} "
              f"{fmt(sum(p['o_cpu'] for p in ps), '8.1f')} {mean([p['cer_t'] for p in ps]):13.3f} "
              f"{mean([p['cer_astore'] for p in ps]):9.3f} {mean([p['cer_apdf'] for p in ps]):7.3f} "
              f"{fmt(mean([p['cer_opdf'] for p in ps]), '8.3f')} {mean([p['a_bytes'] for p in ps]) / 1024:8.1f} "
              f"{fmt(mean([p['o_bytes'] for p in ps]) / 1024, '9.1f')} "
              f"{(sum(p['box_ok'] for p in ps) / bn if bn else 0):6.1%}")

    v = Verdicts()
    # 1. Speed.
    v.add("wall time acervo <= 1.0x bare tesseract", a["wall"] <= t["wall"],
          f"{a['wall']:.1f} s vs {t['wall']:.1f} s = {a['wall'] / t['wall']:.2f}x "
          f"(CPU {a['cpu']:.0f} vs {t['cpu']:.0f} s = {a['cpu'] / t['cpu']:.2f}x)")
    if o:
        ratio = (n / a["wall"]) / (o_done / o["wall"]) if o_done else float("nan")
        v.add("pages/min acervo >= 5x OCRmyPDF", ratio >= 5,
              f"{n * 60 / a['wall']:.1f} vs {o_done * 60 / o['wall']:.1f} pages/min = {ratio:.2f}x "
              f"(CPU per page {a['cpu'] / n:.2f} vs {o['cpu'] / max(1, o_done):.2f} s = "
              f"{(o['cpu'] / max(1, o_done)) / (a['cpu'] / n):.2f}x)")
    for g in groups:
        ps = [p for p in pages if p["group"] == g and p["t_cpu"] == p["t_cpu"]]
        worst = max(ps, key=lambda p: p["a_cpu"] / p["t_cpu"])
        over = [p["name"] for p in ps if p["a_cpu"] > 2 * p["t_cpu"]]
        v.add(f"no {g} page over 2x tesseract's CPU time on it", not over,
              f"worst {worst['name']} {worst['a_cpu']:.2f} vs {worst['t_cpu']:.2f} s = "
              f"{worst['a_cpu'] / worst['t_cpu']:.2f}x" + (f"; over: {', '.join(over)}" if over else ""))
    # 2. Accuracy against the code before this issue.
    base = read_baseline(args.baseline)
    for g in groups:
        ps = [p for p in pages if p["group"] == g and p["name"] in base]
        if not ps:
            v.add(f"{g}: CER not worse than before", None, f"no baseline in {args.baseline}")
            continue
        now, before = mean([p["cer_astore"] for p in ps]), mean([base[p["name"]] for p in ps])
        worse = [(p["name"], p["cer_astore"] - base[p["name"]]) for p in ps
                 if p["cer_astore"] - base[p["name"]] > 0.005]
        v.add(f"{g}: mean CER not worse than before, no page worse by > 0.5 points",
              now <= before + 1e-9 and not worse,
              f"mean {now:.4f} vs {before:.4f} before over {len(ps)} pages"
              + (f"; worse: {', '.join(f'{nm} +{d * 100:.2f}' for nm, d in worse)}" if worse else ""))
    # 4. Reading order and box alignment.
    for g in groups:
        ps = [p for p in pages if p["group"] == g and p["acervo"]]
        gaps = [(p["name"], p["cer_apdf"] - p["cer_astore"]) for p in ps]
        if not gaps:
            v.add(f"{g}: acervo produced PDFs", False, "none")
            continue
        worst = max(gaps, key=lambda x: abs(x[1]))
        bad = [nm for nm, d in gaps if abs(d) > 0.02]
        v.add(f"{g}: pdftotext CER within 0.02 of the stored OCR text's CER on every page", not bad,
              f"worst {worst[0]} {worst[1]:+.3f}" + (f"; over: {', '.join(bad)}" if bad else ""))
        bn = sum(p["box_n"] for p in ps)
        share = sum(p["box_ok"] for p in ps) / bn if bn else 0
        v.add(f"{g}: word boxes IoU >= 0.5 for >= 98% of words", share >= 0.98, f"{share:.1%} of {bn} words")
    # 3. Memory of the timed run.
    v.add(f"peak RSS at --jobs {args.jobs} over the bench pages <= 500 MB", a["rss_kb"] / 1024 <= 500,
          f"{a['rss_kb'] / 1024:.0f} MB")
    # 5. Size.
    for g in groups:
        ps = [p for p in pages if p["group"] == g]
        mkb = mean([p["a_bytes"] for p in ps]) / 1024
        v.add(f"{g}: mean PDF size <= 200 KB per page", mkb <= 200, f"{mkb:.1f} KB/page")
    if o:
        for g in groups:
            ps = [p for p in pages if p["group"] == g and p["acervo"] and p["acervo"]["class"] == "color"]
            if not ps:
                continue
            bigger = [f"{p['name']} {p['a_bytes'] / 1024:.0f} vs {p['o_bytes'] / 1024:.0f} KB" for p in ps
                      if p["a_bytes"] > p["o_bytes"]]
            v.add(f"{g}: every colour page <= OCRmyPDF's bytes", not bigger,
                  f"{len(ps)} colour pages, acervo {mean([p['a_bytes'] for p in ps]) / 1024:.0f} KB vs OCRmyPDF "
                  f"{mean([p['o_bytes'] for p in ps]) / 1024:.0f} KB mean" + (f"; larger: {'; '.join(bigger)}" if bigger else ""))

    if not args.skip_fidelity and (o or args.colour_peer):
        fidelity_pass(args, work, pages, env, v)
    if not args.skip_memory:
        memory_runs(args, work, env, v)

    if args.write_tsv:
        with open(args.write_tsv, "w", encoding="utf-8") as f:
            f.write("page\tgroup\tcer_store\tcer_pdf\tcer_tesseract\tcer_ocrmypdf\tacervo_cpu_s\ttesseract_cpu_s\t"
                    "ocrmypdf_cpu_s\tacervo_bytes\tocrmypdf_bytes\tclass\trecall_store\trecall_tesseract\n")
            for p in pages:
                f.write(f"{p['name']}\t{p['group']}\t{p['cer_astore']:.5f}\t{p['cer_apdf']:.5f}\t{p['cer_t']:.5f}\t"
                        f"{p['cer_opdf']:.5f}\t{p['a_cpu']:.3f}\t{p['t_cpu']:.3f}\t{p['o_cpu']:.3f}\t"
                        f"{p['a_bytes']:.0f}\t{p['o_bytes']:.0f}\t{p['acervo']['class'] if p['acervo'] else '-'}\t"
                        f"{p['recall_astore']:.4f}\t{p['recall_t']:.4f}\n")
    v.print()
    print(f"\n(bench took {time.monotonic() - t_start:.0f} s; load average now {os.getloadavg()[0]:.1f})")


def read_baseline(path):
    base = {}
    if path and os.path.exists(path):
        lines = [l for l in Path(path).read_text(encoding="utf-8").splitlines() if not l.startswith("#")]
        cols = lines[0].split("\t")
        for line in lines[1:]:
            f = dict(zip(cols, line.split("\t")))
            base[f["page"]] = float(f["cer_store"])
    return base


def fidelity_pass(args, work, pages, env, v):
    """Colour pages: size and fidelity against the master, both tools with
    the geometry left alone (no deskew or border crop for Acervo, no deskew
    for OCRmyPDF), so that every rendered pixel lines up with the master's.
    The encoders are the same as in the timed run. Acervo runs twice: with
    its cleanup off as well (OCRmyPDF without --clean-final leaves its image
    as scanned: encoder against encoder), and with the default cleanup (as
    delivered: colour pages keep their paper, [image] color_paper = "scan",
    while the cleaned page serves OCR and the text masks). SSIM is printed
    as pdftoppm draws the page (the verdict's) and as Ghostscript draws it
    onto the master's pixels 1:1 (SSIMgs: the encoding's own fidelity,
    docs/benchmarks.md, session 11)."""
    colour = [p for p in pages if p["acervo"] and p["acervo"]["class"] == "color"]
    if not colour:
        return
    print(f"\n== Colour pages: size and fidelity against the master ({len(colour)} pages, geometry off) ==")
    peer = Path(args.colour_peer) if args.colour_peer else work / "fid-ocrmypdf"
    if not args.colour_peer:
        run_ocrmypdf(colour, peer, args.jobs, env, archive=False)
    tool = Path(args.build) / "bench/page_metrics"

    def fidelity(p, png):
        m = subprocess.run([str(tool), "fidelity", str(p["src"]), str(png)], capture_output=True,
                           text=True).stdout
        return dict(x.split("=") for x in m.split())

    gs = shutil.which("gs")

    def measure(p, pdf):
        if not pdf or not os.path.exists(pdf):
            return (float("nan"),) * 5
        png = work / "fid-render"
        dims = subprocess.run(["/usr/bin/python3", "-c",
                               "import sys; from PIL import Image; print(*Image.open(sys.argv[1]).size)",
                               str(p["src"])], capture_output=True, text=True).stdout.split()
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-x", dims[0], "-scale-to-y", dims[1],
                        str(pdf), str(png)], check=True)
        kv = fidelity(p, str(png) + ".png")
        # The same page drawn by Ghostscript onto exactly the master's pixels.
        # pdftoppm draws an image whose edges fall on whole device pixels one
        # pixel wider and taller than it is, interpolated (Splash rounds the
        # far edge down and adds one): the master itself, stored losslessly,
        # renders at SSIM 0.971 on stamped-filing_01, as much as the encoders
        # differ by. Ghostscript maps the image 1:1 (that master: 1.000), so
        # its SSIM is the encoding's alone.
        ssim_gs = float("nan")
        if gs:
            gs_png = work / "fid-render-gs.png"
            subprocess.run([gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", f"-g{dims[0]}x{dims[1]}",
                            "-dPDFFitPage", "-o", str(gs_png), str(pdf)], check=True)
            ssim_gs = float(fidelity(p, gs_png).get("ssim", "nan"))
        return (os.path.getsize(pdf), float(kv.get("ssim", "nan")), float(kv.get("psnr", "nan")),
                float(kv.get("psnr_rgb", "nan")), ssim_gs)

    for label, extra in (("cleanup off (encoder against encoder)", "clean = false\n"),
                         ("as delivered (default cleanup, colour paper kept)", "")):
        tag = "fid-acervo-clean" if not extra else "fid-acervo"
        lot = work / (tag + "-lot")
        lot.mkdir()
        for p in colour:
            shutil.copyfile(p["src"], lot / p["file"])
        write_profile(lot, "[image]\ndeskew = false\nborder = false\n" + extra)
        run_acervo(args, lot, work / tag, args.jobs, env)
        arows = acervo_rows(work / tag) if (work / tag / "acervo.db").exists() else {}
        print(f"-- Acervo {label}")
        print(f"{'page':30} {'acervo KB':>9} {'SSIM':>6} {'PSNR':>5} {'RGB':>5} {'SSIMgs':>6} "
              f"{'ocrmypdf KB':>11} {'SSIM':>6} {'PSNR':>5} {'RGB':>5} {'SSIMgs':>6}")
        fails = []
        for p in colour:
            row = arows.get(doc_id_of(p, arows))
            ab, assim, apsnr, argb, agssim = measure(p, row["pdf"] if row else None)
            ob, ossim, opsnr, orgb, ogssim = measure(p, peer / f"{p['name']}.pdf")
            print(f"{p['name'][:30]:30} {ab / 1024:9.1f} {assim:6.3f} {apsnr:5.1f} {argb:5.1f} {agssim:6.3f} "
                  f"{ob / 1024:11.1f} {ossim:6.3f} {opsnr:5.1f} {orgb:5.1f} {ogssim:6.3f}")
            if not (ab <= ob and assim >= ossim - 1e-3):
                fails.append(p["name"])
        v.add(f"colour pages: <= OCRmyPDF's bytes at equal or better SSIM, geometry off, {label}", not fails,
              f"{len(colour) - len(fails)}/{len(colour)} pages" + (f"; not: {', '.join(fails)}" if fails else ""))


def memory_runs(args, work, env, v):
    """Peak RSS of acervo run over every image of the corpus at --jobs 2
    and 1, and of an A3 600-dpi colour page at --jobs 2."""
    print("\n== Memory ==")
    corpus = Path(args.corpus)
    if args.only != "generated" and corpus.exists():
        lot = work / "mem-lot"
        lot.mkdir()
        for f in sorted(corpus.rglob("*")):
            if f.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff") and "golden" not in f.name:
                shutil.copyfile(f, lot / f"{f.parent.name}-{f.name}")
        count = len(list(lot.iterdir()))
        write_profile(lot)
        for jobs, limit in ((2, 500), (1, 300)):
            r = run_acervo(args, lot, work / f"mem-out-{jobs}", jobs, env)
            print(f"  whole corpus ({count} image files), --jobs {jobs}: {r['wall']:.1f} s, peak RSS "
                  f"{r['rss_kb'] / 1024:.0f} MB (exit {r['rc']})")
            v.add(f"peak RSS over the whole corpus at --jobs {jobs} <= {limit} MB", r["rss_kb"] / 1024 <= limit,
                  f"{r['rss_kb'] / 1024:.0f} MB")
            shutil.rmtree(work / f"mem-out-{jobs}", ignore_errors=True)
    # A3 at 600 dpi, colour: 7016 x 9921 pixels.
    a3 = work / "a3"
    a3.mkdir()
    synth = Path(args.build) / "samples/generator/acervo-synth"
    (a3 / "a3.markup").write_text("# PLANTA DE LOTEAMENTO — MEMORIAL DESCRITIVO\n\n%columns 2\n" + para(0, 8) + "\n",
                                  encoding="utf-8")
    lot = a3 / "lot"
    lot.mkdir()
    write_profile(lot)
    sh([str(synth), "page", "--text", str(a3 / "a3.markup"), "--dpi", "600", "--width-mm", "297", "--height-mm",
        "420", "--font-size", "12", "--skew", "0.6", "--out", str(a3 / "gray.png")])
    sh(["/usr/bin/python3", "-c", COLOURISE, str(a3 / "gray.png"), str(lot / "a3-600dpi.png"), "600"])
    (a3 / "gray.png").unlink()
    r = run_acervo(args, lot, a3 / "out", 2, env)
    print(f"  A3 600-dpi colour page (7016x9921), --jobs 2: {r['wall']:.1f} s, peak RSS {r['rss_kb'] / 1024:.0f} MB "
          f"(exit {r['rc']})")
    v.add("A3 600-dpi colour page at --jobs 2 within 1.5 GB", r["rss_kb"] / 1024 <= 1536 and r["rc"] == 0,
          f"{r['rss_kb'] / 1024:.0f} MB")


if __name__ == "__main__":
    main()
