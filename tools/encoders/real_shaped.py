#!/usr/bin/python3
"""Writes randomly initialised ONNX encoders of the real models' shapes, and their model
manifest, for speed and memory benchmarks (make bench-score). Not for scoring: the weights
are random (seeded), the sizes real:

  identity.onnx   DINOv2 ViT-S/14 at 224 px, all tokens: [N,3,224,224] -> [N,257,384]
  clip_image.onnx CLIP ViT-B/32 image tower + projection:  [N,3,224,224] -> [N,512]
  clip_text.onnx  CLIP text tower (12 x 512, 49,408 ids) + projection: [N,77] -> [N,512]

About 690 MB of ONNX. The same classes, built with the same seed, are the PyTorch side of
the benchmark (tools/bench/torch_score.py). Needs Debian's python3-torch (1.13):

    /usr/bin/python3 tools/encoders/real_shaped.py --out out/bench-score/models [--roles identity,clip_image]
"""
import argparse
import os

import torch

from tiny import (CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, ClipImage, ClipText, Identity, image_pre, sha256,
                  yaml_lines)
from vit import export


def models():
    """The three encoders, built in a fixed order from seed 0: the same weights every time."""
    torch.manual_seed(0)
    return {"identity": Identity(dim=384, depth=12, heads=6, registers=0).eval(),
            "clip_image": ClipImage(dim=768, depth=12, heads=12, embed=512).eval(),
            "clip_text": ClipText(buckets=49408, dim=512, depth=12, heads=8, embed=512).eval()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--roles", default="identity,clip_image,clip_text",
                    help="the encoders to write, comma-separated (the GPU check needs only the image ones)")
    args = ap.parse_args()
    roles = args.roles.split(",")
    os.makedirs(args.out, exist_ok=True)
    ms = models()
    img = torch.zeros(2, 3, 224, 224)
    specs = [
        ("identity", (img,), ["pixel_values"], ["last_hidden_state"],
         {"preprocess": image_pre(256, 224, IMAGENET_MEAN, IMAGENET_STD),
          "output": {"name": "last_hidden_state", "cls_token": True}}),
        ("clip_image", (img,), ["pixel_values"], ["image_embeds"],
         {"preprocess": dict(image_pre(224, 224, CLIP_MEAN, CLIP_STD), crop_rounding="half_even"),
          "output": {"name": "image_embeds"}}),
        ("clip_text", (torch.zeros(2, 77, dtype=torch.long),), ["input_ids"], ["text_embeds"],
         {"text": {"vocab": "builtin", "context_length": 77}, "output": {"name": "text_embeds"}}),
    ]
    lines = ["# Random-weight encoders of the real shapes (tools/encoders/real_shaped.py), for benchmarks only.",
             "version: 1", "encoders:"]
    for role, example, inputs, outputs, extra in specs:
        if role not in roles:
            continue
        path = os.path.join(args.out, role + ".onnx")
        export(ms[role], example, path, inputs, outputs)
        lines += [f"  - name: shaped-{role}", f"    role: {role}", f"    path: {role}.onnx",
                  f"    sha256: {sha256(path)}"]
        lines += yaml_lines(extra, 4)
    with open(os.path.join(args.out, "models.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
