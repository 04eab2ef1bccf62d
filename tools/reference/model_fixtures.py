#!/usr/bin/env python3
"""Golden tiny-model fixtures for the longctx model, produced by Hugging Face transformers itself.

Mode 1 (fixtures):  python3 tools/reference/model_fixtures.py --out DIR
  Builds tiny random models with transformers (fixed torch seed), saves each with
  save_pretrained into DIR/<name>/ (config.json, safetensors, generation_config.json), reloads
  the saved folder with AutoModelForCausalLM (float32, eager attention) and records its logits
  for fixed input ids in DIR/<name>/reference.json, with the versions that produced them:

  * llama-gqa-yarn    LlamaForCausalLM, 4 heads / 2 kv heads (GQA), head_dim 16, yarn factor 4
                      over original_max_position_embeddings 16, separate lm_head; also a case
                      with non-contiguous position ids (as PoSE produces) and two equal-length
                      inputs that the Java test runs as one batch. The position-id case passes an
                      all-ones attention mask (see forward()).
  * qwen2-bias-tied   Qwen2ForCausalLM: q/k/v biases (random, not zero), tied embeddings,
                      linear rope factor 2.
  * mistral-sharded   MistralForCausalLM, sliding_window 4096: longer than every input here, so
                      transformers' output is what full attention gives (longctx switches the
                      sliding window off). Saved with max_shard_size 100KB (real transformers
                      shards + index), and its config.json is rewritten into the transformers-4
                      form (top-level rope_theta, rope_scaling null) to test that form.
  * llama3-bf16       LlamaForCausalLM with llama3 rope, saved in bfloat16. The reference loads
                      it as float32 (bf16 -> f32 is exact), so Java reading BF16 as float32 must
                      match within the same 1e-4 as the float32 fixtures.

  Weights are drawn with a scale that makes activations O(1) (normal(0, 1/sqrt(fan_in)) for
  linear layers, norms 1 + 0.1 N(0,1), biases 0.1 N(0,1)), so attention is far from uniform and
  every part of the model moves the logits. Logits are float32 values written as the shortest
  decimal that reads back as the same float32.

Mode 2 (export check):
  python3 tools/reference/model_fixtures.py --check-export DIR --logits FILE --input-ids 1,5,9
      [--tolerance 1e-4]
  Loads a folder written by `bin/longctx export` with AutoModelForCausalLM (float32, eager), runs
  the input ids and compares with FILE = the JSON printed by `bin/longctx score` ({"logits":
  [[...], ...]}). Prints the rope config transformers resolved and the largest absolute
  difference; exits 1 when it exceeds the tolerance. Several checks may be given as
  --check-export D1 --logits F1 --check-export D2 --logits F2 (pairwise, same input ids).

Mode 3 (record an export):
  python3 tools/reference/model_fixtures.py --record-export DIR --cases FILE --out-reference FILE2
  Loads a folder written by `bin/longctx export` with AutoModelForCausalLM (float32, eager) and
  writes FILE2 in the reference.json form above: transformers' logits for every case of FILE
  ({"cases": [{"name": ..., "input_ids": [...]}, ...]}) and the rope config transformers resolved
  from our config.json. A Java test re-exports the same folder and compares its logits with
  these (the longrope export, below and above original_max_position_embeddings).

Needs torch and transformers (written against 5.x; 4.4x also works for mode 2). CPU, seconds.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

HIDDEN = 64
HEADS = 4
KV_HEADS = 2
HEAD_DIM = 16
INTERMEDIATE = 64
LAYERS = 2


def f32(x):
    """Shortest decimal that reads back as the same float32."""
    return float(str(np.float32(x)))


def rows(t):
    t = t.detach().cpu().to(torch.float32)
    return [[f32(v) for v in r] for r in t.reshape(-1, t.shape[-1]).tolist()]


def v5():
    return int(transformers.__version__.split(".")[0]) >= 5


def make_config(cls, rope, theta, **kw):
    """A config in whichever rope form this transformers generation takes."""
    if v5():
        params = dict(rope)
        params["rope_theta"] = theta
        return cls(rope_parameters=params, **kw)
    scaling = None if rope["rope_type"] == "default" else dict(rope)
    return cls(rope_scaling=scaling, rope_theta=theta, **kw)


def randomize(model, seed, embed_std=1.0):
    """O(1)-scale random weights (the default 0.02 init makes attention nearly uniform)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(embed_std * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / np.sqrt(p.shape[-1]))


def load(folder):
    kw = {"attn_implementation": "eager"}
    try:
        return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kw).eval()
    except TypeError:
        return AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, **kw).eval()


def forward(model, ids, positions=None):
    """Logits [seq, vocab]. With explicit position ids an all-ones attention mask is passed:
    without one, transformers 5 reads every jump in the position ids as the start of another
    packed sequence and blocks attention across it, whereas PoSE-style skipped positions belong
    to one sequence under one causal mask (as in transformers 4 and the PoSE reference code)."""
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long)
        if positions is None:
            return model(input_ids=x, use_cache=False).logits[0]
        pos = torch.tensor([positions], dtype=torch.long)
        return model(input_ids=x, position_ids=pos, attention_mask=torch.ones_like(x), use_cache=False).logits[0]


def logits_of(model, ids, positions=None):
    return forward(model, ids, positions)


def float64_gap(model, ids, positions=None):
    """How far float32 is from float64 on this input: the noise floor of any float32 comparison."""
    m64 = model.to(torch.float64)
    try:
        l64 = forward(m64, ids, positions)
    finally:
        model.to(torch.float32)
    return float((l64 - logits_of(model, ids, positions).to(torch.float64)).abs().max())


def save(model, folder, **kw):
    try:
        model.save_pretrained(folder, safe_serialization=True, **kw)
    except TypeError:
        model.save_pretrained(folder, **kw)


def to_v4_form(folder):
    """Rewrites config.json in the transformers-4 form: top-level rope_theta, rope_scaling."""
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    params = cfg.pop("rope_parameters", None) or {}
    cfg["rope_theta"] = params.get("rope_theta", cfg.get("rope_theta"))
    scaling = {k: v for k, v in params.items() if k != "rope_theta"}
    cfg["rope_scaling"] = None if scaling.get("rope_type", "default") == "default" else scaling
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def cases(vocab, rng, extra=()):
    long_len = 40
    out = [
        {"name": "short", "input_ids": [1, 5, 9], "position_ids": None},
        {"name": "long", "input_ids": rng.integers(0, vocab, long_len).tolist(), "position_ids": None},
    ]
    out.extend(extra)
    return out


def build(out_dir):
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float32)
    rng = np.random.default_rng(1234)
    common = dict(hidden_size=HIDDEN, intermediate_size=INTERMEDIATE, num_hidden_layers=LAYERS,
                  num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM,
                  rms_norm_eps=1e-5, hidden_act="silu", bos_token_id=1, eos_token_id=2)
    specs = []

    from transformers import LlamaConfig, MistralConfig, Qwen2Config, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM

    # llama: GQA + yarn; long input (40) is beyond original_max_position_embeddings (16)
    vocab = 128
    pose_positions = list(range(0, 12)) + list(range(30, 58))
    long_b = rng.integers(0, vocab, 40).tolist()
    specs.append(dict(
        name="llama-gqa-yarn", cls=LlamaForCausalLM, seed=11, embed_std=1.0,
        config=make_config(LlamaConfig, {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16},
                           10000.0, vocab_size=vocab, max_position_embeddings=64, tie_word_embeddings=False,
                           attention_bias=False, mlp_bias=False, **common),
        cases=cases(vocab, rng, [
            {"name": "long_b", "input_ids": long_b, "position_ids": None},
            {"name": "pose_positions", "input_ids": long_b, "position_ids": pose_positions},
        ])))

    vocab = 96
    specs.append(dict(
        name="qwen2-bias-tied", cls=Qwen2ForCausalLM, seed=12, embed_std=0.5,
        config=make_config(Qwen2Config, {"rope_type": "linear", "factor": 2.0}, 1000000.0,
                           vocab_size=vocab, max_position_embeddings=128, tie_word_embeddings=True,
                           use_sliding_window=False, **common),
        cases=cases(vocab, rng)))

    vocab = 112
    specs.append(dict(
        name="mistral-sharded", cls=MistralForCausalLM, seed=13, embed_std=1.0, shard="100KB", v4_form=True,
        config=make_config(MistralConfig, {"rope_type": "default"}, 1000000.0,
                           vocab_size=vocab, max_position_embeddings=256, tie_word_embeddings=False,
                           sliding_window=4096, **common),
        cases=cases(vocab, rng)))

    vocab = 128
    specs.append(dict(
        name="llama3-bf16", cls=LlamaForCausalLM, seed=14, embed_std=1.0, bf16=True,
        config=make_config(LlamaConfig, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
                           500000.0, vocab_size=vocab, max_position_embeddings=128, tie_word_embeddings=False,
                           **common),
        cases=cases(vocab, rng)))

    for spec in specs:
        folder = os.path.join(out_dir, spec["name"])
        os.makedirs(folder, exist_ok=True)
        model = spec["cls"](spec["config"]).eval()
        randomize(model, spec["seed"], spec["embed_std"])
        if spec.get("bf16"):
            model = model.to(torch.bfloat16)
        kw = {"max_shard_size": spec["shard"]} if spec.get("shard") else {}
        save(model, folder, **kw)
        if spec.get("v4_form"):
            to_v4_form(folder)
        reloaded = load(folder)  # what a user gets from the saved folder
        records = []
        for c in spec["cases"]:
            logits = logits_of(reloaded, c["input_ids"], c["position_ids"])
            records.append({**c, "float64_max_abs_diff": float64_gap(reloaded, c["input_ids"], c["position_ids"]),
                            "logits": rows(logits)})
        files = sorted(os.listdir(folder))
        reference = {
            "reference": "Hugging Face transformers AutoModelForCausalLM.from_pretrained(this folder, float32, "
                         "attn_implementation=eager) forward on CPU; weights random (torch seed %d)" % spec["seed"],
            "created_by": "tools/reference/model_fixtures.py",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "architecture": spec["cls"].__name__,
            "saved_dtype": "bfloat16" if spec.get("bf16") else "float32",
            "config_form": "transformers-4 (rope_theta + rope_scaling)" if spec.get("v4_form") else "as saved",
            "files": files,
            "tolerance_float32": 1e-4,
            "cases": records,
        }
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(reference, f, separators=(",", ":"))
        gaps = max(r["float64_max_abs_diff"] for r in records)
        print(f"{spec['name']}: {files}, max |f32-f64| {gaps:.2e}, "
              f"logit range {min(min(r) for c in records for r in c['logits']):.2f}..{max(max(r) for c in records for r in c['logits']):.2f}")


def check_export(folders, logit_files, input_ids, tolerance):
    ok = True
    for folder, logit_file in zip(folders, logit_files):
        model = load(folder)
        with open(logit_file) as f:
            ours = torch.tensor(json.load(f)["logits"], dtype=torch.float32)
        theirs = logits_of(model, input_ids)
        if ours.shape != theirs.shape:
            print(f"FAIL {folder}: our logits have shape {tuple(ours.shape)}, transformers' {tuple(theirs.shape)}")
            ok = False
            continue
        diff = float((ours - theirs).abs().max())
        cfg = model.config
        rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None)
        verdict = "OK" if diff <= tolerance else "FAIL"
        print(f"{verdict} {folder}: {type(model).__name__}, rope {rope}, "
              f"max |ours - transformers| = {diff:.3e} (tolerance {tolerance:g}) over {tuple(theirs.shape)} logits")
        ok = ok and diff <= tolerance
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    return ok


def record_export(folder, cases_file, out_file):
    model = load(folder)
    with open(cases_file) as f:
        cases_in = json.load(f)["cases"]
    records = []
    for c in cases_in:
        logits = logits_of(model, c["input_ids"])
        records.append({"name": c["name"], "input_ids": c["input_ids"], "position_ids": None,
                        "float64_max_abs_diff": float64_gap(model, c["input_ids"]), "logits": rows(logits)})
    cfg = model.config
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None)
    reference = {
        "reference": "Hugging Face transformers AutoModelForCausalLM.from_pretrained(a folder written by longctx "
                     "export, float32, attn_implementation=eager) forward on CPU",
        "created_by": "tools/reference/model_fixtures.py --record-export",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "architecture": type(model).__name__,
        "rope_resolved": rope,
        "tolerance_float32": 1e-4,
        "cases": records,
    }
    with open(out_file, "w") as f:
        json.dump(reference, f, separators=(",", ":"))
    print(f"recorded {len(records)} cases of {folder} (rope {rope}) into {out_file}; "
          f"max |f32-f64| {max(r['float64_max_abs_diff'] for r in records):.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="fixture folder to create (mode 1)")
    ap.add_argument("--check-export", action="append", default=[], help="folder written by longctx export (mode 2)")
    ap.add_argument("--logits", action="append", default=[], help="JSON from longctx score, one per --check-export")
    ap.add_argument("--input-ids", help="comma-separated ids the logits were computed for (mode 2)")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--record-export", help="folder written by longctx export (mode 3)")
    ap.add_argument("--cases", help="JSON {\"cases\": [{\"name\", \"input_ids\"}]} (mode 3)")
    ap.add_argument("--out-reference", help="reference.json to write (mode 3)")
    args = ap.parse_args()
    if args.record_export:
        if not args.cases or not args.out_reference:
            ap.error("--record-export needs --cases FILE and --out-reference FILE")
        record_export(args.record_export, args.cases, args.out_reference)
        return
    if args.check_export:
        if len(args.logits) != len(args.check_export) or not args.input_ids:
            ap.error("give one --logits per --check-export, and --input-ids")
        ids = [int(x) for x in args.input_ids.split(",")]
        sys.exit(0 if check_export(args.check_export, args.logits, ids, args.tolerance) else 1)
    if not args.out:
        ap.error("give --out DIR, or --check-export DIR --logits FILE --input-ids ...")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    build(args.out)


if __name__ == "__main__":
    main()
