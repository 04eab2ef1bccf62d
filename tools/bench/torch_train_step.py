#!/usr/bin/env python3
"""PyTorch eager reference for `longctx bench train`.

Trains the same Llama-style model as the Java benchmark (token embedding, RMSNorm, rotary
attention computed as matmul + causal mask + softmax + matmul, SwiGLU MLP, untied output head)
with the same step: mean next-token cross-entropy, backward, global-norm clipping to 1.0, AdamW
(betas 0.9/0.95, weight decay 0.1 on matrices), on random tokens. Prints one JSON line:
tokens/s over the timed steps and the process's peak resident memory.

Needs only torch (Debian: apt-get install python3-torch). Usage:
  python3 tools/bench/torch_train_step.py --hidden 128 --layers 4 --heads 4 --intermediate 344 \
      --vocab 259 --batch 8 --seq-len 512 --warmup 3 --steps 10
"""
import argparse
import json
import math
import os
import re
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        h, self.heads, self.head_dim = a.hidden, a.heads, a.hidden // a.heads
        self.attention_norm = RMSNorm(h, 1e-5)
        self.q = nn.Linear(h, h, bias=False)
        self.k = nn.Linear(h, h, bias=False)
        self.v = nn.Linear(h, h, bias=False)
        self.o = nn.Linear(h, h, bias=False)
        self.mlp_norm = RMSNorm(h, 1e-5)
        self.gate = nn.Linear(h, a.intermediate, bias=False)
        self.up = nn.Linear(h, a.intermediate, bias=False)
        self.down = nn.Linear(a.intermediate, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        y = self.attention_norm(x)
        q = self.q(y).view(b, t, self.heads, self.head_dim).transpose(1, 2)  # [b, heads, t, d]
        k = self.k(y).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(y).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask  # [b, heads, t, t]
        attended = scores.softmax(-1) @ v
        x = x + self.o(attended.transpose(1, 2).reshape(b, t, -1))
        y = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Llama(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embedding = nn.Embedding(a.vocab, a.hidden)
        self.blocks = nn.ModuleList([Block(a) for _ in range(a.layers)])
        self.norm = RMSNorm(a.hidden, 1e-5)
        self.output = nn.Linear(a.hidden, a.vocab, bias=False)
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
        d = a.hidden // a.heads
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
        freqs = torch.outer(torch.arange(a.seq_len).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin", emb.sin()[None, None], persistent=False)
        self.register_buffer("mask", torch.full((a.seq_len, a.seq_len), torch.finfo(torch.float32).min).triu(1),
                             persistent=False)

    def forward(self, ids):
        h = self.embedding(ids)
        for block in self.blocks:
            h = block(h, self.cos, self.sin, self.mask)
        return self.output(self.norm(h))


def blas():
    """Which BLAS torch was built for, and (Debian's 'generic' builds) which library it loads."""
    found = re.search(r"BLAS_INFO=([^,]+)", torch.__config__.show())
    info = found.group(1) if found else "unknown"
    alternative = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    if info == "generic" and os.path.exists(alternative):
        info += " -> " + os.path.realpath(alternative)
    return info


def main():
    p = argparse.ArgumentParser()
    for name, default in [("hidden", 128), ("layers", 4), ("heads", 4), ("intermediate", 344), ("vocab", 259),
                          ("batch", 8), ("seq-len", 512), ("warmup", 3), ("steps", 10), ("seed", 0), ("threads", 0)]:
        p.add_argument("--" + name, type=int, default=default)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Llama(a)
    decay = [q for q in model.parameters() if q.dim() >= 2]
    rest = [q for q in model.parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(a.seed)
    losses = []
    start = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        ids = torch.randint(0, a.vocab, (a.batch, a.seq_len), generator=g)
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "framework": "pytorch-eager",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "parameters": sum(q.numel() for q in model.parameters()),
        "steps": a.steps,
        "tokens_per_s": a.steps * a.batch * a.seq_len / seconds,
        "seconds_per_step": seconds / a.steps,
        "peak_rss_mb": peak_kb / 1024.0,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "blas": blas(),
    }))


if __name__ == "__main__":
    main()
