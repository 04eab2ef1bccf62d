#!/usr/bin/env python3
"""Golden fixtures for the trainer's optimizer package (org.longctx.trainer.optim).

Produces, from the reference implementations (torch.optim.AdamW, torch.nn.utils.clip_grad_norm_,
torch.amp.GradScaler and the transformers learning-rate schedules), one small JSON file that the
Java tests compare against:

  python3 tools/reference/optim_fixtures.py --out trainer/src/test/resources/golden/optim

Run it on a machine with torch and transformers installed (CPU tensors are enough).
Every initial value and gradient is rounded to float16 precision, so the same numbers can be fed
to float16 parameters (their float32 master copies then follow the float32 reference exactly).
"""
import argparse
import json
import math
import os
import platform

import torch

SHAPES = {"w": [3, 4], "b": [4]}          # a matrix (decayed) and a vector (never decayed)
GRAD_SCALES = [1.0, 0.1, 10.0, 1.0, 0.01]  # per step, so Adam sees very different magnitudes
LRS = [1e-2, 5e-3, 2e-2, 1e-2, 1e-3]       # per step, as a schedule would set them


def half_exact(t):
    """float32 values that float16 represents exactly."""
    return t.half().float()


def make_params_and_grads(seed):
    gen = torch.Generator().manual_seed(seed)
    init = {n: half_exact(torch.randn(s, generator=gen)) for n, s in SHAPES.items()}
    grads = []
    for scale in GRAD_SCALES:
        grads.append({n: half_exact(torch.randn(s, generator=gen) * scale) for n, s in SHAPES.items()})
    return init, grads


def adamw_case(name, betas, eps, weight_decay, clip_max_norm=None, seed=0):
    init, grads = make_params_and_grads(seed)
    params = {n: torch.nn.Parameter(v.clone()) for n, v in init.items()}
    # The no-decay rule: parameters with fewer than 2 dimensions get weight_decay 0.
    groups = [
        {"params": [params["w"]], "weight_decay": weight_decay},
        {"params": [params["b"]], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LRS[0], betas=betas, eps=eps, weight_decay=weight_decay,
                            foreach=False, fused=False)
    steps = []
    for i, g in enumerate(grads):
        for n, p in params.items():
            p.grad = g[n].clone()
        norm = None
        if clip_max_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), clip_max_norm, foreach=False))
        for group in opt.param_groups:
            group["lr"] = LRS[i]
        opt.step()
        entry = {"lr": LRS[i], "params": {n: p.detach().flatten().tolist() for n, p in params.items()}}
        if norm is not None:
            entry["grad_norm"] = norm
        steps.append(entry)
    state = {n: {"exp_avg": opt.state[p]["exp_avg"].flatten().tolist(),
                 "exp_avg_sq": opt.state[p]["exp_avg_sq"].flatten().tolist(),
                 "step": float(opt.state[p]["step"])} for n, p in params.items()}
    return {
        "name": name, "betas": list(betas), "eps": eps, "weight_decay": weight_decay,
        "no_decay": ["b"], "clip_max_norm": clip_max_norm, "shapes": SHAPES,
        "init": {n: v.flatten().tolist() for n, v in init.items()},
        "grads": [{n: v.flatten().tolist() for n, v in g.items()} for g in grads],
        "steps": steps, "final_state": state,
    }


def clip_cases():
    gen = torch.Generator().manual_seed(1)
    cases = []
    specs = [
        ("above_max", {"a": [3, 4], "b": [4]}, 1.0, 3.0),
        ("below_max", {"a": [3, 4], "b": [4]}, 100.0, 1.0),
        ("many_tensors", {"a": [16, 8], "b": [8], "c": [2, 3, 5]}, 0.5, 0.2),
    ]
    for name, shapes, max_norm, scale in specs:
        grads = {n: half_exact(torch.randn(s, generator=gen) * scale) for n, s in shapes.items()}
        ps = {}
        for n, g in grads.items():
            p = torch.nn.Parameter(torch.zeros(shapes[n]))
            p.grad = g.clone()
            ps[n] = p
        total = torch.nn.utils.clip_grad_norm_(list(ps.values()), max_norm, norm_type=2.0, foreach=False)
        cases.append({
            "name": name, "max_norm": max_norm, "shapes": shapes,
            "grads": {n: g.flatten().tolist() for n, g in grads.items()},
            "total_norm": float(total),
            "clipped": {n: p.grad.flatten().tolist() for n, p in ps.items()},
        })
    return cases


def schedule_cases():
    import transformers
    from transformers import (get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup,
                              get_linear_schedule_with_warmup)
    from transformers.optimization import get_cosine_with_min_lr_schedule_with_warmup

    base_lr = 3e-4
    cases = []
    cosine = get_cosine_schedule_with_warmup
    linear = get_linear_schedule_with_warmup
    constant = get_constant_schedule_with_warmup
    cosine_min = get_cosine_with_min_lr_schedule_with_warmup
    specs = [
        ("cosine", 3, 12, cosine, {}, 0.0),
        ("linear", 3, 12, linear, {}, 0.0),
        ("constant", 3, 12, constant, None, 0.0),
        ("cosine", 0, 10, cosine, {}, 0.0),
        ("linear", 1, 7, linear, {}, 0.0),
        ("cosine", 4, 20, cosine_min, {"min_lr_rate": 0.1}, 0.1),
    ]
    for kind, warmup, total, fn, extra, min_ratio in specs:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=base_lr)
        # the constant schedule takes no total; the others take it and any extra keywords
        sched = fn(opt, warmup) if extra is None else fn(opt, warmup, total, **extra)
        lrs = []
        for _ in range(total + 3):   # a few steps past the end: the floor holds
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        cases.append({"schedule": kind, "base_lr": base_lr, "warmup_steps": warmup, "total_steps": total,
                      "min_lr_ratio": min_ratio, "function": fn.__name__,
                      "lr": lrs})
    return cases, transformers.__version__


def grad_scaler_case():
    # found_inf pattern per step; growth_interval 3 so growth shows up within a few steps.
    pattern = [False, False, False, False, True, False, False, False, True, True,
               False, False, False, False, False, False, False]
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                                  growth_interval=3)
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=1.0)
    out = []
    for bad in pattern:
        opt.zero_grad()
        scaler.scale(torch.tensor(1.0))        # initialises the scale lazily, as in a real step
        before = p.detach().clone()
        g = torch.full((2,), float("inf") if bad else 1.0) * scaler.get_scale()
        p.grad = g
        scaler.step(opt)
        scaler.update()
        stepped = not torch.equal(before, p.detach())
        out.append({"found_inf": bad, "stepped": stepped, "scale_after": scaler.get_scale(),
                    "growth_tracker_after": int(scaler._get_growth_tracker())})
    return {"init_scale": 2.0 ** 16, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
            "steps": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    fixture = {"reference": "torch.optim.AdamW(foreach=False), torch.nn.utils.clip_grad_norm_, "
                            "torch.amp.GradScaler, transformers get_*_schedule_with_warmup",
               "torch_version": torch.__version__, "python_version": platform.python_version(),
               "generated_by": "tools/reference/optim_fixtures.py"}
    fixture["adamw"] = [
        adamw_case("llm_betas_decay", (0.9, 0.95), 1e-8, 0.1),
        adamw_case("torch_default_betas", (0.9, 0.999), 1e-8, 0.01, seed=2),
        adamw_case("llm_betas_clipped", (0.9, 0.95), 1e-8, 0.1, clip_max_norm=1.0, seed=3),
    ]
    fixture["clip_grad_norm"] = clip_cases()
    fixture["schedules"], fixture["transformers_version"] = schedule_cases()
    fixture["grad_scaler"] = grad_scaler_case()
    path = os.path.join(args.out, "optim_fixtures.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1, allow_nan=False)
    print("wrote", path, os.path.getsize(path), "bytes; torch", torch.__version__,
          "transformers", fixture["transformers_version"])
    for c in fixture["schedules"]:
        print(c["schedule"], c["warmup_steps"], c["total_steps"], c["min_lr_ratio"], ["%.3g" % x for x in c["lr"]])
    for s in fixture["grad_scaler"]["steps"]:
        print(s)


if __name__ == "__main__":
    main()
