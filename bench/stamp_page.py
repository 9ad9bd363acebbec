#!/usr/bin/python3
"""A real scan with a red rubber stamp (ring and bar) and a blue pen stroke
drawn on it: the colour class, measured on real paper texture (benches of
issues 4 and 16).

usage: bench/stamp_page.py SRC DST [--default-dpi N]
Alpha is flattened on white; DST keeps SRC's resolution, or is given N dpi
when SRC has none (without --default-dpi it then has none either)."""
import argparse

from PIL import Image, ImageDraw

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("--default-dpi", type=float)
args = ap.parse_args()
im = Image.open(args.src)
dpi = im.info.get("dpi") or ((args.default_dpi, args.default_dpi) if args.default_dpi else None)
page = Image.new("RGB", im.size, (255, 255, 255))
rgba = im.convert("RGBA")
page.paste(rgba, mask=rgba.split()[3])
d = ImageDraw.Draw(page)
w, h = page.size
cx, cy, r = int(w * 0.75), int(h * 0.85), int(w * 0.08)
for k in range(6):
    d.ellipse([cx - r + k, cy - r + k, cx + r - k, cy + r - k], outline=(200, 30, 40))
d.rectangle([cx - r, cy - r // 6, cx + r, cy + r // 6], outline=(200, 30, 40), width=5)
d.line([(int(w * 0.2 + i * 6), int(h * 0.9 + (20 if (i // 5) % 2 else -20))) for i in range(60)],
       fill=(30, 50, 170), width=4)
page.save(args.dst, **({"dpi": dpi} if dpi else {}))
