#!/usr/bin/env python3
"""Golden reference for the autograd/NN golden test (Tests/NNTests/GoldenBlockTests.swift).

Block (batch 2, 8 channels, 6x6, PyTorch/diffusers semantics):
    h   = conv3x3(x; conv.weight [8,8,3,3], conv.bias [8]; stride 1, padding 1)
    h   = GroupNorm(2 groups, eps 1e-5, affine norm.weight/norm.bias)(h)      biased variance
    h   = SiLU(h) = h * sigmoid(h)
    t   = h reshaped [B, C, H*W] -> transposed [B, L=36, C]                   spatial tokens
    a   = Attention(heads 2, head dim 4): q = t Wq^T, k = t Wk^T, v = t Wv^T   (no bias, diffusers)
          per head: softmax(q k^T / sqrt(4)) v, heads concatenated, then to_out.0 (Linear with bias)
    out = x + a transposed back to [B, C, H, W]                                residual
    loss = sum(out * w)   with a fixed random weight w, so every gradient is d(loss)/d(.)

Gradients are computed INDEPENDENTLY of any backward rule: central finite differences in float64
(h = 1e-6) of the float64 forward, for every element of every parameter and of x. Their truncation
and rounding error (~1e-8) is far below the float32 tolerances of the Swift test.

Output (Tests/Fixtures/): golden_block.bin (raw little-endian float32, concatenated) and
golden_block.json (index: name -> {offset (in floats), shape}). Names: inputs `x`, `w`; parameters
by their PyTorch keys; `out` (forward); `grad.<key>` and `grad.x`.
Run:  python3 scripts/golden_block.py   (numpy only; deterministic: seed 20240611)
"""
import json
import os
import numpy as np

B, C, H, W, G, HEADS = 2, 8, 6, 6, 2, 2
EPS = 1e-5


def conv3x3(x, w, b):
    n, ci, hh, ww = x.shape
    co = w.shape[0]
    xp = np.zeros((n, ci, hh + 2, ww + 2))
    xp[:, :, 1:-1, 1:-1] = x
    out = np.zeros((n, co, hh, ww))
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, i:i + hh, j:j + ww]            # [n, ci, hh, ww]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out + b[None, :, None, None]


def group_norm(x, gamma, beta):
    n, c, hh, ww = x.shape
    xg = x.reshape(n, G, -1)
    mean = xg.mean(axis=2, keepdims=True)
    var = ((xg - mean) ** 2).mean(axis=2, keepdims=True)
    y = ((xg - mean) / np.sqrt(var + EPS)).reshape(n, c, hh, ww)
    return y * gamma[None, :, None, None] + beta[None, :, None, None]


def attention(t, p):
    n, l, c = t.shape
    d = c // HEADS
    q = t @ p["attn.to_q.weight"].T
    k = t @ p["attn.to_k.weight"].T
    v = t @ p["attn.to_v.weight"].T
    split = lambda z: z.reshape(n, l, HEADS, d).transpose(0, 2, 1, 3)   # [n, heads, l, d]
    q, k, v = split(q), split(k), split(v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    s = s - s.max(axis=-1, keepdims=True)
    a = np.exp(s)
    a = a / a.sum(axis=-1, keepdims=True)
    o = (a @ v).transpose(0, 2, 1, 3).reshape(n, l, c)
    return o @ p["attn.to_out.0.weight"].T + p["attn.to_out.0.bias"]


def forward(x, p):
    h = conv3x3(x, p["conv.weight"], p["conv.bias"])
    h = group_norm(h, p["norm.weight"], p["norm.bias"])
    h = h / (1 + np.exp(-h))
    t = h.reshape(B, C, H * W).transpose(0, 2, 1)
    a = attention(t, p)
    return x + a.transpose(0, 2, 1).reshape(B, C, H, W)


def main():
    rng = np.random.default_rng(20240611)
    x = rng.standard_normal((B, C, H, W))
    w = rng.standard_normal((B, C, H, W))
    p = {
        "conv.weight": rng.uniform(-1, 1, (C, C, 3, 3)) / np.sqrt(C * 9),
        "conv.bias": rng.uniform(-0.3, 0.3, (C,)),
        "norm.weight": 1 + 0.2 * rng.standard_normal(C),
        "norm.bias": 0.2 * rng.standard_normal(C),
        "attn.to_q.weight": rng.uniform(-1, 1, (C, C)) / np.sqrt(C) * 2,
        "attn.to_k.weight": rng.uniform(-1, 1, (C, C)) / np.sqrt(C) * 2,
        "attn.to_v.weight": rng.uniform(-1, 1, (C, C)) / np.sqrt(C),
        "attn.to_out.0.weight": rng.uniform(-1, 1, (C, C)) / np.sqrt(C),
        "attn.to_out.0.bias": rng.uniform(-0.3, 0.3, (C,)),
    }
    # Round inputs to float32 first, so Swift starts from exactly the values the reference used.
    x = x.astype(np.float32).astype(np.float64)
    w = w.astype(np.float32).astype(np.float64)
    p = {k: v.astype(np.float32).astype(np.float64) for k, v in p.items()}

    loss = lambda xx, pp: float((forward(xx, pp) * w).sum())
    hstep = 1e-6

    def fd(arr, f):
        g = np.zeros_like(arr)
        flat, gflat = arr.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + hstep; lp = f()
            flat[i] = old - hstep; lm = f()
            flat[i] = old
            gflat[i] = (lp - lm) / (2 * hstep)
        return g

    out = forward(x, p)
    arrays = {"x": x, "w": w}
    arrays.update(p)
    arrays["out"] = out
    for k in p:
        arrays["grad." + k] = fd(p[k], lambda: loss(x, p))
    arrays["grad.x"] = fd(x, lambda: loss(x, p))

    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "..", "Tests", "Fixtures")
    index, blobs, offset = {}, [], 0
    for name, arr in arrays.items():
        a32 = np.ascontiguousarray(arr, dtype="<f4")
        index[name] = {"offset": offset, "shape": list(arr.shape)}
        blobs.append(a32.tobytes())
        offset += a32.size
    meta = {"format": "raw little-endian float32, offsets in floats", "generator": "scripts/golden_block.py",
            "seed": 20240611, "groups": G, "heads": HEADS, "eps": EPS, "tensors": index}
    with open(os.path.join(fixtures, "golden_block.bin"), "wb") as f:
        f.write(b"".join(blobs))
    with open(os.path.join(fixtures, "golden_block.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", offset, "floats;", "max |out|", np.abs(out).max())


if __name__ == "__main__":
    main()
