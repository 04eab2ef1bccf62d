#!/usr/bin/env python3
"""Side-by-side summary of Chrome traces written by PyTorch's profiler (torch.profiler, or
longctx's org.longctx.kernels.Profiler, which is the same Kineto profiler): `bench gpu --profile`
runs it on the traces of transformers' and longctx's steps (docs/gpu.md).

Per step (the trace's span divided by --steps): the span from the first GPU activity to the last,
the time the GPU is busy (union of kernels, copies and fills) and idle, the idle gaps longer than
50 µs and 1 ms, kernels launched, host-device copies, host calls that wait for the device
(synchronisations, blocking copies) and the CPU operators recorded; then the kernels that take
the time, by name, in each trace.

Usage: python3 tools/bench/trace_summary.py --steps 3 transformers=a.json longctx=b.json [--top 25]
"""
import argparse
import gzip
import json
from collections import defaultdict

GPU_CATS = {"kernel", "gpu_memcpy", "gpu_memset"}
# host calls that block until the device is done (a synchronous cudaMemcpy; cudaMemcpyAsync from
# pageable memory, which PyTorch follows with a stream synchronisation, is counted by the latter)
WAITS = {"cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize", "cudaMemcpy"}


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)["traceEvents"]


def kernel_key(name):
    """A kernel's name, shortened: templated names run to hundreds of characters."""
    return name[:110]


def summarise(events, steps):
    gpu = sorted(((e["ts"], e["ts"] + e.get("dur", 0), e) for e in events
                  if e.get("ph") == "X" and e.get("cat") in GPU_CATS), key=lambda x: x[:2])
    if not gpu:
        return None
    start, end = gpu[0][0], max(x[1] for x in gpu)
    busy, gaps, cursor = 0.0, [], start
    for s, t, _ in gpu:
        if s > cursor:
            gaps.append(s - cursor)
        if t > cursor:
            busy += t - max(s, cursor)
            cursor = t
    kernels = defaultdict(lambda: [0, 0.0])
    for s, t, e in gpu:
        if e["cat"] == "kernel":
            k = kernels[kernel_key(e["name"])]
            k[0] += 1
            k[1] += t - s
    runtime = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("cuda_runtime", "cuda_driver")]
    waits = [e for e in runtime if e["name"] in WAITS]
    copies = [e for e in gpu if e[2]["cat"] == "gpu_memcpy"]
    cpu_ops = [e for e in events if e.get("ph") == "X" and e.get("cat") == "cpu_op"]
    span = end - start
    return {
        "span_ms": span / 1000 / steps,
        "busy_ms": busy / 1000 / steps,
        "idle_ms": (span - busy) / 1000 / steps,
        "gaps_50us": sum(1 for g in gaps if g > 50) / steps,
        "gaps_50us_ms": sum(g for g in gaps if g > 50) / 1000 / steps,
        "gaps_1ms": sum(1 for g in gaps if g > 1000) / steps,
        "kernels": sum(k[0] for k in kernels.values()) / steps,
        "kernel_ms": sum(k[1] for k in kernels.values()) / 1000 / steps,
        "copies": len(copies) / steps,
        "waits": len(waits) / steps,
        "wait_ms": sum(e.get("dur", 0) for e in waits) / 1000 / steps,
        "cpu_ops": len(cpu_ops) / steps,
        "by_kernel": {k: (v[0] / steps, v[1] / 1000 / steps) for k, v in kernels.items()},
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1, help="training steps each trace covers")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("traces", nargs="+", help="NAME=PATH")
    a = p.parse_args()
    names, summaries = [], []
    for spec in a.traces:
        name, _, path = spec.partition("=")
        s = summarise(load(path), a.steps)
        if s is None:
            print(f"{name}: no GPU activity in {path}")
            continue
        names.append(name)
        summaries.append(s)
    rows = [("span per step, ms", "span_ms", "%.2f"), ("GPU busy, ms", "busy_ms", "%.2f"), ("GPU idle, ms", "idle_ms", "%.2f"),
            ("idle gaps > 50 µs", "gaps_50us", "%.0f"), ("  their time, ms", "gaps_50us_ms", "%.2f"),
            ("idle gaps > 1 ms", "gaps_1ms", "%.0f"), ("kernels", "kernels", "%.0f"), ("kernel time, ms", "kernel_ms", "%.2f"),
            ("host-device copies", "copies", "%.0f"), ("host waits for the device", "waits", "%.0f"),
            ("  their time, ms", "wait_ms", "%.2f"), ("CPU operators recorded", "cpu_ops", "%.0f")]
    print("per step".ljust(28) + "".join(n.rjust(16) for n in names))
    for label, key, fmt in rows:
        print(label.ljust(28) + "".join((fmt % s[key]).rjust(16) for s in summaries))
    keys = set()
    for s in summaries:
        keys.update(sorted(s["by_kernel"], key=lambda k: -s["by_kernel"][k][1])[:a.top])
    keys = sorted(keys, key=lambda k: -max(s["by_kernel"].get(k, (0, 0))[1] for s in summaries))
    print("\nkernels per step (count, ms)".ljust(28) + "".join(n.rjust(16) for n in names))
    for k in keys:
        cells = []
        for s in summaries:
            c, t = s["by_kernel"].get(k, (0, 0.0))
            cells.append(f"{c:5.0f} {t:8.2f}".rjust(16))
        print("".join(cells) + "  " + k)


if __name__ == "__main__":
    main()
