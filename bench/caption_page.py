#!/usr/bin/python3
"""A generated page with a court-style caption: lines of one cell between
rows read across a wide gap ("Petitioner,      Case No. 24-CV-00817"),
double-spaced, under a centred heading and above three paragraphs. The
ground truth follows the rows, as the OCR engine reads them (issue 16: the
PDF text layer's reading order, filing_01's caption).

usage: bench/caption_page.py OUT_STEM DPI FONT VARIANT
writes OUT_STEM.png and OUT_STEM.txt; FONT is a DejaVu face (DejaVuSerif,
DejaVuSans), VARIANT 0-2 picks the caption's lines."""
import sys
import textwrap

from PIL import Image, ImageDraw, ImageFont

out, dpi, font_name, variant = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
W, H = int(8.5 * dpi), int(11 * dpi)
pt = dpi / 72.0
font = ImageFont.truetype(f"/usr/share/fonts/truetype/dejavu/{font_name}.ttf", int(11.5 * pt))
im = Image.new("L", (W, H), 255)
d = ImageDraw.Draw(im)
gt = []
y = int(1.0 * dpi)
left, right, pitch = int(1.0 * dpi), int(4.4 * dpi), int(16 * pt)


def line(text, x, rtext=None):
    global y
    d.text((x, y), text, font=font, fill=0)
    if rtext:
        d.text((right, y), rtext, font=font, fill=0)
    gt.append(text + (" " + rtext if rtext else ""))
    y += pitch


def centred(text):
    global y
    d.text(((W - d.textlength(text, font=font)) / 2, y), text, font=font, fill=0)
    gt.append(text)
    y += pitch


CAPTIONS = [
    [("JOHN ALBERT MERRIWEATHER,", None), ("Petitioner,", "Case No. 24-CV-00817"), ("v.", None),
     ("NORTH BAY LOGISTICS, INC.,", "PETITION FOR REVIEW"), ("Respondent.", None)],
    [("UNITED FARM SUPPLY COMPANY,", None), ("a Delaware corporation,", None),
     ("Plaintiff,", "Civil Action No. 3:21-0442"), ("against", None),
     ("HARLAN COUNTY BOARD OF EDUCATION,", "COMPLAINT FOR DAMAGES"), ("Defendant.", None)],
    [("MEMORANDUM OF AGREEMENT", None), ("Between the parties,", "Dated 14 March 2024"),
     ("and witnessed below,", None), ("Signed at Sausalito,", "Reference MA-2291"), ("by both parties.", None)],
]
INDENT = {"Petitioner,": 1.2, "Plaintiff,": 1.2, "Respondent.": 1.2, "Defendant.": 1.2, "v.": 0.6, "against": 0.6}

centred("IN THE SUPERIOR COURT OF THE COUNTY OF MARIN")
centred("STATE OF CALIFORNIA")
y += 2 * pitch
rows = CAPTIONS[variant]
for i, (l, r) in enumerate(rows):
    if i > 0 and (r or rows[i - 1][1]):
        y += pitch  # rows read across double-spaced, as in a caption
    line(l, left + int(INDENT.get(l, 0) * dpi), r)
y += 3 * pitch
para = ("The petitioner asks the court to review the decision of the board, which denied the application without "
        "a hearing and without stating the reasons on which it relied, contrary to the rules that govern such "
        "proceedings and to the notice the petitioner received before the meeting of the board in January.")
for _ in range(3):
    for t in textwrap.wrap(para, 78):
        line(t, left)
    y += pitch // 2
im.save(out + ".png", dpi=(dpi, dpi))
with open(out + ".txt", "w") as f:
    f.write("\n".join(gt) + "\n")
