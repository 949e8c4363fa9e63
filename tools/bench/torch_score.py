#!/usr/bin/python3
"""The PyTorch + PIL scoring loop make bench-score compares charisbench with, written the
way DreamBench++-style evaluation scripts are: for each batch of samples, open the
reference and generated images with PIL, preprocess them per encoder (bicubic resize,
center crop, normalise), run the encoders, and take DINO (identity CLS cosine), CLIP-I
(image cosine) and CLIP-T (text-image cosine). The encoders are the random-weight,
real-shaped ones of tools/encoders/real_shaped.py, built with the same seed.

    /usr/bin/python3 tools/bench/torch_score.py --manifest M --ids IDS.jsonl --batch 16

IDS.jsonl holds each sample's 77 CLIP input ids, one JSON array a line (charisbench tokenize); tokenizing is
outside the timed loop. Prints samples_per_s=X and the mean of each metric.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoders"))
from real_shaped import models  # noqa: E402
from tiny import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD  # noqa: E402


def pixels(im, resize, crop, mean, std, half_even):
    """A Hugging Face image processor's input: short side to resize (bicubic), center crop."""
    w, h = im.size
    if w <= h:
        size = (resize, int(resize * h / w))
    else:
        size = (int(resize * w / h), resize)
    im = im.resize(size, Image.BICUBIC)
    w, h = im.size
    if half_even:
        top, left = int(round((h - crop) / 2)), int(round((w - crop) / 2))
    else:
        top, left = (h - crop) // 2, (w - crop) // 2
    a = np.asarray(im.crop((left, top, left + crop, top + crop)), dtype=np.float32) / 255
    a = (a - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    base = os.path.dirname(os.path.abspath(args.manifest))
    with open(args.manifest) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    with open(args.ids) as f:
        ids = [json.loads(line) for line in f if line.strip()]
    if len(ids) != len(samples):
        sys.exit(f"torch_score: {len(ids)} id rows for {len(samples)} samples")
    ms = models()
    start = time.perf_counter()
    dino, clip_i, clip_t = [], [], []
    cos = torch.nn.functional.cosine_similarity
    with torch.no_grad():
        for lo in range(0, len(samples), args.batch):
            chunk = samples[lo:lo + args.batch]
            refs, gens = [], []
            for s in chunk:
                refs.append(Image.open(os.path.join(base, s["reference"])).convert("RGB"))
                gens.append(Image.open(os.path.join(base, s["generated"])).convert("RGB"))
            ident = lambda ims: torch.stack([pixels(i, 256, 224, IMAGENET_MEAN, IMAGENET_STD, False) for i in ims])
            clip = lambda ims: torch.stack([pixels(i, 224, 224, CLIP_MEAN, CLIP_STD, True) for i in ims])
            r_cls = ms["identity"](ident(refs))[:, 0]
            g_cls = ms["identity"](ident(gens))[:, 0]
            r_img = ms["clip_image"](clip(refs))
            g_img = ms["clip_image"](clip(gens))
            txt = ms["clip_text"](torch.tensor(ids[lo:lo + args.batch], dtype=torch.long))
            dino += cos(r_cls, g_cls).tolist()
            clip_i += cos(r_img, g_img).tolist()
            clip_t += cos(txt, g_img).tolist()
    elapsed = time.perf_counter() - start
    print(f"samples_per_s={len(samples) / elapsed:.3f}")
    print(f"dino={np.mean(dino):.4f} clip_i={np.mean(clip_i):.4f} clip_t={np.mean(clip_t):.4f}")


if __name__ == "__main__":
    main()
