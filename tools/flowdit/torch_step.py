#!/usr/bin/python3
"""PyTorch twin of generators/flowdit's model, for `make bench-generator`: the same
architecture and sizes (the Tiny config), batch and loss, timed on one CPU thread.

Prints "torch_step_ms=X" (median train step, Adam) and "torch_matmul_gflops=Y"
(a 256x256x256 float32 matmul). Needs Debian's python3-torch; a development tool only.

    /usr/bin/python3 tools/flowdit/torch_step.py [--batch 8] [--steps 20]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

# generators/flowdit Tiny.
IMAGE, CH, PATCH, DIM, DEPTH, HEADS, TEXT_LEN, VOCAB, TEXT_DEPTH = 32, 3, 4, 64, 2, 4, 24, 2048, 1


def rope_tables(text_len, gh, gw, hd):
    q = hd // 4
    n = text_len + gh * gw
    cos = torch.ones(n, hd)
    sin = torch.zeros(n, hd)
    for r in range(gh):
        for col in range(gw):
            tok = text_len + r * gw + col
            for axis, pos in enumerate((r, col)):
                base = axis * hd // 2
                for f in range(q):
                    theta = pos * 100 ** (-f / q)
                    for i in (base + f, base + f + q):
                        cos[tok, i], sin[tok, i] = math.cos(theta), math.sin(theta)
    return cos, sin


def rotate_half(x, hd):
    q = hd // 4
    a1, b1, a2, b2 = x[..., :q], x[..., q:2 * q], x[..., 2 * q:3 * q], x[..., 3 * q:]
    return torch.cat([-b1, a1, -b2, a2], -1)


def layer_norm(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


def mha(q, k, v):  # [B, N, H, hd]
    b, n, h, hd = q.shape
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    att = (q @ k.transpose(-1, -2) / math.sqrt(hd)).softmax(-1)
    return (att @ v).transpose(1, 2).reshape(b, n, h * hd)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.mod = nn.Linear(DIM, 6 * DIM)
        nn.init.zeros_(self.mod.weight), nn.init.zeros_(self.mod.bias)
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.up, self.down = nn.Linear(DIM, 4 * DIM), nn.Linear(4 * DIM, DIM)

    def forward(self, x, cond, cos, sin):
        b, n, _ = x.shape
        hd = DIM // HEADS
        s = self.mod(cond).chunk(6, -1)
        h = layer_norm(x) * (1 + s[1][:, None]) + s[0][:, None]
        q, k, v = (f(h).reshape(b, n, HEADS, hd) for f in (self.q, self.k, self.v))
        c, sn = cos[None, :, None], sin[None, :, None]
        q, k = q * c + rotate_half(q, hd) * sn, k * c + rotate_half(k, hd) * sn
        x = x + s[2][:, None] * self.o(mha(q, k, v))
        h = layer_norm(x) * (1 + s[4][:, None]) + s[3][:, None]
        return x + s[5][:, None] * self.down(F.gelu(self.up(h)))


class TextBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.up, self.down = nn.Linear(DIM, 2 * DIM), nn.Linear(2 * DIM, DIM)

    def forward(self, x):
        b, n, _ = x.shape
        h = layer_norm(x)
        q, k, v = (f(h).reshape(b, n, HEADS, DIM // HEADS) for f in (self.q, self.k, self.v))
        x = x + self.o(mha(q, k, v))
        return x + self.down(F.gelu(self.up(layer_norm(x))))


class FlowDiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Linear(PATCH * PATCH * CH, DIM)
        self.embed = nn.Embedding(VOCAB, DIM)
        self.pos = nn.Parameter(torch.randn(TEXT_LEN, DIM) * 0.02)
        self.text_blocks = nn.ModuleList(TextBlock() for _ in range(TEXT_DEPTH))
        self.t0, self.t1 = nn.Linear(DIM, DIM), nn.Linear(DIM, DIM)
        self.pooled = nn.Linear(DIM, DIM)
        self.blocks = nn.ModuleList(Block() for _ in range(DEPTH))
        self.final_mod = nn.Linear(DIM, 2 * DIM)
        self.proj = nn.Linear(DIM, PATCH * PATCH * CH)
        nn.init.zeros_(self.proj.weight), nn.init.zeros_(self.proj.bias)
        gh, gw = IMAGE // PATCH, 2 * IMAGE // PATCH
        self.cos, self.sin = rope_tables(TEXT_LEN, gh, gw, DIM // HEADS)

    def forward(self, zt, t, ids):
        b = zt.shape[0]
        gh, gw, p = IMAGE // PATCH, 2 * IMAGE // PATCH, PATCH
        img = zt.reshape(b, gh, p, gw, p, CH).permute(0, 1, 3, 2, 4, 5).reshape(b, gh * gw, p * p * CH)
        img = self.patch(img)
        txt = self.embed(ids) + self.pos
        for blk in self.text_blocks:
            txt = blk(txt)
        txt = layer_norm(txt)
        half = DIM // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
        arg = (1000 * t)[:, None] * freqs[None]
        temb = self.t1(F.silu(self.t0(torch.cat([arg.sin(), arg.cos()], -1))))
        cond = F.silu(temb + self.pooled(txt.mean(1)))
        x = torch.cat([txt, img], 1)
        for blk in self.blocks:
            x = blk(x, cond, self.cos, self.sin)
        img = x[:, TEXT_LEN:]
        sh, sc = self.final_mod(cond).chunk(2, -1)
        out = self.proj(layer_norm(img) * (1 + sc[:, None]) + sh[:, None])
        return out.reshape(b, gh, gw, p, p, CH).permute(0, 1, 3, 2, 4, 5).reshape(b, gh * p, gw * p, CH)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = FlowDiT()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    b = args.batch
    target = torch.rand(b, IMAGE, IMAGE, CH) * 2 - 1
    ref = torch.rand(b, IMAGE, IMAGE, CH) * 2 - 1
    ids = torch.randint(0, VOCAB, (b, TEXT_LEN))
    mask = torch.cat([torch.ones(b, IMAGE, IMAGE, CH), torch.zeros(b, IMAGE, IMAGE, CH)], 2)
    times = []
    for step in range(args.steps + 2):
        start = time.perf_counter()
        z1 = torch.randn(b, IMAGE, 2 * IMAGE, CH)
        t = torch.rand(b)
        tb = t[:, None, None, None]
        zt = torch.cat([(1 - tb) * target + tb * z1[:, :, :IMAGE], ref], 2)
        v = model(zt, t, ids)
        z0 = torch.cat([target, ref], 2)
        loss = (mask * (z0 - z1 - v) ** 2).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= 2:  # warm-up
            times.append(time.perf_counter() - start)
    print(f"torch_step_ms={1000 * statistics.median(times):.2f}")
    a, bb = torch.randn(256, 256), torch.randn(256, 256)
    reps = []
    for _ in range(30):
        start = time.perf_counter()
        a @ bb
        reps.append(time.perf_counter() - start)
    print(f"torch_matmul_gflops={2 * 256 ** 3 / statistics.median(reps) / 1e9:.2f}")


if __name__ == "__main__":
    main()
