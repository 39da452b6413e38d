#!/usr/bin/env python3
"""Golden reference for DPM-Solver++ (2M) (Tests/DiffusionTests/DPMSolverGoldenTests.swift): printed constants.

Written from the DPM-Solver++ paper (Lu et al. 2022, arXiv 2211.01095, Algorithm 2 "DPM-Solver++(2M)") in
float64 NumPy, independently of the Swift code. Noise schedule: NoiseSchedule's default (DDPM's linear betas
1e-4 .. 0.02 over T = 1000; Sources/Diffusion/NoiseSchedule.swift, NoiseConfig.swift):
    abar_t = prod_{s<=t} (1 - beta_s),  alpha_t = sqrt(abar_t),  sigma_t = sqrt(1 - abar_t),
    lambda_t = log(alpha_t / sigma_t)                       (half the log-SNR)
    x_theta(x, t) = (x - sigma_t eps(x, t)) / alpha_t       (data prediction from an epsilon model),
                    clipped to [-1, 1] when `clip`
Algorithm 2, with evaluation times t_0 > t_1 > ... > t_{M-1} (the inference timesteps) and the end t_M:
    h_i = lambda_{t_i} - lambda_{t_{i-1}}
    i = 1:       x_{t_1} = (sigma_{t_1} / sigma_{t_0}) x_{t_0} - alpha_{t_1} (e^{-h_1} - 1) x_theta(x_{t_0}, t_0)
    i >= 2:      r_i = h_{i-1} / h_i
                 D_i = (1 + 1 / (2 r_i)) x_theta(x_{t_{i-1}}, t_{i-1}) - 1 / (2 r_i) x_theta(x_{t_{i-2}}, t_{i-2})
                 x_{t_i} = (sigma_{t_i} / sigma_{t_{i-1}}) x_{t_{i-1}} - alpha_{t_i} (e^{-h_i} - 1) D_i
The end t_M follows diffusers' `final_sigmas_type`: "zero" is alpha = 1, sigma = 0 (lambda = +inf, so h_M is
infinite and r_M = 0: the second-order step has no limit there, and the last step is the first-order one,
which gives x_{t_M} = x_theta(x_{t_{M-1}}, t_{M-1})); "sigma_min" is t = 0 (alpha = sqrt(abar_0)), where the last
step stays second order unless diffusers' `lower_order_final` (with fewer than 15 steps) makes it first order.

Inference timesteps: diffusers' DPMSolverMultistepScheduler `timestep_spacing` (lambda_min_clipped = -inf):
    trailing: round(arange(T, 0, -T / n)) - 1                  (999, 799, 599, 399, 199 for n = 5)
    leading:  round(arange(n + 1) * (T // (n + 1)))[::-1][:-1]  (+ steps_offset 0)
    linspace: round(linspace(0, T - 1, n + 1))[::-1][:-1]
NumPy's round is half-to-even.

Self-check: diffusers' DPMSolverMultistepSchedulerTest.test_full_loop_no_noise (linspace, 10 steps,
solver_order 2, lower_order_final False, the fake network eps = x t / (t + 1) on the deterministic dummy
sample) publishes mean |x| = 0.3301; the script asserts its own loop reproduces it with the end at t = 0
("sigma_min"; of the four combinations of end and lower_order_final, the only one within 1e-3: the others
give 0.241 .. 0.244).

Cases printed for the Swift test (x: 8 values, shape [1, 2, 2, 2]; the fake network
    eps_i(x, t) = x_i t / (t + 1) + 0.05 sin(0.01 t + i),   i the flat index):
  trailing5_noclip:  trailing, 5 steps, no clip, final sigma zero
  trailing10_clip:   trailing, 10 steps, x0 clipped to [-1, 1], final sigma zero
  linspace5_noclip:  linspace, 5 steps, no clip, final sigma zero
plus the timesteps of every spacing for 5 and 10 steps (and trailing 25).
Run:  python3 scripts/golden_dpmpp.py   (numpy only; deterministic)
"""
import numpy as np

T = 1000
BETAS = np.linspace(1e-4, 0.02, T, dtype=np.float64)
ABAR = np.cumprod(1.0 - BETAS)
X = np.array([-2.5, -1.5, -0.75, -0.2, 0.1, 0.6, 1.3, 2.2], dtype=np.float64)


def timesteps(n, spacing):
    if spacing == "trailing":
        return (np.round(np.arange(T, 0, -T / n)) - 1).astype(np.int64).tolist()
    if spacing == "leading":
        return np.round(np.arange(0, n + 1) * (T // (n + 1)))[::-1][:-1].astype(np.int64).tolist()
    if spacing == "linspace":
        return np.round(np.linspace(0, T - 1, n + 1))[::-1][:-1].astype(np.int64).tolist()
    raise ValueError(spacing)


def alpha_sigma(t):
    """(alpha, sigma) at timestep t; t = None is the end with sigma zero."""
    if t is None:
        return 1.0, 0.0
    return np.sqrt(ABAR[t]), np.sqrt(1.0 - ABAR[t])


def lam(t):
    a, s = alpha_sigma(t)
    return np.inf if s == 0 else np.log(a / s)


def solve(x, ts, eps, clip=False, final="zero", lower_order_final=True, states=False):
    """Algorithm 2 over evaluation times ts (descending) and the end given by `final`: x at the end, or with
    `states` the list of x after every update."""
    ends = ts[1:] + [None if final == "zero" else 0]
    x = x.copy()
    history = []  # x_theta at the previous evaluation times
    out = []
    for i, (s, t) in enumerate(zip(ts, ends)):
        a_s, s_s = alpha_sigma(s)
        a_t, s_t = alpha_sigma(t)
        x0 = (x - s_s * eps(x, s)) / a_s
        if clip:
            x0 = np.clip(x0, -1.0, 1.0)
        last = i == len(ts) - 1
        if i == 0 or (last and ((lower_order_final and len(ts) < 15) or final == "zero")):
            d = x0                                     # first order (step 4 of Algorithm 2)
        else:
            h = lam(t) - lam(s)
            r = (lam(s) - lam(ts[i - 1])) / h
            d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * history[-1]
        if s_t == 0:
            x = a_t * d                                # sigma_t / sigma_s = 0, e^{-inf} = 0
        else:
            h = lam(t) - lam(s)
            x = (s_t / s_s) * x - a_t * np.expm1(-h) * d
        history.append(x0)
        out.append(x)
    return out if states else x


def dummy():
    return (np.arange(768, dtype=np.float64).reshape(3, 8, 8, 4) / 768.0).transpose(3, 0, 1, 2).astype(np.float32).astype(np.float64)


def fake_eps(x, t):
    i = np.arange(x.size, dtype=np.float64).reshape(x.shape)
    return x * t / (t + 1) + 0.05 * np.sin(0.01 * t + i)


def fmt(v):
    return "[" + ", ".join(f"{float(a):.9g}" for a in np.ravel(v)) + "]"


def main():
    ts = timesteps(10, "linspace")
    check = solve(dummy(), ts, lambda x, t: x * t / (t + 1), final="sigma_min", lower_order_final=False)
    mean = float(np.abs(check).mean())
    assert abs(mean - 0.3301) < 1e-3, f"the reference itself misses diffusers' constant: mean |x| = {mean}"
    print(f"self-check: diffusers test_full_loop_no_noise mean |x| = {mean:.17g} (published 0.3301)")
    for n in (5, 10):
        for sp in ("trailing", "leading", "linspace"):
            print(f"timesteps {sp} {n}: {timesteps(n, sp)}")
    print(f"timesteps trailing 25: {timesteps(25, 'trailing')}")
    print(f"x = {fmt(X)}")
    for name, n, sp, clip in [("trailing5_noclip", 5, "trailing", False), ("trailing10_clip", 10, "trailing", True),
                              ("linspace5_noclip", 5, "linspace", False)]:
        out = solve(X, timesteps(n, sp), fake_eps, clip=clip)
        print(f"{name}: {fmt(out)}")
    # The states after the first and second update of trailing5_noclip (the first order step, then the first
    # second-order one), which the Swift loop passes through.
    states = solve(X, timesteps(5, "trailing"), fake_eps, states=True)
    for k in (1, 2):
        print(f"trailing5 after {k} step(s): {fmt(states[k - 1])}")


if __name__ == "__main__":
    main()
