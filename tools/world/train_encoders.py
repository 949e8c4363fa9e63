#!/usr/bin/python3
"""Trains the encoders charis-world scores with, and exports them to ONNX.

  identity    a DINO-like ViT (64x64, patch 8, 8x8 patch grid, CLS + 64 patch tokens of
              width 64) trained so that patch tokens tell parts apart (part classification
              and part-colour regression per patch) and characters apart (supervised
              contrastive loss on the CLS token and on the mean subject-patch token across
              transformed views of one character)
  clip_image  a CLIP-like image tower and
  clip_text   text tower, trained with the symmetric InfoNCE loss on (target image, prompt)
              pairs, plus CLIP-IQA's antonym prompts ("Good photo." / "Bad photo.", "Sharp
              photo." / "Blurry photo.", "Clean photo." / "Noisy photo.") on clean and
              degraded images, so the visual-quality axis means something in this world
  attributes  the identity judge's probe (docs/judge.md): a small CNN whose heads read a
              character's attributes (shapes, proportions, accessory, pattern, drawing
              style: classes; the four body colours: RGB) from pixels, trained on the
              transformed targets with the character's own attributes as labels
  segmenter   subject masks for images that come without one (docs/world.md): a small
              U-Net whose per-pixel logits are trained on references and transformed
              targets with the renders' own masks as labels, a third of each batch
              degraded (blur, noise, JPEG, washed out) at the strengths the world's
              perturbations use, so a mask survives what validation does to an image

With --probe-only or --segmenter-only, only that model is trained and its entry in
models.yaml replaced; the other encoders and their calibrations are left as they are.

Training data is a charis-world training split (characters disjoint from every benchmark
split), rendered by the charisbench binary; prompts are tokenized by it too, so the ids are
exactly what scoring feeds the text tower. Runs on 2 CPU cores in minutes with Debian's
python3-torch; a development tool, never a runtime dependency. Run from the repository root:

    make build && /usr/bin/python3 tools/world/train_encoders.py

Writes charis/world/encoders/models/{identity,clip_image,clip_text,attributes,segmenter}.onnx and
charis/world/encoders/models.yaml (with sha256), which `charisbench world build` copies
into every benchmark it writes. Seeded, but not promised bit-reproducible (threaded CPU
kernels may sum in another order): the committed files are one run's, with their sha256,
and the figures that matter are measured on them in Go (make world-eval). About 30
minutes on 2 cores (identity ~6, CLIP ~12, segmenter ~11).
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoders"))
from vit import TextTransformer, ViT, export  # noqa: E402

SIZE, PATCH, DIM = 64, 8, 64
GRID = SIZE // PATCH
PARTS = 7  # background, head, torso, arms, legs, accessory, occluder
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
QUALITY = [("Good photo.", "Bad photo."), ("Sharp photo.", "Blurry photo."), ("Clean photo.", "Noisy photo.")]
OUT = "charis/world/encoders"


def run_world(binary, out, subjects, prompts, seed):
    subprocess.run([binary, "world", "build", "--split", "train", "--subjects", str(subjects),
                    "--prompts-per-subject", str(prompts), "--seed", str(seed), "--size", str(SIZE), out],
                   check=True, stdout=subprocess.DEVNULL)


def tokenize(binary, texts):
    r = subprocess.run([binary, "tokenize"], input="\n".join(texts) + "\n", capture_output=True, text=True, check=True)
    return torch.tensor([json.loads(l) for l in r.stdout.splitlines()], dtype=torch.long)


def load(root):
    """Images [N,3,64,64] uint8, part maps [N,64,64], subject index, part colours [N,7,3],
    prompts; row 0..S-1 are references, the rest targets."""
    rows = [json.loads(l) for l in open(os.path.join(root, "manifest.jsonl"))]
    subjects = sorted({r["subject"] for r in rows})
    sidx = {s: i for i, s in enumerate(subjects)}
    items = []
    seen = set()
    for r in rows:
        w = r["world"]
        ident = w["identity"]
        cols = np.zeros((PARTS, 3), np.float32)
        for k, key in ((1, "head_color"), (2, "torso_color"), (3, "arms_color"), (4, "legs_color"), (5, "accessory_color")):
            c = ident[key]
            cols[k] = [c["r"] / 255, c["g"] / 255, c["b"] / 255]
        if r["subject"] not in seen:
            seen.add(r["subject"])
            items.append((r["reference"], w["reference_parts"], sidx[r["subject"]], cols, "the character"))
        items.append((r["generated"], w["generated_parts"], sidx[r["subject"]], cols, r["prompt"]))
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, p)).convert("RGB")) for p, *_ in items])
    parts = np.stack([np.asarray(Image.open(os.path.join(root, p))) for _, p, *_ in items])
    return (torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(parts.astype(np.int64)),
            torch.tensor([s for _, _, s, *_ in items]), torch.from_numpy(np.stack([c for *_, c, _ in items])),
            [p for *_, p in items])


def normalize(x, mean, std):
    return (x.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def patch_labels(parts):
    """Dominant part per 8x8 patch: [N, 64]."""
    onehot = F.one_hot(parts, PARTS).permute(0, 3, 1, 2).float()  # [N,7,64,64]
    return F.avg_pool2d(onehot, PATCH).flatten(2).argmax(1)  # [N, 64]


def supcon(z, labels, temp=0.1):
    z = F.normalize(z, dim=-1)
    sim = z @ z.t() / temp
    eye = torch.eye(len(z), dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    logp = sim - sim.logsumexp(1, keepdim=True)
    return -(logp * pos).sum(1).div(pos.sum(1).clamp(min=1)).mean()


class Identity(nn.Module):
    def __init__(self):
        super().__init__()
        self.vit = ViT(image=SIZE, patch=PATCH, dim=DIM, depth=4, heads=4)

    def forward(self, pixel_values):
        return self.vit(pixel_values)  # [N, 1+64, 64]


class Heads(nn.Module):  # training only
    def __init__(self):
        super().__init__()
        self.part = nn.Linear(DIM, PARTS)
        self.colour = nn.Linear(DIM, 3)
        self.proj = nn.Sequential(nn.Linear(DIM, DIM), nn.ReLU(), nn.Linear(DIM, DIM))


def batches(subject, per_subject, n_subjects, gen):
    """Index batches of n_subjects characters x per_subject views each."""
    by = {}
    for i, s in enumerate(subject.tolist()):
        by.setdefault(s, []).append(i)
    keys = list(by)
    while True:
        chosen = torch.randperm(len(keys), generator=gen)[:n_subjects].tolist()
        idx = []
        for c in chosen:
            views = by[keys[c]]
            pick = torch.randperm(len(views), generator=gen)[:per_subject].tolist()
            idx += [views[p] for p in pick]
        yield torch.tensor(idx)


def train_identity(data, steps, log):
    imgs, parts, subject, cols, _ = data
    model, heads = Identity(), Heads()
    params = list(model.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(1)
    it = batches(subject, 4, 32, gen)
    labels_all = patch_labels(parts)
    t0 = time.time()
    for step in range(steps):
        idx = next(it)
        x = normalize(imgs[idx], IMAGENET_MEAN, IMAGENET_STD)
        tok = model(x)  # [B, 65, 64]
        patches = tok[:, 1:]  # [B, 64, 64]
        lab = labels_all[idx]  # [B, 64]
        part_loss = F.cross_entropy(heads.part(patches).reshape(-1, PARTS), lab.reshape(-1))
        target_col = cols[idx].gather(1, lab[..., None].expand(-1, -1, 3))  # [B, 64, 3]
        subj = (lab >= 1) & (lab <= 5)
        col_loss = ((heads.colour(patches) - target_col) ** 2).sum(-1)[subj].mean()
        mean_subj = (patches * subj[..., None]).sum(1) / subj.sum(1, keepdim=True).clamp(min=1)
        id_loss = supcon(heads.proj(tok[:, 0]), subject[idx]) + supcon(heads.proj(mean_subj), subject[idx])
        loss = part_loss + 2 * col_loss + id_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"identity step {step:5d} loss {loss.item():.3f} (part {part_loss.item():.3f} colour {col_loss.item():.4f} id {id_loss.item():.3f}) {time.time() - t0:.0f}s")
    return model


class ClipImage(nn.Module):
    def __init__(self):
        super().__init__()
        self.vit = ViT(image=SIZE, patch=PATCH, dim=DIM, depth=4, heads=4)
        self.proj = nn.Linear(DIM, DIM, bias=False)

    def forward(self, pixel_values):
        return self.proj(self.vit(pixel_values)[:, 0])  # [N, 64]


class ClipText(nn.Module):
    def __init__(self):
        super().__init__()
        self.text = TextTransformer(buckets=4096, context=77, dim=DIM, depth=3, heads=4)
        self.proj = nn.Linear(DIM, DIM, bias=False)

    def forward(self, input_ids):
        return self.proj(self.text(input_ids))  # [N, 64]


def degrade(x, kind, gen):
    """x: uint8 [B,3,64,64] -> degraded uint8. kind 1 blur, 2 noise, 3 blank-ish."""
    xf = x.float()
    if kind == 1:
        sigma = 1.0 + 1.5 * torch.rand(1, generator=gen).item()
        r = int(3 * sigma)
        k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * sigma * sigma))
        k = (k / k.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
        xf = F.conv2d(F.pad(xf, (r, r, 0, 0), mode="replicate"), k, groups=3)
        xf = F.conv2d(F.pad(xf, (0, 0, r, r), mode="replicate"), k.transpose(2, 3), groups=3)
    elif kind == 2:
        xf = xf + (20 + 40 * torch.rand(1, generator=gen).item()) * torch.randn(xf.shape, generator=gen)
    else:
        t = 0.6 + 0.4 * torch.rand(1, generator=gen).item()
        xf = (1 - t) * xf + t * 128
    return xf.round().clamp(0, 255).to(torch.uint8)


def train_clip(data, ids, quality_ids, steps, log):
    imgs, _, _, _, _ = data
    image, text = ClipImage(), ClipText()
    logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
    params = list(image.parameters()) + list(text.parameters()) + [logit_scale]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(2)
    n = len(imgs)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randperm(n, generator=gen)[:128]
        x = imgs[idx]
        zi = F.normalize(image(normalize(x, CLIP_MEAN, CLIP_STD)), dim=-1)
        zt = F.normalize(text(ids[idx]), dim=-1)
        logits = logit_scale.exp().clamp(max=100) * zi @ zt.t()
        same = (ids[idx][:, None, :] == ids[idx][None, :, :]).all(-1).float()  # duplicate prompts are positives
        target = same / same.sum(1, keepdim=True)
        nce = (torch.sum(-target * logits.log_softmax(1), 1).mean() + torch.sum(-target * logits.t().log_softmax(1), 1).mean()) / 2
        # Quality: a quarter of 64 images clean, the rest blurred, noised or washed out.
        q = x[:64].clone()
        kinds = torch.arange(64) // 16  # 0 clean, 1 blur, 2 noise, 3 blank
        for k in (1, 2, 3):
            q[kinds == k] = degrade(q[kinds == k], k, gen)
        zq = F.normalize(image(normalize(q, CLIP_MEAN, CLIP_STD)), dim=-1)
        zc = F.normalize(text(quality_ids), dim=-1).view(3, 2, -1)  # [pair, pos/neg, D]
        ql = 0
        for p in range(3):
            lg = 100 * zq @ zc[p].t()  # [64, 2]
            if p == 0:
                lab, keep = (kinds > 0).long(), torch.ones(64, dtype=torch.bool)
            else:
                lab, keep = (kinds == p).long(), (kinds == 0) | (kinds == p)
            ql = ql + F.cross_entropy(lg[keep], lab[keep])
        loss = nce + 0.5 * ql
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"clip step {step:5d} loss {loss.item():.3f} (nce {nce.item():.3f} quality {ql.item():.3f}) {time.time() - t0:.0f}s")
    return image, text


# The probe's heads, in output order: categorical heads give logits, RGB heads three
# values in [0, 1]. models.yaml declares the same layout.
PROBE_CLASSES = [("head_shape", ["circle", "square", "triangle"]), ("torso_shape", ["rectangle", "ellipse", "trapezoid"]),
                 ("build", ["slim", "average", "stocky"]), ("height", ["short", "tall"]),
                 ("accessory", ["none", "hat", "scarf", "glasses"]), ("pattern", ["plain", "stripes", "dots", "checker"]),
                 ("style", ["none", "outline", "flat", "sketch"])]
PROBE_RGB = ["head_color", "torso_color", "arms_color", "legs_color"]
PROBE_OUT = sum(len(v) for _, v in PROBE_CLASSES) + 3 * len(PROBE_RGB)


def load_probe(root):
    """Every reference and target of a world split with its character's attributes:
    images [N,3,64,64] uint8, class labels [N, heads], colours [N, 4, 3] in [0, 1]."""
    rows = [json.loads(l) for l in open(os.path.join(root, "manifest.jsonl"))]
    items, seen = [], set()
    for r in rows:
        w = r["world"]
        ident = w["identity"]
        style = next((t["option"] for t in w["transforms"] if t["category"] == "style"), "none")
        if r["subject"] not in seen:
            seen.add(r["subject"])
            items.append((r["reference"], ident, "none"))
        items.append((r["generated"], ident, style))
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, p)).convert("RGB")) for p, _, _ in items])
    labels = torch.tensor([[vals.index(st if name == "style" else ident[name]) for name, vals in PROBE_CLASSES]
                           for _, ident, st in items])
    cols = torch.tensor([[[ident[k]["r"] / 255, ident[k]["g"] / 255, ident[k]["b"] / 255] for k in PROBE_RGB]
                         for _, ident, _ in items])
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(), labels, cols


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        layers, ch = [], [3, 16, 32, 64, 64]
        for i in range(4):  # 64 -> 4
            layers += [nn.Conv2d(ch[i], ch[i + 1], 3, padding=1), nn.BatchNorm2d(ch[i + 1]), nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 256), nn.ReLU(), nn.Linear(256, PROBE_OUT))
        self.n_logits = sum(len(v) for _, v in PROBE_CLASSES)

    def forward(self, pixel_values):
        out = self.head(self.body(pixel_values))
        return torch.cat([out[:, :self.n_logits], torch.sigmoid(out[:, self.n_logits:])], 1)


def train_probe(data, steps, log):
    imgs, labels, cols = data
    model = Probe()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.02)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(2)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(len(imgs), (64,), generator=gen)
        out = model(normalize(imgs[idx], IMAGENET_MEAN, IMAGENET_STD))
        loss, at = 0, 0
        for h, (_, vals) in enumerate(PROBE_CLASSES):
            loss = loss + F.cross_entropy(out[:, at:at + len(vals)], labels[idx, h])
            at += len(vals)
        loss = loss + 20 * ((out[:, at:].reshape(-1, len(PROBE_RGB), 3) - cols[idx]) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"probe step {step:5d} loss {loss.item():.3f} {time.time() - t0:.0f}s")
    return model


def probe_manifest_lines(sha):
    lines = ["  - name: world-probe", "    role: attributes", "    path: models/attributes.onnx", f"    sha256: {sha}"]
    lines += pre(IMAGENET_MEAN, IMAGENET_STD, "floor")
    lines += ["    output:", "      name: attributes", "    heads:"]
    lines += [f"      - {{name: {n}, values: [{', '.join(v)}]}}" for n, v in PROBE_CLASSES]
    lines += [f"      - {{name: {n}, rgb: true}}" for n in PROBE_RGB]
    return lines


def export_probe(model, log):
    path = os.path.join(OUT, "models", "attributes.onnx")
    export(model.eval(), (torch.zeros(2, 3, SIZE, SIZE),), path, ["pixel_values"], ["attributes"])
    log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    return probe_manifest_lines(sha256(path))


def replace_entry(name, lines):
    """Rewrites models.yaml with the entry of that name replaced (or added), the rest kept."""
    path = os.path.join(OUT, "models.yaml")
    with open(path) as f:
        old = f.read().splitlines()
    head = f"  - name: {name}"
    if head in old:
        start = old.index(head)
        end = next((i for i in range(start + 1, len(old)) if old[i].startswith("  - ")), len(old))
        old = old[:start] + old[end:]
    with open(path, "w") as f:
        f.write("\n".join(old + lines) + "\n")


def load_masks(root):
    """Every reference and target of a world split with its subject mask:
    images [N,3,64,64] uint8, masks [N,64,64] float (1 = subject)."""
    rows = [json.loads(l) for l in open(os.path.join(root, "manifest.jsonl"))]
    items, seen = [], set()
    for r in rows:
        if r["subject"] not in seen:
            seen.add(r["subject"])
            items.append((r["reference"], r["reference_mask"]))
        items.append((r["generated"], r["generated_mask"]))
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, p)).convert("RGB")) for p, _ in items])
    masks = np.stack([np.asarray(Image.open(os.path.join(root, m)).convert("L")) > 127 for _, m in items])
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(masks.astype(np.float32))


def degrade_like_perturbations(x, gen):
    """A degraded copy of uint8 images [B,3,64,64], one random family and strength each, at
    the ranges charis/perturb reaches (blur sigma up to 2.5 px, noise up to 64 levels, JPEG
    quality down to 5, a blend towards gray up to 0.8) and a little beyond for blur."""
    out = x.clone()
    for i in range(len(x)):
        kind = int(torch.randint(4, (1,), generator=gen))
        s = torch.rand(1, generator=gen).item()
        one = x[i:i + 1]
        if kind == 0:
            sigma = 0.3 + 2.7 * s
            r = max(1, int(3 * sigma))
            k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * sigma * sigma))
            k = (k / k.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
            xf = F.conv2d(F.pad(one.float(), (r, r, 0, 0), mode="replicate"), k, groups=3)
            xf = F.conv2d(F.pad(xf, (0, 0, r, r), mode="replicate"), k.transpose(2, 3), groups=3)
        elif kind == 1:
            xf = one.float() + 64 * s * torch.randn(one.shape, generator=gen)
        elif kind == 2:
            buf = io.BytesIO()
            Image.fromarray(one[0].permute(1, 2, 0).numpy()).save(buf, "JPEG", quality=int(round(95 - 90 * s)))
            xf = torch.from_numpy(np.array(Image.open(buf).convert("RGB"))).permute(2, 0, 1)[None].float()
        else:
            xf = (1 - 0.8 * s) * one.float() + 0.8 * s * 128
        out[i] = xf.round().clamp(0, 255).to(torch.uint8)[0]
    return out


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


def upsample2(x):
    """Nearest-neighbour 2x upsampling as reshapes (exports to Reshape and Expand, which
    every ONNX runtime has)."""
    n, c, h, w = x.shape
    return x[:, :, :, None, :, None].expand(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w)


class Segmenter(nn.Module):
    """A U-Net over 64, 32, 16 and 8 px (receptive field past the character's size):
    [N,3,64,64] -> [N,1,64,64] subject logits."""

    def __init__(self):
        super().__init__()
        ch = [16, 32, 48, 64]
        self.down = nn.ModuleList([conv_block(3, ch[0])] + [conv_block(ch[i], ch[i + 1]) for i in range(3)])
        self.up = nn.ModuleList([conv_block(ch[i + 1] + ch[i], ch[i]) for i in range(3)])
        self.out = nn.Conv2d(ch[0], 1, 1)

    def forward(self, pixel_values):
        skips, x = [], pixel_values
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for i in (2, 1, 0):
            x = self.up[i](torch.cat([upsample2(x), skips[i]], 1))
        return self.out(x)


def train_segmenter(data, steps, log):
    imgs, masks = data
    model = Segmenter()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(3)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(len(imgs), (32,), generator=gen)
        x, y = imgs[idx], masks[idx]
        x[:11] = degrade_like_perturbations(x[:11], gen)
        logits = model(normalize(x, IMAGENET_MEAN, IMAGENET_STD))[:, 0]
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            with torch.no_grad():
                pred = logits > 0
                iou = ((pred & (y > 0.5)).sum((1, 2)).float() / (pred | (y > 0.5)).sum((1, 2)).clamp(min=1)).mean()
            log(f"segmenter step {step:5d} loss {loss.item():.4f} batch IoU {iou.item():.3f} {time.time() - t0:.0f}s")
    return model


def export_segmenter(model, log):
    path = os.path.join(OUT, "models", "segmenter.onnx")
    export(model.eval(), (torch.zeros(2, 3, SIZE, SIZE),), path, ["pixel_values"], ["logits"])
    log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    lines = ["  - name: world-segmenter", "    role: segmenter", "    path: models/segmenter.onnx",
             f"    sha256: {sha256(path)}"]
    lines += pre(IMAGENET_MEAN, IMAGENET_STD, "floor", mode="square")
    return lines + ["    output:", "      name: logits"]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pre(mean, std, rounding, mode="short_side"):
    crop = 0 if mode == "square" else SIZE
    return [f"    preprocess:", f"      resize: {SIZE}", f"      resize_mode: {mode}", f"      crop: {crop}",
            f"      crop_rounding: {rounding}", "      interpolation: bicubic", "      rescale: 0.00392156862745098",
            f"      mean: {mean}", f"      std: {std}"]


def main():
    ap = argparse.ArgumentParser(description="Train and export the charis-world encoders.")
    ap.add_argument("--bin", default="bin/charisbench")
    ap.add_argument("--subjects", type=int, default=2000)
    ap.add_argument("--prompts", type=int, default=7)
    ap.add_argument("--identity-steps", type=int, default=1000)
    ap.add_argument("--clip-steps", type=int, default=1000)
    ap.add_argument("--probe-steps", type=int, default=2500)
    ap.add_argument("--segmenter-steps", type=int, default=1500)
    ap.add_argument("--probe-only", action="store_true", help="train the judge's probe only; keep the other encoders")
    ap.add_argument("--segmenter-only", action="store_true", help="train the segmenter only; keep the other encoders")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    log = lambda m: print(m, flush=True)  # noqa: E731
    if args.probe_only:
        with tempfile.TemporaryDirectory() as tmp:
            run_world(args.bin, tmp, args.subjects, args.prompts, args.seed)
            probe_data = load_probe(tmp)
        log(f"loaded {len(probe_data[0])} probe training images")
        replace_entry("world-probe", export_probe(train_probe(probe_data, args.probe_steps, log), log))
        log(f"replaced the probe in {OUT}/models.yaml")
        return
    if args.segmenter_only:
        with tempfile.TemporaryDirectory() as tmp:
            run_world(args.bin, tmp, args.subjects, args.prompts, args.seed)
            mask_data = load_masks(tmp)
        log(f"loaded {len(mask_data[0])} segmenter training images")
        replace_entry("world-segmenter", export_segmenter(train_segmenter(mask_data, args.segmenter_steps, log), log))
        log(f"replaced the segmenter in {OUT}/models.yaml")
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        run_world(args.bin, tmp, args.subjects, args.prompts, args.seed)
        data = load(tmp)
        probe_data = load_probe(tmp)
        mask_data = load_masks(tmp)
        log(f"rendered and loaded {len(data[0])} training images in {time.time() - t0:.0f}s")
    prompts = data[4]
    uniq = sorted(set(prompts))
    table = tokenize(args.bin, uniq)
    ids = table[torch.tensor([uniq.index(p) for p in prompts])]
    quality_ids = tokenize(args.bin, [t for pair in QUALITY for t in pair])
    used = int(max((ids > 0).sum(1).max(), (quality_ids > 0).sum(1).max()))  # longest prompt in ids
    ids, quality_ids = ids[:, :used], quality_ids[:, :used]  # causal text tower: padding is inert
    identity = train_identity(data, args.identity_steps, log)
    image, text = train_clip(data, ids, quality_ids, args.clip_steps, log)

    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    files = {}
    for name, model, example, inp, out in (
            ("identity", identity, torch.zeros(2, 3, SIZE, SIZE), "pixel_values", "last_hidden_state"),
            ("clip_image", image, torch.zeros(2, 3, SIZE, SIZE), "pixel_values", "image_embeds"),
            ("clip_text", text, torch.zeros(2, 77, dtype=torch.long), "input_ids", "text_embeds")):
        path = os.path.join(OUT, "models", name + ".onnx")
        export(model.eval(), (example,), path, [inp], [out])
        files[name] = sha256(path)
        log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    lines = ["# charis-world encoders, trained by tools/world/train_encoders.py on the train split.",
             "version: 1", "encoders:",
             "  - name: world-dino", "    role: identity", "    path: models/identity.onnx", f"    sha256: {files['identity']}"]
    lines += pre(IMAGENET_MEAN, IMAGENET_STD, "floor")
    lines += ["    output:", "      name: last_hidden_state", "      cls_token: true", "      register_tokens: 0",
              "  - name: world-clip-image", "    role: clip_image", "    path: models/clip_image.onnx",
              f"    sha256: {files['clip_image']}"]
    lines += pre(CLIP_MEAN, CLIP_STD, "half_even")
    lines += ["    output:", "      name: image_embeds",
              "  - name: world-clip-text", "    role: clip_text", "    path: models/clip_text.onnx",
              f"    sha256: {files['clip_text']}", "    text:", "      vocab: builtin", "      context_length: 77",
              "    output:", "      name: text_embeds"]
    lines += export_probe(train_probe(probe_data, args.probe_steps, log), log)
    lines += export_segmenter(train_segmenter(mask_data, args.segmenter_steps, log), log)
    with open(os.path.join(OUT, "models.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    log(f"wrote {OUT}/models.yaml")


if __name__ == "__main__":
    main()
