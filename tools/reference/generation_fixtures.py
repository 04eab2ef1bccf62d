#!/usr/bin/env python3
"""Golden decoding fixtures for the longctx KV cache, produced by Hugging Face transformers.

    python3 tools/reference/generation_fixtures.py --model trainer/src/test/resources/golden/llama-gqa-yarn \
        --out DIR

Loads the tiny GQA Llama that model_fixtures.py wrote, under several ropes (its own yarn, dynamic
NTK factor 2 over max_position_embeddings 64, longrope with short/long factors over
original_max_position_embeddings 16), and for each one records in DIR/hf_generate.json:

  * generated      the tokens transformers' greedy `generate` (KV cache, eager attention) picks;
  * generate_logits  the raw logits `generate` chose each of them from (output_logits=True): with
                   dynamic NTK and longrope transformers keeps the cached keys when the
                   frequencies change (dynamic: rescaled at every step beyond 64 tokens; longrope:
                   long factors beyond 16), which longctx's KvCache calls OnRopeChange.KEEP;
  * full_forward_logits  for every step, the last row of one forward over prompt + the tokens
                   generated so far, on a freshly loaded model (no cache, so every position uses
                   the frequencies of that length): what OnRopeChange.REBUILD reproduces.

The prompts cross the switch: dynamic 58 prompt tokens + 12 new (positions up to 69 > 64),
longrope 10 + 12 (up to 21 > 16). EOS is disabled so exactly 12 tokens are generated. Logits are
float32 written as the shortest decimal that reads back as the same float32. CPU, seconds.
"""
import argparse
import copy
import json
import os

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

NEW_TOKENS = 12

VARIANTS = [
    dict(name="yarn", rope=None, prompt_len=10),
    dict(name="dynamic", rope={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0}, prompt_len=58),
    dict(name="longrope", rope={
        "rope_type": "longrope", "factor": 4.0, "original_max_position_embeddings": 16, "rope_theta": 10000.0,
        "short_factor": [1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.0],
        "long_factor": [1.0, 1.2, 1.6, 2.2, 3.0, 4.0, 5.0, 6.0]}, prompt_len=10),
]


def f32(x):
    return float(str(np.float32(x)))


def row(t):
    return [f32(v) for v in t.detach().cpu().to(torch.float32).reshape(-1).tolist()]


def load(folder, rope):
    cfg = AutoConfig.from_pretrained(folder)
    if rope is not None:
        cfg.rope_parameters = copy.deepcopy(rope)
        if hasattr(cfg, "rope_scaling"):
            try:
                cfg.rope_scaling = copy.deepcopy(rope)
            except Exception:
                pass
    model = AutoModelForCausalLM.from_pretrained(folder, config=cfg, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print("transformers", transformers.__version__, "torch", torch.__version__)
    rng = np.random.default_rng(2024)
    vocab = AutoConfig.from_pretrained(args.model).vocab_size
    out = {"created_by": "tools/reference/generation_fixtures.py", "transformers": transformers.__version__,
           "torch": torch.__version__, "model": os.path.basename(os.path.normpath(args.model)),
           "new_tokens": NEW_TOKENS, "variants": []}
    for v in VARIANTS:
        prompt = rng.integers(3, vocab, v["prompt_len"]).tolist()
        model = load(args.model, v["rope"])
        print(v["name"], "rope resolved:", getattr(model.config, "rope_parameters", None))
        with torch.no_grad():
            res = model.generate(torch.tensor([prompt]), max_new_tokens=NEW_TOKENS, do_sample=False,
                                 output_logits=True, return_dict_in_generate=True, use_cache=True)
        generated = res.sequences[0, len(prompt):].tolist()
        assert len(generated) == NEW_TOKENS, generated
        gen_logits = [row(l[0]) for l in res.logits]
        full = []
        for t in range(NEW_TOKENS):
            fresh = load(args.model, v["rope"])  # no rope state carried over from an earlier length
            with torch.no_grad():
                ids = torch.tensor([prompt + generated[:t]])
                full.append(row(fresh(input_ids=ids, use_cache=False).logits[0, -1]))
        gap = max(max(abs(a - b) for a, b in zip(g, f)) for g, f in zip(gen_logits, full))
        print(v["name"], "generated", generated, "max |generate - full forward|", gap)
        out["variants"].append({"name": v["name"], "rope_parameters": v["rope"], "prompt": prompt,
                                "generated": generated, "generate_logits": gen_logits,
                                "full_forward_logits": full, "max_generate_vs_full": gap})
    with open(os.path.join(args.out, "hf_generate.json"), "w") as f:
        json.dump(out, f)
    print("wrote", os.path.join(args.out, "hf_generate.json"))


if __name__ == "__main__":
    main()
