#!/usr/bin/env python3
"""transformers' side of `GpuBench train` (docs/gpu.md): LlamaForCausalLM with SDPA attention,
the same config, random tokens, step and optimizer as longctx's benchmark (mean next-token
cross-entropy, backward, clip to 1.0, AdamW lr 1e-3 betas 0.9/0.95 weight decay 0.1, fused),
float32 master weights with float16 (GradScaler) or bfloat16 autocast, or plain float32.
Prints one JSON line: tokens/s and ms/step over the timed steps, torch's peak allocation.
With --profile PATH the timed steps run under torch.profiler and its Chrome trace goes to PATH.

Usage: python3 tools/bench/hf_train_bench.py --hidden 768 --layers 12 --heads 12 \
    --intermediate 2048 --vocab 32000 --batch 8 --seq-len 2048 --warmup 2 --steps 5 --dtype float16
"""
import argparse
import json
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    p = argparse.ArgumentParser()
    for k, d in [("hidden", 768), ("layers", 12), ("heads", 12), ("intermediate", 2048), ("vocab", 32000), ("batch", 8),
                 ("seq-len", 2048), ("warmup", 2), ("steps", 5)]:
        p.add_argument("--" + k, type=int, default=d)
    p.add_argument("--dtype", default="float16", choices=["float32", "float16", "bfloat16"])
    p.add_argument("--profile", help="record the timed steps with torch.profiler into this Chrome trace")
    a = p.parse_args()
    try:
        run(a)
    except torch.OutOfMemoryError as e:
        print(json.dumps({"framework": "transformers", "error": "out of memory: " + str(e).splitlines()[0]}))


def run(a):
    torch.manual_seed(0)
    dev = torch.device("cuda")
    config = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
                         num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.heads,
                         max_position_embeddings=a.seq_len, tie_word_embeddings=False)
    config._attn_implementation = "sdpa"
    model = LlamaForCausalLM(config).to(dev)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-3,
                            betas=(0.9, 0.95), eps=1e-8, fused=True)
    amp = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(a.dtype)
    scaler = torch.amp.GradScaler("cuda", enabled=a.dtype == "float16")
    gen = torch.Generator(device=dev).manual_seed(0)
    losses = []
    torch.cuda.reset_peak_memory_stats(dev)
    start = None
    profiler = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            torch.cuda.synchronize(dev)
            if a.profile:
                profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                              torch.profiler.ProfilerActivity.CUDA])
                profiler.__enter__()
            start = time.perf_counter()
        ids = torch.randint(0, a.vocab, (a.batch, a.seq_len), device=dev, generator=gen)
        with torch.autocast("cuda", dtype=amp, enabled=amp is not None):
            loss = model(input_ids=ids, labels=ids).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.__exit__(None, None, None)
        profiler.export_chrome_trace(a.profile)
    print(json.dumps({"framework": "transformers", "transformers": transformers.__version__, "torch": torch.__version__,
                      "dtype": a.dtype, "tokens_per_s": a.steps * a.batch * a.seq_len / seconds,
                      "seconds_per_step": seconds / a.steps,
                      "peak_gib": torch.cuda.max_memory_allocated(dev) / 2 ** 30,
                      "first_loss": losses[0], "last_loss": losses[-1]}))


if __name__ == "__main__":
    main()
