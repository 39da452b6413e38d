#!/usr/bin/env python3
"""Golden optimizer trajectories for Tests/OptimTests (written to Tests/Fixtures/optim_*.json).

Reference: the real torch.optim (AdamW, SGD with foreach=False) and
torch.nn.utils.clip_grad_norm_ when `import torch` works; otherwise a NumPy float32
transcription of torch's single-tensor algorithms (torch/optim/adamw.py, sgd.py,
nn/utils/clip_grad.py), doing the same float32 operations in the same order with scalars
computed in float64 as torch does with Python floats. The "reference" field of each file
says which one produced it.

Usage: .build-py/bin/python scripts/optim_golden.py [Tests/Fixtures]
"""
import json
import math
import os
import sys

import numpy as np

try:
    import torch
    REFERENCE = "torch " + torch.__version__
except Exception:  # torch missing or unusable (e.g. CUDA wheel without CUDA libraries)
    torch = None
    REFERENCE = "numpy float32 transcription of torch.optim (torch not importable here)"

F = np.float32
STEPS = 6


def adamw_numpy(params, hyper, grads_per_step):
    lr, (b1, b2), eps, wd = hyper["lr"], hyper["betas"], hyper["eps"], hyper["weight_decay"]
    state = {}
    out = []
    for grads in grads_per_step:
        for name in sorted(grads):
            p, g = params[name], grads[name]
            s = state.setdefault(name, {"t": 0, "m": np.zeros_like(p), "v": np.zeros_like(p)})
            s["t"] += 1
            t, m, v = s["t"], s["m"], s["v"]
            p *= F(1 - lr * wd)                       # param.mul_(1 - lr * weight_decay)
            w = 1 - b1                                # exp_avg.lerp_(grad, 1 - beta1)
            if abs(w) < 0.5:
                m[:] = m + F(w) * (g - m)
            else:
                m[:] = g - (g - m) * F(1 - w)
            v *= F(b2)                                # exp_avg_sq.mul_(beta2)
            v += F(1 - b2) * g * g                    # .addcmul_(grad, grad, value=1 - beta2)
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            step_size = lr / bc1
            denom = np.sqrt(v) / F(math.sqrt(bc2)) + F(eps)
            p[:] = p + F(-step_size) * m / denom      # param.addcdiv_(exp_avg, denom, value=-step_size)
        out.append({k: v.copy() for k, v in params.items()})
    return out


def sgd_numpy(params, hyper, grads_per_step):
    lr, mu, damp, wd, nesterov = (hyper["lr"], hyper["momentum"], hyper["dampening"],
                                  hyper["weight_decay"], hyper["nesterov"])
    bufs = {}
    out = []
    for grads in grads_per_step:
        for name in sorted(grads):
            p, g = params[name], grads[name].copy()
            if wd != 0:
                g = g + F(wd) * p                     # grad.add(param, alpha=weight_decay)
            if mu != 0:
                if name not in bufs:
                    bufs[name] = g.copy()             # torch.clone(grad).detach()
                else:
                    b = bufs[name]
                    b *= F(mu)                        # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    b += F(1 - damp) * g
                g = g + F(mu) * bufs[name] if nesterov else bufs[name]
            p[:] = p + F(-lr) * g                     # param.add_(grad, alpha=-lr)
        out.append({k: v.copy() for k, v in params.items()})
    return out


def run_torch(kind, params, hyper, grads_per_step):
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    names = sorted(tp)
    if kind == "AdamW":
        opt = torch.optim.AdamW([tp[n] for n in names], lr=hyper["lr"], betas=tuple(hyper["betas"]),
                                eps=hyper["eps"], weight_decay=hyper["weight_decay"], foreach=False)
    else:
        opt = torch.optim.SGD([tp[n] for n in names], lr=hyper["lr"], momentum=hyper["momentum"],
                              dampening=hyper["dampening"], weight_decay=hyper["weight_decay"],
                              nesterov=hyper["nesterov"], foreach=False)
    out = []
    for grads in grads_per_step:
        for n in names:
            tp[n].grad = torch.tensor(grads[n]) if n in grads else None
        opt.step()
        out.append({k: v.detach().numpy().copy() for k, v in tp.items()})
    return out


def clip_numpy(grads, max_norm):
    norms = [np.float32(np.linalg.norm(g.astype(np.float32))) for g in grads.values()]
    total = np.float32(np.linalg.norm(np.array(norms, dtype=np.float32)))
    coef = min(F(max_norm) / (total + F(1e-6)), F(1.0))
    return float(total), {k: g * F(coef) for k, g in grads.items()}


def clip_torch(grads, max_norm):
    tp = {k: torch.zeros(len(g), requires_grad=True) for k, g in grads.items()}
    for k in tp:
        tp[k].grad = torch.tensor(grads[k])
    total = torch.nn.utils.clip_grad_norm_([tp[k] for k in sorted(tp)], max_norm)
    return float(total), {k: v.grad.numpy().copy() for k, v in tp.items()}


def make_grads(rng, params, skip_b_at):
    """Gradients toward a fixed target plus noise; 'b' has no gradient at step `skip_b_at`."""
    target = {k: rng.standard_normal(v.shape).astype(F) for k, v in params.items()}
    noise = [{k: (0.3 * rng.standard_normal(v.shape)).astype(F) for k, v in params.items()} for _ in range(STEPS)]
    return target, noise, skip_b_at


def trajectory(kind, hyper, seed):
    rng = np.random.default_rng(seed)
    init = {"w": rng.standard_normal(7).astype(F), "b": (0.1 * rng.standard_normal(3)).astype(F)}
    # Gradients are fixed in advance (recorded) so every implementation sees the same ones.
    grads_per_step = []
    scale = {"w": F(1.0), "b": F(0.01)}
    for t in range(STEPS):
        g = {k: (scale[k] * rng.standard_normal(v.shape)).astype(F) for k, v in init.items()}
        if t == 2:
            del g["b"]  # no gradient: the parameter and its step count stay as they are
        grads_per_step.append(g)
    params = {k: v.copy() for k, v in init.items()}
    if torch is not None:
        steps = run_torch(kind, params, hyper, grads_per_step)
    else:
        steps = (adamw_numpy if kind == "AdamW" else sgd_numpy)(params, hyper, grads_per_step)
    return {
        "optimizer": kind, "hyper": hyper, "init": {k: v.tolist() for k, v in init.items()},
        "steps": [{"grads": {k: v.tolist() for k, v in g.items()},
                   "params": {k: v.tolist() for k, v in p.items()}} for g, p in zip(grads_per_step, steps)],
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")
    adamw = {"reference": REFERENCE, "cases": {
        "default": trajectory("AdamW", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 1e-2}, 1),
        "low_beta1_high_decay": trajectory("AdamW", {"lr": 3e-2, "betas": [0.3, 0.95], "eps": 1e-6, "weight_decay": 0.5}, 2),
    }}
    sgd = {"reference": REFERENCE, "cases": {
        "plain": trajectory("SGD", {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}, 3),
        "momentum_dampening_decay": trajectory("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3, "nesterov": False}, 4),
        "nesterov": trajectory("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.0, "weight_decay": 1e-2, "nesterov": True}, 5),
    }}
    rng = np.random.default_rng(6)
    clip_cases = []
    for max_norm in [1.0, 100.0, 0.25]:
        grads = {"a": rng.standard_normal(5).astype(F) * F(2), "b": rng.standard_normal(4).astype(F)}
        total, clipped = (clip_torch if torch is not None else clip_numpy)(grads, max_norm)
        clip_cases.append({"max_norm": max_norm, "grads": {k: v.tolist() for k, v in grads.items()},
                           "total_norm": total, "clipped": {k: v.tolist() for k, v in clipped.items()}})
    clip = {"reference": REFERENCE, "cases": clip_cases}
    for name, obj in [("optim_adamw.json", adamw), ("optim_sgd.json", sgd), ("optim_clip.json", clip)]:
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.write("\n")
    print("wrote optim_adamw.json, optim_sgd.json, optim_clip.json with", REFERENCE)


if __name__ == "__main__":
    main()
