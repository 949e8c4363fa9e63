#!/usr/bin/python3
"""Trains the encoders charis-world scores with, and exports them to ONNX.

  identity    a DINO-like ViT (64x64, patch 8, 8x8 patch grid, CLS + 64 patch tokens of
              width 64) trained so that patch tokens tell parts apart (part classification
              and part-colour regression per patch) and characters apart (supervised
              contrastive loss on the CLS token, the mean subject-patch token, each body
              part's mean token and single subject patches across transformed views of
              one character)
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
  iqa         an image-quality model (role iqa, averaged into VQ): a small CNN regressing 1
              for a clean render and 1 - s for one degraded by a perturbation family at
              strength s, so VQ sees JPEG as well as blur and noise

The identity encoder and the CLIP pair see a third of their images degraded (blur, noise,
JPEG, washed out) as positives of the clean ones, and the identity encoder takes outlines
and pencil sketches as views of their character with no colour target: identity and prompt
embeddings survive what the quality families do, so IC and PA answer their own questions.

With --only, only the named models are trained and their entries in models.yaml replaced;
the others (and every calibration: make world-calibrate refits them) are left as they
are.

Training data is a charis-world training split (characters disjoint from every benchmark
split), rendered by the charisbench binary; prompts are tokenized by it too, so the ids are
exactly what scoring feeds the text tower. Runs on 2 CPU cores in minutes with Debian's
python3-torch; a development tool, never a runtime dependency. Run from the repository root:

    make build && /usr/bin/python3 tools/world/train_encoders.py

Writes charis/world/encoders/models/{identity,clip_image,clip_text,attributes,segmenter,iqa}.onnx and
charis/world/encoders/models.yaml (with sha256), which `charisbench world build` copies
into every benchmark it writes. Seeded, but not promised bit-reproducible (threaded CPU
kernels may sum in another order): the committed files are one run's, with their sha256,
and the figures that matter are measured on them in Go (make world-eval). About 40
minutes on 2 cores (identity ~13, CLIP ~17, segmenter ~3, IQA ~2, probe ~6).
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
    prompts, and whether the colours are drawn (not an outline or a pencil sketch); row
    0..S-1 are references, the rest targets."""
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
            items.append((r["reference"], w["reference_parts"], sidx[r["subject"]], cols, "the character", True))
        style = next((t["option"] for t in w["transforms"] if t["category"] == "style"), "")
        items.append((r["generated"], w["generated_parts"], sidx[r["subject"]], cols, r["prompt"], style not in ("outline", "sketch")))
    imgs = np.stack([np.asarray(Image.open(os.path.join(root, p)).convert("RGB")) for p, *_ in items])
    parts = np.stack([np.asarray(Image.open(os.path.join(root, p))) for _, p, *_ in items])
    return (torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(parts.astype(np.int64)),
            torch.tensor([it[2] for it in items]), torch.from_numpy(np.stack([it[3] for it in items])),
            [it[4] for it in items], torch.tensor([it[5] for it in items]))


def normalize(x, mean, std):
    return (x.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def patch_labels(parts):
    """Dominant part per 8x8 patch: [N, 64]."""
    onehot = F.one_hot(parts, PARTS).permute(0, 3, 1, 2).float()  # [N,7,64,64]
    return F.avg_pool2d(onehot, PATCH).flatten(2).argmax(1)  # [N, 64]


def optimizer(params, lr, weight_decay, steps):
    """AdamW with a one-cycle schedule peaking at lr, as every model here trains."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)


def descend(opt, sched, loss):
    """One optimizer step on loss, then the learning-rate schedule's."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()


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


def batches(subject, per_subject, n_subjects, gen, weight=None):
    """Index batches of n_subjects characters x per_subject views each, a character's views
    drawn in proportion to weight (uniformly without one)."""
    by = {}
    for i, s in enumerate(subject.tolist()):
        by.setdefault(s, []).append(i)
    keys = list(by)
    while True:
        chosen = torch.randperm(len(keys), generator=gen)[:n_subjects].tolist()
        idx = []
        for c in chosen:
            views = by[keys[c]]
            w = torch.ones(len(views)) if weight is None else weight[views]
            pick = torch.multinomial(w, min(per_subject, len(views)), generator=gen).tolist()
            idx += [views[p] for p in pick]
        yield torch.tensor(idx)


def part_prototypes(patches, lab, subject):
    """Mean token of each (image, body part) present, labelled character*8 + part, for a
    contrastive loss that pulls one character's part together across views."""
    protos, labels = [], []
    for k in range(1, 6):
        m = (lab == k).float()  # [B, 64]
        n = m.sum(1)
        keep = n > 0
        if keep.any():
            protos.append(((patches * m[..., None]).sum(1) / n.clamp(min=1)[:, None])[keep])
            labels.append(subject[keep] * 8 + k)
    return torch.cat(protos), torch.cat(labels)


def train_identity(data, steps, log):
    """The views of a batch are a character's references and targets; half of them
    degraded (degrade_like_perturbations, JPEG for half of those: it is what moves colours
    most) and still positives, so identity survives what the quality families do; outlines
    and sketches are positives too, drawn four times as often as other views, with no
    colour target (their colours are not drawn)."""
    imgs, parts, subject, cols, _, coloured = data
    model, heads = Identity(), Heads()
    params = list(model.parameters()) + list(heads.parameters())
    opt, sched = optimizer(params, 2e-3, 0.02, steps)
    gen = torch.Generator().manual_seed(1)
    it = batches(subject, 4, 32, gen, weight=1 + 3 * (~coloured).float())  # outlines and sketches drawn 4x as often
    labels_all = patch_labels(parts)
    t0 = time.time()
    for step in range(steps):
        idx = next(it)
        x = imgs[idx].clone()
        deg = torch.rand(len(idx), generator=gen) < 1 / 2
        if deg.any():
            x[deg] = degrade_like_perturbations(x[deg], gen, jpeg_share=0.5)
        x = normalize(x, IMAGENET_MEAN, IMAGENET_STD)
        tok = model(x)  # [B, 65, 64]
        patches = tok[:, 1:]  # [B, 64, 64]
        lab = labels_all[idx]  # [B, 64]
        part_loss = F.cross_entropy(heads.part(patches).reshape(-1, PARTS), lab.reshape(-1))
        target_col = cols[idx].gather(1, lab[..., None].expand(-1, -1, 3))  # [B, 64, 3]
        subj = (lab >= 1) & (lab <= 5)
        col_loss = ((heads.colour(patches) - target_col) ** 2).sum(-1)[subj & coloured[idx][:, None]].mean()
        mean_subj = (patches * subj[..., None]).sum(1) / subj.sum(1, keepdim=True).clamp(min=1)
        protos, plabels = part_prototypes(patches, lab, subject[idx])
        # Single patches too (IC matches patch to patch): 512 subject patches of the batch,
        # labelled by character and part, so a sketched head patch finds the coloured one.
        flat, flab = patches[subj], (subject[idx][:, None] * 8 + lab)[subj]
        pick = torch.randperm(len(flat), generator=gen)[:512]
        id_loss = (supcon(heads.proj(tok[:, 0]), subject[idx]) + supcon(heads.proj(mean_subj), subject[idx])
                   + supcon(mean_subj, subject[idx])  # unprojected too: IC compares the tokens themselves
                   + supcon(protos, plabels) + supcon(flat[pick], flab[pick]))
        loss = part_loss + 2 * col_loss + id_loss
        descend(opt, sched, loss)
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
    imgs = data[0]
    image, text = ClipImage(), ClipText()
    logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
    params = list(image.parameters()) + list(text.parameters()) + [logit_scale]
    opt, sched = optimizer(params, 2e-3, 0.02, steps)
    gen = torch.Generator().manual_seed(2)
    n = len(imgs)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randperm(n, generator=gen)[:128]
        x = imgs[idx]
        xa = x.clone()  # a third degraded: a blurred or compressed image still shows what its prompt says
        deg = torch.rand(len(idx), generator=gen) < 1 / 3
        xa[deg] = degrade_like_perturbations(xa[deg], gen)
        zi = F.normalize(image(normalize(xa, CLIP_MEAN, CLIP_STD)), dim=-1)
        zt = F.normalize(text(ids[idx]), dim=-1)
        logits = logit_scale.exp().clamp(max=100) * zi @ zt.t()
        same = (ids[idx][:, None, :] == ids[idx][None, :, :]).all(-1).float()  # duplicate prompts are positives
        target = same / same.sum(1, keepdim=True)
        nce = (torch.sum(-target * logits.log_softmax(1), 1).mean() + torch.sum(-target * logits.t().log_softmax(1), 1).mean()) / 2
        # Quality: a quarter of 64 images clean, the rest blurred, noised, or washed out or
        # JPEG-compressed (kind 3, half each: both are "Bad photo.").
        q = x[:64].clone()
        kinds = torch.arange(64) // 16  # 0 clean, 1 blur, 2 noise, 3 blank or JPEG
        for k in (1, 2):
            q[kinds == k] = degrade(q[kinds == k], k, gen)
        q[48:56] = degrade(q[48:56], 3, gen)
        q[56:] = jpeg(q[56:], 5 + int(30 * torch.rand(1, generator=gen).item()))
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
        descend(opt, sched, loss)
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


def cnn_body(ch):
    """Four conv, batch-norm, ReLU and 2x max-pool blocks through the channels ch (five
    numbers): 64 px in, 4 px out."""
    layers = []
    for i in range(4):
        layers += [nn.Conv2d(ch[i], ch[i + 1], 3, padding=1), nn.BatchNorm2d(ch[i + 1]), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers)


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = cnn_body([3, 16, 32, 64, 64])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 256), nn.ReLU(), nn.Linear(256, PROBE_OUT))
        self.n_logits = sum(len(v) for _, v in PROBE_CLASSES)

    def forward(self, pixel_values):
        out = self.head(self.body(pixel_values))
        return torch.cat([out[:, :self.n_logits], torch.sigmoid(out[:, self.n_logits:])], 1)


def train_probe(data, steps, log):
    imgs, labels, cols = data
    model = Probe()
    opt, sched = optimizer(model.parameters(), 2e-3, 0.02, steps)
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
        descend(opt, sched, loss)
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


def export_image_model(model, name, output, log):
    """Exports an image model taking [N,3,64,64] pixel_values to models/NAME.onnx; returns
    its sha256."""
    path = os.path.join(OUT, "models", name + ".onnx")
    export(model.eval(), (torch.zeros(2, 3, SIZE, SIZE),), path, ["pixel_values"], [output])
    log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    return sha256(path)


def export_probe(model, log):
    return probe_manifest_lines(export_image_model(model, "attributes", "attributes", log))


def replace_entry(name, lines):
    """Rewrites models.yaml with the entry of that name replaced where it stands (or added
    at the end), the rest kept; a missing models.yaml is started."""
    path = os.path.join(OUT, "models.yaml")
    old = ["# charis-world encoders, trained by tools/world/train_encoders.py on the train split.", "version: 1", "encoders:"]
    if os.path.exists(path):
        with open(path) as f:
            old = f.read().splitlines()
    head = f"  - name: {name}"
    if head in old:
        start = old.index(head)
        end = next((i for i in range(start + 1, len(old)) if old[i].startswith("  - ")), len(old))
        old = old[:start] + lines + old[end:]
    else:
        old = old + lines
    with open(path, "w") as f:
        f.write("\n".join(old) + "\n")


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


def jpeg(x, quality):
    """JPEG round trip through Pillow of uint8 images [B,3,H,W]."""
    out = x.clone()
    for i in range(len(x)):
        buf = io.BytesIO()
        Image.fromarray(x[i].permute(1, 2, 0).numpy()).save(buf, "JPEG", quality=quality)
        out[i] = torch.from_numpy(np.array(Image.open(buf).convert("RGB"))).permute(2, 0, 1)
    return out


PERTURBATIONS = ("blur", "noise", "jpeg", "blank")


def perturb(x, kind, s, gen):
    """charis/perturb's image families at strength s on uint8 images [B,3,64,64]: Gaussian
    blur sigma 2.5*s px, noise sigma 64*s levels, JPEG quality round(95 - 90*s), a blend
    towards flat gray by s."""
    if kind == "jpeg":
        return jpeg(x, int(round(95 - 90 * min(s, 1))))
    xf = x.float()
    if kind == "blur" and s > 0:
        sigma = 2.5 * s
        r = max(1, int(3 * sigma))
        k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * sigma * sigma))
        k = (k / k.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
        xf = F.conv2d(F.pad(xf, (r, r, 0, 0), mode="replicate"), k, groups=3)
        xf = F.conv2d(F.pad(xf, (0, 0, r, r), mode="replicate"), k.transpose(2, 3), groups=3)
    elif kind == "noise":
        xf = xf + 64 * s * torch.randn(xf.shape, generator=gen)
    elif kind == "blank":
        xf = (1 - s) * xf + s * 128
    return xf.round().clamp(0, 255).to(torch.uint8)


def degrade_like_perturbations(x, gen, jpeg_share=0.25):
    """A degraded copy of uint8 images [B,3,64,64], one random family and strength each
    (JPEG with probability jpeg_share, the others evenly): blur up to a little past full
    strength, noise and JPEG up to full, a blend towards gray up to 0.8 (past it there is
    little subject left)."""
    out = x.clone()
    for i in range(len(x)):
        if torch.rand(1, generator=gen).item() < jpeg_share:
            kind = "jpeg"
        else:
            kind = ("blur", "noise", "blank")[int(torch.randint(3, (1,), generator=gen))]
        s = torch.rand(1, generator=gen).item() * {"blur": 1.2, "noise": 1, "jpeg": 1, "blank": 0.8}[kind]
        out[i] = perturb(x[i:i + 1], kind, s, gen)[0]
    return out


class IQA(nn.Module):
    """A small CNN that reads image quality: [N,3,64,64] -> [N,1], 1 for a clean render,
    1 - s for one degraded at strength s."""

    def __init__(self):
        super().__init__()
        self.body = cnn_body([3, 16, 32, 48, 64])
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, pixel_values):
        return self.head(self.body(pixel_values))


def train_iqa(imgs, steps, log):
    """Trained on the world's graded degradations: a quarter of each batch clean (target 1),
    the rest one family each at a uniform strength s (target 1 - s)."""
    model = IQA()
    opt, sched = optimizer(model.parameters(), 2e-3, 0.01, steps)
    gen = torch.Generator().manual_seed(4)
    t0 = time.time()
    for step in range(steps):
        x = imgs[torch.randint(len(imgs), (64,), generator=gen)].clone()
        target = torch.ones(64)
        for i in range(16, 64):
            kind = PERTURBATIONS[i % 4]
            st = torch.rand(1, generator=gen).item()
            x[i] = perturb(x[i:i + 1], kind, st, gen)[0]
            target[i] = 1 - st
        pred = model(normalize(x, IMAGENET_MEAN, IMAGENET_STD))[:, 0]
        loss = F.mse_loss(pred, target)
        descend(opt, sched, loss)
        if step % 100 == 0 or step == steps - 1:
            log(f"iqa step {step:5d} loss {loss.item():.4f} {time.time() - t0:.0f}s")
    return model


def export_iqa(model, log):
    lines = ["  - name: world-iqa", "    role: iqa", "    path: models/iqa.onnx",
             f"    sha256: {export_image_model(model, 'iqa', 'quality', log)}"]
    lines += pre(IMAGENET_MEAN, IMAGENET_STD, "floor")
    return lines + ["    output:", "      name: quality", "    calibration: {lo: 0, hi: 1}"]


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
        ch = [8, 16, 32, 48]
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
    opt, sched = optimizer(model.parameters(), 3e-3, 0.01, steps)
    gen = torch.Generator().manual_seed(3)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(len(imgs), (32,), generator=gen)
        x, y = imgs[idx], masks[idx]
        x[:11] = degrade_like_perturbations(x[:11], gen)
        logits = model(normalize(x, IMAGENET_MEAN, IMAGENET_STD))[:, 0]
        loss = F.binary_cross_entropy_with_logits(logits, y)
        descend(opt, sched, loss)
        if step % 100 == 0 or step == steps - 1:
            with torch.no_grad():
                pred = logits > 0
                iou = ((pred & (y > 0.5)).sum((1, 2)).float() / (pred | (y > 0.5)).sum((1, 2)).clamp(min=1)).mean()
            log(f"segmenter step {step:5d} loss {loss.item():.4f} batch IoU {iou.item():.3f} {time.time() - t0:.0f}s")
    return model


def export_segmenter(model, log):
    lines = ["  - name: world-segmenter", "    role: segmenter", "    path: models/segmenter.onnx",
             f"    sha256: {export_image_model(model, 'segmenter', 'logits', log)}"]
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


MODELS = ("identity", "clip", "probe", "segmenter", "iqa")


def export_towers(identity, image, text, log):
    """Exports the identity encoder and the CLIP pair; returns their models.yaml entries
    (without calibrations: make world-calibrate fits them)."""
    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    entries = {}
    for name, model, example, inp, out in (
            ("identity", identity, torch.zeros(2, 3, SIZE, SIZE), "pixel_values", "last_hidden_state"),
            ("clip_image", image, torch.zeros(2, 3, SIZE, SIZE), "pixel_values", "image_embeds"),
            ("clip_text", text, torch.zeros(2, 77, dtype=torch.long), "input_ids", "text_embeds")):
        if model is None:
            continue
        path = os.path.join(OUT, "models", name + ".onnx")
        export(model.eval(), (example,), path, [inp], [out])
        log(f"exported {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
        if name == "identity":
            lines = ["  - name: world-dino", "    role: identity", "    path: models/identity.onnx", f"    sha256: {sha256(path)}"]
            lines += pre(IMAGENET_MEAN, IMAGENET_STD, "floor")
            entries["world-dino"] = lines + ["    output:", "      name: last_hidden_state", "      cls_token: true", "      register_tokens: 0"]
        elif name == "clip_image":
            lines = ["  - name: world-clip-image", "    role: clip_image", "    path: models/clip_image.onnx", f"    sha256: {sha256(path)}"]
            entries["world-clip-image"] = lines + pre(CLIP_MEAN, CLIP_STD, "half_even") + ["    output:", "      name: image_embeds"]
        else:
            entries["world-clip-text"] = ["  - name: world-clip-text", "    role: clip_text", "    path: models/clip_text.onnx",
                                          f"    sha256: {sha256(path)}", "    text:", "      vocab: builtin", "      context_length: 77",
                                          "    output:", "      name: text_embeds"]
    return entries


def main():
    ap = argparse.ArgumentParser(description="Train and export the charis-world encoders.")
    ap.add_argument("--bin", default="bin/charisbench")
    ap.add_argument("--subjects", type=int, default=2000)
    ap.add_argument("--prompts", type=int, default=7)
    ap.add_argument("--identity-steps", type=int, default=1500)
    ap.add_argument("--clip-steps", type=int, default=1000)
    ap.add_argument("--probe-steps", type=int, default=2500)
    ap.add_argument("--segmenter-steps", type=int, default=1500)
    ap.add_argument("--iqa-steps", type=int, default=1500)
    ap.add_argument("--only", default=",".join(MODELS),
                    help="comma-separated models to train, of " + ", ".join(MODELS) + "; the others are kept as they are")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    only = [m for m in args.only.split(",") if m]
    if not only or any(m not in MODELS for m in only):
        ap.error(f"--only takes a comma-separated list of {', '.join(MODELS)}")
    torch.manual_seed(0)
    torch.set_num_threads(2)
    log = lambda m: print(m, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        run_world(args.bin, tmp, args.subjects, args.prompts, args.seed)
        data = load(tmp) if {"identity", "clip", "iqa"} & set(only) else None
        probe_data = load_probe(tmp) if "probe" in only else None
        mask_data = load_masks(tmp) if "segmenter" in only else None
        log(f"rendered and loaded the training split in {time.time() - t0:.0f}s")
    identity = image = text = None
    if "identity" in only:
        identity = train_identity(data, args.identity_steps, log)
    if "clip" in only:
        prompts = data[4]
        uniq = sorted(set(prompts))
        table = tokenize(args.bin, uniq)
        ids = table[torch.tensor([uniq.index(p) for p in prompts])]
        quality_ids = tokenize(args.bin, [t for pair in QUALITY for t in pair])
        used = int(max((ids > 0).sum(1).max(), (quality_ids > 0).sum(1).max()))  # longest prompt in ids
        ids, quality_ids = ids[:, :used], quality_ids[:, :used]  # causal text tower: padding is inert
        image, text = train_clip(data, ids, quality_ids, args.clip_steps, log)
    for name, lines in export_towers(identity, image, text, log).items():
        replace_entry(name, lines)
    if "probe" in only:
        replace_entry("world-probe", export_probe(train_probe(probe_data, args.probe_steps, log), log))
    if "segmenter" in only:
        replace_entry("world-segmenter", export_segmenter(train_segmenter(mask_data, args.segmenter_steps, log), log))
    if "iqa" in only:
        replace_entry("world-iqa", export_iqa(train_iqa(data[0], args.iqa_steps, log), log))
    log(f"wrote {', '.join(only)} into {OUT}/models.yaml")


if __name__ == "__main__":
    main()
