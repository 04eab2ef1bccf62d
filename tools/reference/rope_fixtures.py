#!/usr/bin/env python3
"""Golden rope fixtures for the positional module, produced by Hugging Face transformers itself.

For every case of a matrix (each rope type x head_dim 64 and 128 x several factors; dynamic
below and above max_position_embeddings; longrope on both sides of its switch, with the
in-dict and the Phi-3 top-level original_max_position_embeddings; yarn with mscale,
truncate=false, explicit attention_factor) this script

  * builds the model config from a transformers-5 style dict (rope_parameters with rope_theta
    inside) and from the transformers-4 style dict (rope_scaling + top-level rope_theta, some
    with the old `type` alias), checks that transformers resolves both to the same parameters
    and the same inverse frequencies,
  * records inv_freq and attention factor from ROPE_INIT_FUNCTIONS[rope_type](config, seq_len=S)
    (LlamaRotaryEmbedding.compute_default_rope_parameters for "default"),
  * runs a fresh LlamaRotaryEmbedding forward on CPU with position ids whose maximum is S-1 (so
    its dynamic / longrope update sees seq_len S) and records its inv_freq buffer, its
    attention_scaling and the cos/sin rows of a few positions.

ntk and yarn_pose are not transformers types: their values come from an independent float64
numpy derivation of the formulas in docs/methods.md (labelled "derived" in the file).
It also records one apply_rotary_pos_emb example and float16 cos/sin.

Usage: python3 tools/reference/rope_fixtures.py --out DIR   (writes DIR/rope_fixtures.json)
Needs transformers >= 5 (rope_parameters), torch and numpy; runs on CPU in seconds.
"""
import argparse
import copy
import json
import math
import os

import numpy as np
import torch
import transformers
from transformers import LlamaConfig, Phi3Config
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb
from transformers.models.phi3.modeling_phi3 import Phi3RotaryEmbedding

# the config and rotary classes transformers uses for each model_type of the matrix
MODEL_CLASSES = {"llama": (LlamaConfig, LlamaRotaryEmbedding), "phi3": (Phi3Config, Phi3RotaryEmbedding)}

HEADS = 4


def f32(x):
    """Shortest decimal that reads back as the same float32."""
    return float(str(np.float32(x)))


def f32_list(t):
    return [f32(v) for v in t.detach().cpu().to(torch.float32).reshape(-1).tolist()]


def rows(t):
    t = t.detach().cpu().to(torch.float32)
    return [[f32(v) for v in r] for r in t.reshape(-1, t.shape[-1]).tolist()]


def longrope_lists(d, factor, seed):
    """Monotone factor lists like LongRoPE's: short near 1, long from 1 up to about the factor."""
    rng = np.random.default_rng(seed)
    n = d // 2
    short = np.sort(1.0 + 0.25 * rng.random(n))
    ramp = np.linspace(0.0, 1.0, n) ** 1.5
    long = np.sort(1.0 + (factor - 1.0) * ramp + 0.05 * rng.random(n))
    return [round(float(v), 4) for v in short], [round(float(v), 4) for v in long]


def model_dims(d, explicit_head_dim, model_type="llama"):
    dims = {"model_type": model_type, "hidden_size": HEADS * d, "num_attention_heads": HEADS,
            "num_key_value_heads": HEADS, "intermediate_size": 2 * HEADS * d, "num_hidden_layers": 1,
            "vocab_size": 256}
    if explicit_head_dim:
        dims["head_dim"] = d
    return dims


def make_case(name, d, max_pos, theta, rope, seq_lens, type_alias=False, top_level_original=None,
              explicit_head_dim=False, omit_theta=False, model_type="llama"):
    """The v5 and v4 config.json dicts of one case."""
    v5 = model_dims(d, explicit_head_dim, model_type)
    v5["max_position_embeddings"] = max_pos
    params = dict(rope)
    if not omit_theta:
        params["rope_theta"] = theta
    v5["rope_parameters"] = params
    v4 = model_dims(d, explicit_head_dim, model_type)
    v4["max_position_embeddings"] = max_pos
    if not omit_theta:
        v4["rope_theta"] = theta
    scaling = {k: v for k, v in rope.items() if k != "rope_type"}
    if rope["rope_type"] == "default":
        v4["rope_scaling"] = None
    else:
        scaling = ({"type": rope["rope_type"]} if type_alias else {"rope_type": rope["rope_type"]}) | scaling
        v4["rope_scaling"] = scaling
    if top_level_original is not None:
        v5["original_max_position_embeddings"] = top_level_original
        v4["original_max_position_embeddings"] = top_level_original
    return {"name": name, "head_dim": d, "config_v5": v5, "config_v4": v4, "seq_lens": seq_lens}


def cases():
    out = []
    for d in (64, 128):
        out.append(make_case(f"default-d{d}-theta1e4", d, 2048, 10000.0, {"rope_type": "default"}, [2048]))
        out.append(make_case(f"default-d{d}-theta5e5", d, 8192, 500000.0, {"rope_type": "default"}, [8192],
                             explicit_head_dim=True))
        for factor in (2.0, 4.5, 8.0):
            out.append(make_case(f"linear-d{d}-f{factor}", d, 2048, 10000.0,
                                 {"rope_type": "linear", "factor": factor}, [2048], type_alias=True))
        for factor in (2.0, 4.0):
            out.append(make_case(f"dynamic-d{d}-f{factor}", d, 2048, 10000.0,
                                 {"rope_type": "dynamic", "factor": factor}, [1024, 2048, 6161], type_alias=True))
        out.append(make_case(f"yarn-d{d}-f4-L2048", d, 8192, 10000.0,
                             {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}, [8192]))
        out.append(make_case(f"yarn-d{d}-f16-L4096", d, 65536, 10000.0,
                             {"rope_type": "yarn", "factor": 16.0, "original_max_position_embeddings": 4096}, [65536]))
        out.append(make_case(f"yarn-d{d}-f2.5-noL0", d, 4096, 10000.0,
                             {"rope_type": "yarn", "factor": 2.5}, [4096]))
        out.append(make_case(f"yarn-d{d}-mscale", d, 16384, 10000.0,
                             {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 2048,
                              "mscale": 1.0, "mscale_all_dim": 0.5}, [16384]))
        out.append(make_case(f"yarn-d{d}-notruncate", d, 8192, 10000.0,
                             {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048,
                              "truncate": False}, [8192]))
        out.append(make_case(f"yarn-d{d}-explicit", d, 8192, 10000.0,
                             {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048,
                              "attention_factor": 1.25, "beta_fast": 16.0, "beta_slow": 2.0}, [8192]))
        out.append(make_case(f"yarn-d{d}-qwen", d, 32768, 1000000.0,
                             {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768},
                             [32768], explicit_head_dim=True))
        short, long = longrope_lists(d, 32.0, seed=d)
        out.append(make_case(f"longrope-d{d}-dict", d, 131072, 10000.0,
                             {"rope_type": "longrope", "short_factor": short, "long_factor": long,
                              "original_max_position_embeddings": 4096}, [4096, 4097, 131072]))
        out.append(make_case(f"longrope-d{d}-phi3", d, 131072, 10000.0,
                             {"rope_type": "longrope", "short_factor": short, "long_factor": long},
                             [4096, 4097], type_alias=True, top_level_original=4096, model_type="phi3"))
        short8, long8 = longrope_lists(d, 8.0, seed=d + 1)
        out.append(make_case(f"longrope-d{d}-explicit", d, 16384, 10000.0,
                             {"rope_type": "longrope", "short_factor": short8, "long_factor": long8, "factor": 8.0,
                              "attention_factor": 1.1, "original_max_position_embeddings": 2048}, [2048, 2049]))
        out.append(make_case(f"longrope-d{d}-conflict", d, 131072, 10000.0,
                             {"rope_type": "longrope", "short_factor": short, "long_factor": long,
                              "original_max_position_embeddings": 2048}, [3000, 5000], top_level_original=4096,
                             model_type="phi3"))
        out.append(make_case(f"llama3-d{d}-f8", d, 131072, 500000.0,
                             {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192}, [131072]))
        out.append(make_case(f"llama3-d{d}-f32", d, 131072, 500000.0,
                             {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 2.0, "high_freq_factor": 8.0,
                              "original_max_position_embeddings": 8192}, [131072]))
    out.append(make_case("default-d64-no-theta", 64, 2048, None, {"rope_type": "default"}, [2048], omit_theta=True))
    return out


def positions_for(seq_len):
    """A few positions below seq_len, always including seq_len - 1 (which sets the module's seq_len)."""
    return sorted({p for p in (0, 5, 1000, 4095) if p < seq_len} | {seq_len - 1})


def init_params(config, seq_len):
    rope_type = config.rope_parameters["rope_type"]
    if rope_type == "default":
        inv, att = MODEL_CLASSES[config.model_type][1].compute_default_rope_parameters(config)
    else:
        inv, att = ROPE_INIT_FUNCTIONS[rope_type](config, None, seq_len=seq_len)
    return inv, float(att)


def module_run(config, positions, dtype=torch.float32):
    module = MODEL_CLASSES[config.model_type][1](config)
    x = torch.zeros(1, 1, 1, dtype=dtype)
    pos = torch.tensor([positions], dtype=torch.long)
    cos, sin = module(x, pos)
    return module, cos[0], sin[0]


def plain(params):
    return {k: v for k, v in params.items() if k != "type"}


def load(config_dict):
    return MODEL_CLASSES[config_dict["model_type"]][0].from_dict(copy.deepcopy(config_dict))


def run_case(case, problems):
    cfg5 = load(case["config_v5"])
    cfg4 = load(case["config_v4"])
    p5, p4 = plain(dict(cfg5.rope_parameters)), plain(dict(cfg4.rope_parameters))
    same_params = p5 == p4
    if not same_params:
        problems.append(f"{case['name']}: v4 resolves to {p4}, v5 to {p5}")
    evaluations = []
    for seq_len in case["seq_lens"]:
        inv5, att5 = init_params(cfg5, seq_len)
        inv4, att4 = init_params(cfg4, seq_len)
        if not (torch.equal(inv5, inv4) and att5 == att4):
            problems.append(f"{case['name']} seq_len {seq_len}: v4 and v5 inv_freq differ")
        positions = positions_for(seq_len)
        module, cos, sin = module_run(cfg5, positions)
        evaluations.append({
            "seq_len": seq_len,
            "init_inv_freq": f32_list(inv5),
            "init_attention_factor": att5,
            "module_inv_freq": f32_list(module.inv_freq),
            "module_attention_factor": float(module.attention_scaling),
            "positions": positions,
            "cos": rows(cos),
            "sin": rows(sin),
        })
    resolved = {k: v for k, v in p5.items()}
    extra = {}
    if case["config_v5"]["model_type"] == "phi3":
        # transformers 5's LlamaConfig drops a top-level original_max_position_embeddings; Phi3Config keeps it
        as_llama = LlamaConfig.from_dict(copy.deepcopy(case["config_v5"] | {"model_type": "llama"}))
        extra["llama_config_resolves_original_to"] = as_llama.rope_parameters.get("original_max_position_embeddings")
    return {"name": case["name"], "source": "transformers", "model_type": cfg5.model_type, **extra,
            "head_dim": case["head_dim"],
            "config_v5": case["config_v5"], "config_v4": case["config_v4"],
            "hf_rope_parameters": resolved, "v4_resolves_identically": same_params,
            "evaluations": evaluations}


# ---- independent derivation (float64 numpy) of the two project variants, from methods.md ----

def derived_inv(kind, d, theta, rope):
    i = np.arange(d // 2, dtype=np.float64)
    s = rope["factor"]
    if kind == "ntk":
        base = theta * s ** (d / (d - 2))
        return base ** (-2 * i / d), 1.0
    # yarn_pose: PoSE's revised YaRN interpolates the wavelength
    l0 = rope["original_max_position_embeddings"]
    beta_fast, beta_slow = rope.get("beta_fast", 32.0), rope.get("beta_slow", 1.0)
    cdim = lambda r: d * math.log(l0 / (2 * math.pi * r)) / (2 * math.log(theta))
    low, high = max(math.floor(cdim(beta_fast)), 0), min(math.ceil(cdim(beta_slow)), d - 1)
    if low == high:
        high += 0.001
    keep = 1 - np.clip((i - low) / (high - low), 0, 1)
    inv = theta ** (-2 * i / d) / ((1 - keep) * s + keep)
    return inv, 0.1 * math.log(s) + 1


def derived_case(name, kind, d, theta, max_pos, rope, seq_len):
    inv, att = derived_inv(kind, d, theta, rope)
    positions = positions_for(seq_len)
    angles = np.outer(np.array(positions, dtype=np.float64), inv)
    emb = np.concatenate([angles, angles], axis=-1)
    return {"name": name, "source": "derived", "head_dim": d, "rope_theta": theta, "max_position_embeddings": max_pos,
            "rope": {"rope_type": kind, **rope},
            "evaluations": [{"seq_len": seq_len, "inv_freq": [float(v) for v in inv], "attention_factor": att,
                             "positions": positions,
                             "cos": [[float(v) for v in r] for r in np.cos(emb) * att],
                             "sin": [[float(v) for v in r] for r in np.sin(emb) * att]}]}


def derived_cases():
    return [
        derived_case("ntk-d64-f4", "ntk", 64, 10000.0, 2048, {"factor": 4.0}, 8192),
        derived_case("ntk-d128-f8", "ntk", 128, 500000.0, 4096, {"factor": 8.0}, 32768),
        derived_case("yarn_pose-d64-f4-L2048", "yarn_pose", 64, 10000.0, 2048,
                     {"factor": 4.0, "original_max_position_embeddings": 2048}, 8192),
        derived_case("yarn_pose-d128-f16-L4096", "yarn_pose", 128, 10000.0, 4096,
                     {"factor": 16.0, "original_max_position_embeddings": 4096}, 65536),
        derived_case("yarn_pose-d128-betas", "yarn_pose", 128, 10000.0, 2048,
                     {"factor": 8.0, "original_max_position_embeddings": 2048, "beta_fast": 16.0, "beta_slow": 2.0},
                     16384),
    ]


def apply_example():
    case = make_case("apply-yarn-d64", 64, 8192, 10000.0,
                     {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048}, [8192])
    cfg = load(case["config_v5"])
    positions = [0, 1, 7, 4000]
    _, cos, sin = module_run(cfg, positions)
    gen = torch.Generator().manual_seed(1234)
    q = torch.randn(1, 2, len(positions), 64, generator=gen, dtype=torch.float32)
    q_embed, _ = apply_rotary_pos_emb(q, q, cos[None], sin[None])
    _, cos16, sin16 = module_run(cfg, positions, dtype=torch.float16)
    return {"config_v5": case["config_v5"], "positions": positions, "q_shape": list(q.shape),
            "q": f32_list(q), "cos": rows(cos), "sin": rows(sin), "q_embed": f32_list(q_embed),
            "cos_float16": rows(cos16), "sin_float16": rows(sin16)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder")
    args = ap.parse_args()
    torch.manual_seed(0)
    problems = []
    results = [run_case(c, problems) for c in cases()]
    # where the rotary module's inv_freq (what the model uses) differs from the init function's
    module_vs_init = []
    for r in results:
        for e in r["evaluations"]:
            a, b = np.array(e["init_inv_freq"]), np.array(e["module_inv_freq"])
            if not np.array_equal(a, b):
                module_vs_init.append(f"{r['name']}@{e['seq_len']}: max rel {float(np.max(np.abs(a - b) / np.abs(a))):.3g}")
    fixture = {
        "reference": "Hugging Face transformers ROPE_INIT_FUNCTIONS and LlamaRotaryEmbedding (CPU, float32); "
                     "cases with source 'derived' (ntk, yarn_pose) are an independent float64 numpy derivation "
                     "of docs/methods.md, not transformers",
        "generated_by": "tools/reference/rope_fixtures.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "problems": problems,
        "module_vs_init_inv_freq": module_vs_init,
        "cases": results + derived_cases(),
        "apply": apply_example(),
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "rope_fixtures.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: "
          f"{len(fixture['cases'])} cases -> {path} ({os.path.getsize(path)} bytes)")
    print("problems:", problems or "none")
    print("module inv_freq != init inv_freq:", module_vs_init or "none")
    for r in results:
        print(r["name"], r["hf_rope_parameters"] if "longrope" not in r["name"] else
              {k: v for k, v in r["hf_rope_parameters"].items() if not k.endswith("_factor") or k == "attention_factor"})


if __name__ == "__main__":
    main()
