#!/usr/bin/python3
"""The CPU stage's cost per image in Pillow, on one thread: the peer of charisbench's
BenchmarkPrepareImages for make bench-score's limit line. For every distinct image of a
manifest: decode, EXIF orientation, RGB, and the three resizes scoring makes (the identity
encoder's short side 256 and center crop 224, CLIP's short side 224 and crop 224, TD's
gray 128x128, all bicubic). Decoding and resizing are in the timed loop, reading the files
is not. Prints ms_per_image=X.

    /usr/bin/python3 tools/bench/pil_prepare.py --manifest M [--rounds 3]
"""
import argparse
import io
import json
import os
import time

from PIL import Image, ImageOps


def short_side(im, side, crop):
    w, h = im.size
    size = (side, int(side * h / w)) if w <= h else (int(side * w / h), side)
    im = im.resize(size, Image.BICUBIC)
    w, h = im.size
    left, top = (w - crop) // 2, (h - crop) // 2
    return im.crop((left, top, left + crop, top + crop))


def prepare(data):
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    short_side(im, 256, 224).load()
    short_side(im, 224, 224).load()
    im.convert("L").resize((128, 128), Image.BICUBIC).load()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = os.path.dirname(os.path.abspath(args.manifest))
    paths = []
    with open(args.manifest) as f:
        for line in f:
            if line.strip():
                s = json.loads(line)
                for p in (s["reference"], s["generated"]):
                    p = os.path.join(base, p)
                    if p not in paths:
                        paths.append(p)
    files = []
    for p in paths:
        with open(p, "rb") as f:
            files.append(f.read())
    best = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        for data in files:
            prepare(data)
        best = min(best, (time.perf_counter() - start) / len(files))
    print(f"ms_per_image={best * 1000:.2f} images={len(files)}")


if __name__ == "__main__":
    main()
