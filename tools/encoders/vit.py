"""Small transformer encoders shared by the tiny test encoders (tiny.py) and the encoders
trained for charis-world. Written with plain matmuls so torch.onnx.export (torch 1.13)
produces opset-14 graphs that ONNX Runtime runs on any build."""
import inspect

import torch
from torch import nn


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), x + mlp(ln(x))."""

    def __init__(self, dim, heads, causal=False):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):  # [N, T, D]
        n, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(n, t, 3, h, d // h).permute(2, 0, 3, 1, 4)  # [N,H,T,Dh]
        att = (q @ k.transpose(-1, -2)) * (d // h) ** -0.5  # [N, H, T, T]
        if self.causal:
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
            att = att.masked_fill(mask, float("-inf"))
        y = att.softmax(-1) @ v  # [N, H, T, Dh]
        x = x + self.out(y.transpose(1, 2).reshape(n, t, d))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    """Patchify (conv with stride = patch), CLS + register tokens, blocks, final norm.
    Returns all tokens [N, 1 + registers + (image/patch)^2, dim]."""

    def __init__(self, image, patch, dim, depth, heads, registers=0):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        grid = image // patch
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.reg = nn.Parameter(torch.randn(1, registers, dim) * 0.02) if registers else None
        self.pos = nn.Parameter(torch.randn(1, 1 + grid * grid, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.ln = nn.LayerNorm(dim)

    def forward(self, pixel_values):  # [N, 3, H, W]
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)  # [N, P, D]
        n = x.shape[0]
        x = torch.cat([self.cls.expand(n, -1, -1), x], 1) + self.pos  # [N, 1+P, D]
        if self.reg is not None:
            x = torch.cat([x[:, :1], self.reg.expand(n, -1, -1), x[:, 1:]], 1)  # DINOv2 order
        for b in self.blocks:
            x = b(x)
        return self.ln(x)


class TextTransformer(nn.Module):
    """CLIP-style text tower: token ids hashed into `buckets` embeddings (keeps the model
    small), causal blocks, pooled at the end-of-text token (the largest id, as CLIP does)."""

    def __init__(self, buckets, context, dim, depth, heads):
        super().__init__()
        self.buckets = buckets
        self.tok = nn.Embedding(buckets, dim)
        self.pos = nn.Parameter(torch.randn(1, context, dim) * 0.01)
        self.blocks = nn.ModuleList(Block(dim, heads, causal=True) for _ in range(depth))
        self.ln = nn.LayerNorm(dim)

    def forward(self, input_ids):  # [N, T] int64, T <= context
        # Causal attention: ids after the end token cannot change the pooled output, so
        # training may pass fewer than `context` ids; exports take the full context.
        x = self.tok(torch.remainder(input_ids, self.buckets)) + self.pos[:, : input_ids.shape[1]]  # [N, T, D]
        for b in self.blocks:
            x = b(x)
        x = self.ln(x)
        eot = input_ids.argmax(-1)  # [N]
        return x[torch.arange(x.shape[0]), eot]  # [N, D]


def export(model, example, path, inputs, outputs):
    """Exports with a dynamic batch axis (axis 0 of every input and output)."""
    axes = {name: {0: "batch"} for name in inputs + outputs}
    # Newer PyTorch defaults to its dynamo exporter, whose graphs differ: keep the TorchScript
    # one, which Debian's 1.13 has, so every machine writes the same kind of graph.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(model, example, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=14, do_constant_folding=True, **legacy)
