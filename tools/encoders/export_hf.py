#!/usr/bin/env python3
"""Export real encoders from Hugging Face to ONNX, with a charisbench model manifest.

Not run in CI (it downloads weights). Needs: torch, transformers (>= 4.40), and internet
access to the Hugging Face hub. Writes OUT/identity.onnx, OUT/clip_image.onnx,
OUT/clip_text.onnx and OUT/models.yaml; check the result with

    charisbench models verify OUT/models.yaml

Usage:
    python3 tools/encoders/export_hf.py --out models/ \\
        --clip openai/clip-vit-base-patch32 --dino facebook/dinov2-base

Preprocessing recorded in the manifest (spec: ../shared/spec/charis-v1.md):
  CLIP (openai/clip-vit-*): shortest side 224 (336 for *-336), PIL bicubic, center crop
    224, crop offsets rounded half-even as torchvision (openai/CLIP) does — set
    --clip-rounding floor to follow HF's CLIPImageProcessor instead — /255, CLIP mean/std.
  DINOv2 (facebook/dinov2-*): shortest edge 256, PIL bicubic, center crop 224 (floor,
    as HF's BitImageProcessor), /255, ImageNet mean/std; CLS + patch tokens of
    last_hidden_state, 4 register tokens for the *-reg checkpoints.
  DINO v1 (facebook/dino-vit*): resize 256 bicubic, crop 224, ImageNet mean/std, CLS +
    patch tokens.
The exported CLIP towers output image_embeds / text_embeds (projected, not normalised);
charisbench normalises where the metric calls for cosines.
"""
import argparse
import hashlib
import os

import torch

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
OPSET = 17


class ClipImage(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, pixel_values):
        return self.m(pixel_values=pixel_values).image_embeds  # [N, E]


class ClipText(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, input_ids):
        # CLIP pools at the end-of-text token (the largest id); padding after it is
        # masked by the causal attention, so no attention_mask is needed.
        return self.m(input_ids=input_ids).text_embeds  # [N, E]


class Dino(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, pixel_values):
        return self.m(pixel_values=pixel_values).last_hidden_state  # [N, 1+R+P, D]


def export(module, example, path, inp, out):
    with torch.no_grad():
        torch.onnx.export(module.eval(), (example,), path, input_names=[inp], output_names=[out],
                          dynamic_axes={inp: {0: "batch"}, out: {0: "batch"}}, opset_version=OPSET,
                          do_constant_folding=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pre(resize, crop, rounding, mean, std):
    return [f"    preprocess:", f"      resize: {resize}", "      resize_mode: short_side",
            f"      crop: {crop}", f"      crop_rounding: {rounding}", "      interpolation: bicubic",
            "      rescale: 0.00392156862745098", f"      mean: {mean}", f"      std: {std}"]


def main():
    ap = argparse.ArgumentParser(description="Export Hugging Face CLIP and DINOv2 to ONNX for charisbench.")
    ap.add_argument("--out", required=True)
    ap.add_argument("--clip", default="openai/clip-vit-base-patch32")
    ap.add_argument("--clip-rounding", default="half_even", choices=["half_even", "floor"])
    ap.add_argument("--dino", default="facebook/dinov2-base")
    args = ap.parse_args()
    from transformers import AutoModel, CLIPModel, CLIPTextModelWithProjection, CLIPVisionModelWithProjection

    os.makedirs(args.out, exist_ok=True)
    lines = [f"# Exported by tools/encoders/export_hf.py from {args.clip} and {args.dino}", "version: 1", "encoders:"]

    dino = AutoModel.from_pretrained(args.dino)
    registers = getattr(dino.config, "num_register_tokens", 0) or 0
    is_v2 = "dinov2" in dino.config.model_type
    crop = 224
    path = os.path.join(args.out, "identity.onnx")
    export(Dino(dino), torch.zeros(1, 3, crop, crop), path, "pixel_values", "last_hidden_state")
    lines += ["  - name: " + args.dino.split("/")[-1], "    role: identity", "    path: identity.onnx",
              f"    sha256: {sha256(path)}", "    input: pixel_values"]
    lines += pre(256, crop, "floor", IMAGENET_MEAN, IMAGENET_STD)
    lines += ["    output:", "      name: last_hidden_state", "      cls_token: true",
              f"      register_tokens: {registers}"]
    if not is_v2:
        lines.append("    # DINO v1: same preprocessing (resize 256, crop 224, ImageNet statistics)")

    clip = CLIPModel.from_pretrained(args.clip)
    size = clip.config.vision_config.image_size
    vision = CLIPVisionModelWithProjection.from_pretrained(args.clip)
    text = CLIPTextModelWithProjection.from_pretrained(args.clip)
    path = os.path.join(args.out, "clip_image.onnx")
    export(ClipImage(vision), torch.zeros(1, 3, size, size), path, "pixel_values", "image_embeds")
    lines += ["  - name: " + args.clip.split("/")[-1] + "-image", "    role: clip_image", "    path: clip_image.onnx",
              f"    sha256: {sha256(path)}", "    input: pixel_values"]
    lines += pre(size, size, args.clip_rounding, CLIP_MEAN, CLIP_STD)
    lines += ["    output:", "      name: image_embeds"]

    ctx = text.config.max_position_embeddings
    path = os.path.join(args.out, "clip_text.onnx")
    example = torch.zeros(1, ctx, dtype=torch.long)
    example[0, 0], example[0, 1] = 49406, 49407
    export(ClipText(text), example, path, "input_ids", "text_embeds")
    lines += ["  - name: " + args.clip.split("/")[-1] + "-text", "    role: clip_text", "    path: clip_text.onnx",
              f"    sha256: {sha256(path)}", "    input: input_ids", "    text:", "      vocab: builtin",
              f"      context_length: {ctx}", "    output:", "      name: text_embeds"]

    with open(os.path.join(args.out, "models.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}/models.yaml; check it with: charisbench models verify {args.out}/models.yaml")


if __name__ == "__main__":
    main()
