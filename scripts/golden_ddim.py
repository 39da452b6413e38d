#!/usr/bin/env python3
"""Golden reference for the DDIM sampler (Tests/DiffusionTests/DDIMGoldenTests.swift): whole tensors.

Written from the DDIM paper (Song et al. 2021, eq. 12) in float64 NumPy, independently of the Swift code:
    abar_t   = prod_{s<=t} (1 - beta_s),  beta = linspace(1e-4, 0.02, 1000)           (DDPM's linear schedule)
    x0_hat   = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t),  clipped to [-1, 1] when `clip`
    sigma_t  = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev)
    x_prev   = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma_t^2) eps + sigma_t z
with t_prev = t - 1000 / steps and abar_prev = 1 below t = 0 (diffusers' set_alpha_to_one), timesteps
"leading": (steps - 1 - i) * (1000 / steps). The network is faked as in diffusers' scheduler tests:
eps = x_t * t / (t + 1). The start is diffusers' deterministic dummy sample (arange(768) / 768 as
(3, 8, 8, 4), permuted to (4, 3, 8, 8)).

Cases:
  clip_eta0:  clip, eta 0, 10 steps   (diffusers DDIMSchedulerTest.test_full_loop_no_noise: sum |x| 172.0067)
  noclip_eta: no clip, eta 0.5, 5 steps, z ~ N(0, 1) per step (seed 7, stored, float32-rounded)
Output: Tests/Fixtures/golden_ddim.json  {case: {steps, eta, clip, timesteps, noise: [[768 floats] per step], out: [768]}}
Run:  python3 scripts/golden_ddim.py   (numpy only; deterministic)
"""
import json
import os
import numpy as np

T = 1000
BETAS = np.linspace(1e-4, 0.02, T, dtype=np.float64)
ABAR = np.cumprod(1.0 - BETAS)


def dummy():
    return (np.arange(768, dtype=np.float64).reshape(3, 8, 8, 4) / 768.0).transpose(3, 0, 1, 2).astype(np.float32).astype(np.float64)


def run(steps, eta, clip, rng):
    ratio = T // steps
    ts = [(steps - 1 - i) * ratio for i in range(steps)]
    x = dummy()
    noises = []
    for t in ts:
        eps = x * t / (t + 1)
        a_t = ABAR[t]
        prev = t - ratio
        a_prev = ABAR[prev] if prev >= 0 else 1.0
        x0 = (x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
        if clip:
            x0 = np.clip(x0, -1, 1)
        sigma = eta * np.sqrt((1 - a_prev) / (1 - a_t)) * np.sqrt(1 - a_t / a_prev)
        x = np.sqrt(a_prev) * x0 + np.sqrt(max(1 - a_prev - sigma ** 2, 0)) * eps
        if eta > 0:
            z = rng.standard_normal(x.shape).astype(np.float32).astype(np.float64)
            noises.append(z.reshape(-1).tolist())
            x = x + sigma * z
    return ts, noises, x


def main():
    rng = np.random.default_rng(7)
    out = {}
    for name, steps, eta, clip in [("clip_eta0", 10, 0.0, True), ("noclip_eta", 5, 0.5, False)]:
        ts, noises, x = run(steps, eta, clip, rng)
        out[name] = {"steps": steps, "eta": eta, "clip": clip, "timesteps": ts, "noise": noises,
                     "out": [float(v) for v in x.reshape(-1)]}
    s = float(np.abs(np.array(out["clip_eta0"]["out"])).sum())
    assert abs(s - 172.0067) < 1e-2, f"the reference itself misses diffusers' constant: sum |x| = {s}"
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "golden_ddim.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {os.path.normpath(path)} (clip_eta0 sum |x| = {s:.4f})")


if __name__ == "__main__":
    main()
