#!/usr/bin/python3
"""Writes small, randomly initialised ONNX encoders with the signatures of real exports,
and their model manifest, to testdata/models/ (or the folder given with --out).

These are for tests of the encoder runtime, not for scoring: their weights are random
(seeded). Signatures, as the Hugging Face exports of tools/encoders/export_hf.py give them:

  identity.onnx   pixel_values [N,3,224,224] float32 -> last_hidden_state [N,1+R+256,48]
                  (DINOv2-like ViT, patch 14, CLS + R=2 register tokens + 16x16 patches)
  clip_image.onnx pixel_values [N,3,224,224] float32 -> image_embeds [N,32]
  clip_text.onnx  input_ids [N,77] int64             -> text_embeds [N,32]
  segmenter.onnx  pixel_values [N,3,64,64] float32   -> logits [N,1,64,64]
  iqa.onnx        pixel_values [N,3,224,224] float32 -> score [N]

Needs Debian's python3-torch (1.13). Deterministic: same torch build, same bytes.
Run from the repository root:

    /usr/bin/python3 tools/encoders/tiny.py [--out testdata/models]
"""
import argparse
import hashlib
import os

import torch
from torch import nn

from vit import TextTransformer, ViT, export

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class Identity(nn.Module):
    """DINOv2-like: all tokens of a ViT (tiny by default; tools/encoders/real_shaped.py
    builds the real sizes)."""

    def __init__(self, dim=48, depth=2, heads=4, registers=2):
        super().__init__()
        self.vit = ViT(image=224, patch=14, dim=dim, depth=depth, heads=heads, registers=registers)

    def forward(self, pixel_values):
        return self.vit(pixel_values)  # [N, 1+R+256, dim]


class ClipImage(nn.Module):
    def __init__(self, dim=48, depth=2, heads=4, embed=32):
        super().__init__()
        self.vit = ViT(image=224, patch=32, dim=dim, depth=depth, heads=heads)
        self.proj = nn.Linear(dim, embed, bias=False)

    def forward(self, pixel_values):
        return self.proj(self.vit(pixel_values)[:, 0])  # [N, embed]


class ClipText(nn.Module):
    def __init__(self, buckets=2048, dim=48, depth=2, heads=4, embed=32):
        super().__init__()
        self.text = TextTransformer(buckets=buckets, context=77, dim=dim, depth=depth, heads=heads)
        self.proj = nn.Linear(dim, embed, bias=False)

    def forward(self, input_ids):
        return self.proj(self.text(input_ids))  # [N, embed]


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))

    def forward(self, pixel_values):
        return self.net(pixel_values)  # [N, 1, 64, 64]


class IQA(nn.Module):
    def __init__(self):
        super().__init__()
        self.vit = ViT(image=224, patch=32, dim=32, depth=1, heads=2)
        self.head = nn.Linear(32, 1)

    def forward(self, pixel_values):
        return torch.sigmoid(self.head(self.vit(pixel_values)[:, 0]))[:, 0]  # [N]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def image_pre(resize, crop, mean, std, mode="short_side"):
    return {"resize": resize, "resize_mode": mode, "crop": crop, "crop_rounding": "floor",
            "interpolation": "bicubic", "rescale": 1 / 255, "mean": mean, "std": std}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="testdata/models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    img = torch.zeros(2, 3, 224, 224)
    specs = [
        ("identity", Identity(), (img,), ["pixel_values"], ["last_hidden_state"],
         {"preprocess": image_pre(256, 224, IMAGENET_MEAN, IMAGENET_STD),
          "output": {"name": "last_hidden_state", "cls_token": True, "register_tokens": 2}}),
        ("clip_image", ClipImage(), (img,), ["pixel_values"], ["image_embeds"],
         {"preprocess": dict(image_pre(224, 224, CLIP_MEAN, CLIP_STD), crop_rounding="half_even"),
          "output": {"name": "image_embeds"}}),
        ("clip_text", ClipText(), (torch.zeros(2, 77, dtype=torch.long),), ["input_ids"], ["text_embeds"],
         {"text": {"vocab": "builtin", "context_length": 77}, "output": {"name": "text_embeds"}}),
        ("segmenter", Segmenter(), (torch.zeros(2, 3, 64, 64),), ["pixel_values"], ["logits"],
         {"preprocess": image_pre(64, 0, IMAGENET_MEAN, IMAGENET_STD, mode="square"),
          "output": {"name": "logits"}}),
        ("iqa", IQA(), (img,), ["pixel_values"], ["score"],
         {"preprocess": image_pre(224, 224, CLIP_MEAN, CLIP_STD), "output": {"name": "score"}}),
    ]
    lines = ["# Tiny random-weight encoders for tests (tools/encoders/tiny.py). Not for scoring.",
             "version: 1", "encoders:"]
    for role, model, example, inputs, outputs, extra in specs:
        path = os.path.join(args.out, role + ".onnx")
        export(model.eval(), example, path, inputs, outputs)
        lines += [f"  - name: tiny-{role}", f"    role: {role}", f"    path: {role}.onnx",
                  f"    sha256: {sha256(path)}"]
        lines += yaml_lines(extra, 4)
    with open(os.path.join(args.out, "models.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    write_reference(args.out, {s[0]: s[1] for s in specs})


# The reference image and prompts whose PyTorch outputs the Go runtime must reproduce.
REFERENCE_IMAGE = "charis/preprocess/testdata/smooth_640x480.png"
GOLDEN_TOKENS = "../shared/data/clip/golden_tokens.jsonl"  # texts with openai/CLIP's ids
REFERENCE_PROMPTS = 2  # the first golden texts


def hf_pixels(path, resize, crop, mean, std, rounding):
    """What a Hugging Face image processor feeds the model: PIL bicubic short-side resize,
    center crop, /255, normalise; [1, 3, crop, crop] float32."""
    import numpy as np
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    size = (resize, int(resize * long / short)) if w <= h else (int(resize * long / short), resize)
    im = im.resize(size, Image.BICUBIC)
    w, h = im.size
    if rounding == "floor":
        top, left = (h - crop) // 2, (w - crop) // 2
    else:
        top, left = int(round((h - crop) / 2)), int(round((w - crop) / 2))
    a = np.asarray(im.crop((left, top, left + crop, top + crop))).astype(np.float64) / 255
    a = (a - np.array(mean)) / np.array(std)
    return torch.from_numpy(a.transpose(2, 0, 1)[None].astype(np.float32))


def write_reference(out, models):
    """reference.json: outputs of the PyTorch models on REFERENCE_IMAGE, preprocessed as
    HF processors do, and on the first golden prompts, tokenized by openai/CLIP."""
    import json
    with open(GOLDEN_TOKENS) as f:
        golden = [json.loads(next(f)) for _ in range(REFERENCE_PROMPTS)]
    prompts = [g["text"] for g in golden]
    with torch.no_grad():
        ident = models["identity"](hf_pixels(REFERENCE_IMAGE, 256, 224, IMAGENET_MEAN, IMAGENET_STD, "floor"))
        img = models["clip_image"](hf_pixels(REFERENCE_IMAGE, 224, 224, CLIP_MEAN, CLIP_STD, "half_even"))
        ids = torch.tensor([g["input_ids_77"] for g in golden])
        txt = models["clip_text"](ids)
    ref = {"image": REFERENCE_IMAGE, "prompts": prompts,
           "identity_cls": ident[0, 0].tolist(), "identity_last_patch": ident[0, -1].tolist(),
           "clip_image": img[0].tolist(), "clip_text": txt.tolist()}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def yaml_lines(d, indent):
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.append(" " * indent + f"{k}:")
            out += yaml_lines(v, indent + 2)
        elif isinstance(v, list):
            out.append(" " * indent + f"{k}: [{', '.join(repr(x) for x in v)}]")
        elif isinstance(v, bool):
            out.append(" " * indent + f"{k}: {'true' if v else 'false'}")
        else:
            out.append(" " * indent + f"{k}: {v!r}".replace("'", ""))
    return out


if __name__ == "__main__":
    main()
