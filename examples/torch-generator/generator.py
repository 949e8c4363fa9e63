#!/usr/bin/env python3
"""The paper's method (arXiv 2511.08061) in plain PyTorch, as an external generator that
charisbench drives through exec protocol version 2 (docs/ablations.md).

A diffusion transformer sees the noisy target beside the noise-free reference (latent
concatenation along the width), is trained with conditional flow matching whose loss is
masked to the target half ("masked") or covers the whole canvas ("full"), and is adapted
with LoRA on the attention, FFN and/or modulation projections (rank, alpha). Latents are
pixels in [-1, 1] at image_size (no VAE at this scale; a FLUX pipeline uses its VAE, see
flux_skeleton.py).

Train request: pretrain (or reuse, from --base-cache) a base model on text -> image, then
fine-tune LoRA adapters on reference + prompt -> target from the training manifest, and
write the checkpoint folder. Generate request: Euler sampling from the request's seed,
the reference half held clean, optional classifier-free guidance.

    python3 generator.py [--device cpu|cuda] [--threads N] [--base-cache DIR]

Standard output carries protocol messages only; logs go to standard error.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

PROTOCOL = 2
DEFAULTS = {
    "loss": "masked", "lora_layers": "attn+ffn", "rank": 8, "alpha": 8.0, "steps": 300, "batch": 8,
    "lr": 1e-3, "seed": 1, "sample_steps": 20, "guidance": 1.0,
    # this generator's own keys
    "image_size": 32, "patch": 4, "width": 64, "depth": 2, "heads": 4, "base_steps": 400, "base_lr": 2e-3,
}
LAYER_SETS = ("attn", "ffn", "modulation")
VOCAB, TEXT_LEN = 512, 16


def log(*args):
    print("torch-generator:", *args, file=sys.stderr, flush=True)


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def settings_of(req):
    s = dict(DEFAULTS)
    for k, v in (req.get("settings") or {}).items():
        s[k] = v
    if s["loss"] not in ("masked", "full"):
        raise ValueError(f"settings.loss: want masked or full, got {s['loss']!r}")
    layers = [x for x in str(s["lora_layers"]).split("+") if x]
    bad = [x for x in layers if x not in LAYER_SETS]
    if bad:
        raise ValueError(f"settings.lora_layers: unknown {bad} (want attn, ffn, modulation joined by +)")
    s["lora_layers"] = layers
    for k in ("rank", "steps", "batch", "seed", "sample_steps", "image_size", "patch", "width", "depth", "heads", "base_steps"):
        s[k] = int(s[k])
    for k in ("alpha", "lr", "guidance", "base_lr"):
        s[k] = float(s[k])
    if s["image_size"] % s["patch"] or s["width"] % s["heads"]:
        raise ValueError("settings: image_size must be a multiple of patch, width of heads")
    return s


# ---- model -----------------------------------------------------------------------------

class LoRALinear(nn.Module):
    """W x + (alpha / r) B A x, A ~ N(0, 1/r), B = 0: the adapter starts as a no-op."""

    def __init__(self, base: nn.Linear):
        super().__init__()
        self.base = base
        self.a = self.b = None
        self.scale = 0.0

    def enable(self, rank, alpha, gen):
        self.a = nn.Parameter(torch.randn(rank, self.base.in_features, generator=gen) / math.sqrt(rank))
        self.b = nn.Parameter(torch.zeros(self.base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x):
        y = self.base(x)
        if self.a is not None:
            y = y + self.scale * F.linear(F.linear(x, self.a), self.b)
        return y


def lin(i, o):
    return LoRALinear(nn.Linear(i, o))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = lin(d, 3 * d), lin(d, d)  # attn
        self.fc1, self.fc2 = lin(d, 4 * d), lin(4 * d, d)  # ffn
        self.mod = lin(d, 6 * d)  # modulation (adaLN-Zero)
        nn.init.zeros_(self.mod.base.weight)
        nn.init.zeros_(self.mod.base.bias)
        self.n1 = nn.LayerNorm(d, elementwise_affine=False)
        self.n2 = nn.LayerNorm(d, elementwise_affine=False)

    def sets(self):
        return {"attn": [self.qkv, self.proj], "ffn": [self.fc1, self.fc2], "modulation": [self.mod]}

    def forward(self, x, c):  # x [B, N, D], c [B, D]
        sh1, sc1, g1, sh2, sc2, g2 = self.mod(F.silu(c)).unsqueeze(1).chunk(6, dim=-1)
        h = self.n1(x) * (1 + sc1) + sh1
        b, n, d = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)  # torch 1.13 has no SDPA
        a = (w @ v).transpose(1, 2).reshape(b, n, d)
        x = x + g1 * self.proj(a)
        h = self.n2(x) * (1 + sc2) + sh2
        return x + g2 * self.fc2(F.gelu(self.fc1(h)))


class DiT(nn.Module):
    """Tokens of the H x 2W canvas (target left, clean reference right), conditioned on the
    time and the pooled prompt; predicts the velocity of every canvas position."""

    def __init__(self, s):
        super().__init__()
        self.size, self.patch, d = s["image_size"], s["patch"], s["width"]
        g = self.size // self.patch
        self.grid = (g, 2 * g)
        self.embed = nn.Linear(3 * self.patch ** 2, d)
        self.pos = nn.Parameter(torch.randn(1, g * 2 * g, d) * 0.02)  # distinct for target and reference
        self.text = nn.EmbeddingBag(VOCAB + 1, d, mode="mean")
        self.time = nn.Sequential(nn.Linear(64, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(d, s["heads"]) for _ in range(s["depth"]))
        self.out_norm = nn.LayerNorm(d, elementwise_affine=False)
        self.out = nn.Linear(d, 3 * self.patch ** 2)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z, t, ids):  # z [B, 3, S, 2S], t [B], ids [B, TEXT_LEN]
        b, p = z.shape[0], self.patch
        gh, gw = self.grid
        x = z.unfold(2, p, p).unfold(3, p, p).permute(0, 2, 3, 1, 4, 5).reshape(b, gh * gw, -1)
        x = self.embed(x) + self.pos
        half = torch.exp(-math.log(10000) * torch.arange(32, device=z.device) / 32)
        te = torch.cat([torch.sin(1000 * t[:, None] * half), torch.cos(1000 * t[:, None] * half)], dim=1)
        c = self.time(te) + self.text(ids)
        for blk in self.blocks:
            x = blk(x, c)
        x = self.out(self.out_norm(x))
        x = x.view(b, gh, gw, 3, p, p).permute(0, 3, 1, 4, 2, 5).reshape(b, 3, gh * p, gw * p)
        return x

    def lora(self, layers, rank, alpha, gen):
        for p in self.parameters():
            p.requires_grad_(False)
        for blk in self.blocks:
            for name in layers:
                for m in blk.sets()[name]:
                    m.enable(rank, alpha, gen)

    def adapters(self):
        return {k: v for k, v in self.state_dict().items() if k.endswith(".a") or k.endswith(".b")}


# ---- data ------------------------------------------------------------------------------

def tokens(prompt):
    words = [w for w in prompt.lower().replace(",", " ").split() if w != "sks"][:TEXT_LEN]
    ids = [zlib.crc32(w.encode()) % VOCAB for w in words] or [VOCAB]  # VOCAB: the empty prompt
    return ids + [ids[-1]] * (TEXT_LEN - len(ids))


def load_image(path, size):
    img = Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)


def load_data(manifest, size):
    base = os.path.dirname(manifest)
    refs, tgts, ids = [], [], []
    with open(manifest) as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            refs.append(load_image(os.path.join(base, row["reference"]), size))
            tgts.append(load_image(os.path.join(base, row["generated"]), size))
            ids.append(tokens(row["prompt"]))
    if not refs:
        raise ValueError(f"{manifest}: no training rows")
    return torch.stack(refs), torch.stack(tgts), torch.tensor(ids)


def cfm_step(model, ref, tgt, ids, mode, gen, device):
    """One conditional-flow-matching loss: z_t = (1 - t) z0 + t z1, z1 ~ N(0, I); the model
    predicts v = z0 - z1 on the canvas [target | clean reference]."""
    b = tgt.shape[0]
    t = torch.rand(b, generator=gen).to(device)
    z1 = torch.randn(tgt.shape, generator=gen).to(device)
    zt = (1 - t[:, None, None, None]) * tgt + t[:, None, None, None] * z1
    v = model(torch.cat([zt, ref], dim=3), t, ids)
    want = torch.cat([tgt - z1, ref - torch.randn(ref.shape, generator=gen).to(device)], dim=3)
    err = (v - want) ** 2
    if mode == "masked":  # only the target half: the reference is a condition, not a target
        return err[..., : tgt.shape[3]].mean()
    return err.mean()


def train_loop(model, params, data, steps, batch, lr, mode, gen, device, progress, with_ref=True):
    refs, tgts, ids = data
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    for step in range(1, steps + 1):
        idx = torch.randint(len(tgts), (batch,), generator=gen)
        ref = refs[idx].to(device) if with_ref else torch.zeros_like(tgts[idx]).to(device)
        loss = cfm_step(model, ref, tgts[idx].to(device), ids[idx].to(device), mode, gen, device)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, steps // 10) == 0 or step == steps:
            progress(step, steps, float(loss))


# ---- protocol handlers -----------------------------------------------------------------

class Generator:
    def __init__(self, device, base_cache):
        self.device, self.base_cache = device, base_cache
        self.loaded = {}  # checkpoint folder -> model

    def base_model(self, s, data_path, data, gen, progress):
        """The pretrained base: text -> image with a zero reference, cached by its settings."""
        key = {k: s[k] for k in ("image_size", "patch", "width", "depth", "heads", "base_steps", "base_lr", "batch", "seed")}
        key["data"] = hashlib.sha256(open(data_path, "rb").read()).hexdigest()
        h = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        path = os.path.join(self.base_cache, f"base-{h}.pt") if self.base_cache else None
        model = DiT(s).to(self.device)
        if path and os.path.exists(path):
            model.load_state_dict(torch.load(path, map_location=self.device))
            log(f"base {path} reused")
            return model, path
        torch.manual_seed(s["seed"])
        model = DiT(s).to(self.device)
        start = time.time()
        train_loop(model, list(model.parameters()), data, s["base_steps"], s["batch"], s["base_lr"], "masked", gen,
                   self.device, lambda i, n, l: progress(i, n, f"base loss {l:.4f}"), with_ref=False)
        log(f"base pretrained: {s['base_steps']} steps in {time.time() - start:.1f}s")
        if path:
            os.makedirs(self.base_cache, exist_ok=True)
            tmp = path + f".tmp{os.getpid()}"
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, path)
        return model, path

    def train(self, req):
        s = settings_of(req)
        gen = torch.Generator().manual_seed(s["seed"])
        data = load_data(req["data"], s["image_size"])
        rid = req["id"]
        progress = lambda i, n, msg: send({"type": "progress", "id": rid, "done": i, "total": n, "message": msg})
        model, _ = self.base_model(s, req["data"], data, gen, progress)
        model.lora(s["lora_layers"], s["rank"], s["alpha"], gen)
        model.to(self.device)
        params = [p for p in model.parameters() if p.requires_grad]
        start = time.time()
        train_loop(model, params, data, s["steps"], s["batch"], s["lr"], s["loss"], gen, self.device,
                   lambda i, n, l: progress(i, n, f"{s['loss']} loss {l:.4f}"))
        log(f"{req.get('variant')}: {s['steps']} LoRA steps in {time.time() - start:.1f}s "
            f"({s['steps'] / max(time.time() - start, 1e-9):.1f} steps/s), {sum(p.numel() for p in params)} adapter weights")
        ck = req["checkpoint"]
        torch.save(model.state_dict(), os.path.join(ck, "model.pt"))
        with open(os.path.join(ck, "settings.json"), "w") as f:
            json.dump({k: v for k, v in s.items()}, f, sort_keys=True)
        send({"type": "done", "id": rid})

    def model(self, ck):
        if ck not in self.loaded:
            with open(os.path.join(ck, "settings.json")) as f:
                s = json.load(f)
            m = DiT(s)
            m.lora(s["lora_layers"], s["rank"], s["alpha"], torch.Generator().manual_seed(0))
            m.load_state_dict(torch.load(os.path.join(ck, "model.pt"), map_location="cpu"))
            self.loaded[ck] = (m.to(self.device).eval(), s)
        return self.loaded[ck]

    @torch.no_grad()
    def generate(self, req):
        if not req.get("checkpoint"):
            raise ValueError("no checkpoint: this generator trains before it generates")
        model, trained = self.model(req["checkpoint"])
        s = settings_of(req)
        size = trained["image_size"]
        ref = load_image(req["reference"], size)[None].to(self.device)
        gen = torch.Generator().manual_seed(int(req["seed"]))
        z = torch.randn((1, 3, size, size), generator=gen).to(self.device)
        ids = torch.tensor([tokens(req["prompt"])], device=self.device)
        empty = torch.tensor([tokens("")], device=self.device)
        n = s["sample_steps"]
        for i in range(n, 0, -1):  # t from 1 to 0: z_{t - dt} = z_t + dt * v
            t = torch.full((1,), i / n, device=self.device)
            canvas = torch.cat([z, ref], dim=3)
            v = model(canvas, t, ids)
            if s["guidance"] != 1.0:
                v0 = model(canvas, t, empty)
                v = v0 + s["guidance"] * (v - v0)
            z = z + v[..., :size] / n
        img = ((z[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
        tmp = req["out"] + ".tmp.png"
        Image.fromarray(img).save(tmp)
        os.replace(tmp, req["out"])
        send({"type": "image", "id": req["id"], "image": req["out"]})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--base-cache", default="", help="folder keeping pretrained base models, shared by variants")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        log("error: --device cuda, but torch sees no CUDA GPU (torch.cuda.is_available() is False); use --device cpu")
        sys.exit(2)
    if a.threads:
        torch.set_num_threads(a.threads)
    g = Generator(torch.device(a.device), a.base_cache)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        kind = req.get("type")
        if kind == "hello":
            if req.get("protocol") != PROTOCOL:
                log(f"error: charisbench speaks protocol {req.get('protocol')}, this program {PROTOCOL}")
                sys.exit(2)
            send({"type": "hello", "protocol": PROTOCOL, "capabilities": ["train", "generate", "progress"]})
            continue
        try:
            if kind == "train":
                g.train(req)
            elif kind == "generate":
                g.generate(req)
            else:
                raise ValueError(f"unknown request type {kind!r}")
        except Exception as e:  # the sample's (or the stage's) error, and go on
            log(f"{req.get('id')}: {type(e).__name__}: {e}")
            send({"type": "error", "id": req.get("id", ""), "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
