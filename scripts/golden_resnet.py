#!/usr/bin/env python3
"""Golden fixture of one downsampling ResNet basic block (Sources/Models/ResNet.swift), NumPy only.

Block, batch 2, 4 -> 8 channels, 6x6 input, GroupNorm(4 groups, eps 1e-5):
    h = silu(GN1(conv3x3_stride2_pad1(x)))
    h = GN2(conv3x3_stride1_pad1(h))
    s = GN_s(conv1x1_stride2(x))
    y = silu(h + s)
Convolutions have no bias (PyTorch cross-correlation, weights [out, in, k, k]); GroupNorm is torch's
(biased variance over each group's channels and pixels, then per-channel affine). The forward runs in
float64 from float32-rounded inputs, independently of the Swift kernels (a direct loop convolution).
Writes Tests/Fixtures/golden_resnet.json: {seed, tensors: {key: {shape, data}}} with the block's
parameters under the Swift keys, `x`, and `y`.
Run: python3 scripts/golden_resnet.py   (numpy; e.g. .build-py/bin/python after check-safetensors-interop)
"""
import json
import os

import numpy as np

SEED = 20261203
rng = np.random.default_rng(SEED)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def conv(x, w, stride, pad):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return y


def group_norm(x, groups, weight, bias, eps=1e-5):
    n, c, h, w = x.shape
    g = x.reshape(n, groups, c // groups * h * w)
    mean = g.mean(axis=2, keepdims=True)
    var = g.var(axis=2, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(n, c, h, w)
    return y * weight[None, :, None, None] + bias[None, :, None, None]


def silu(x):
    return x / (1 + np.exp(-x))


params = {
    "conv1.weight": f32(rng.normal(0, 0.3, (8, 4, 3, 3))),
    "norm1.weight": f32(rng.normal(1, 0.2, 8)), "norm1.bias": f32(rng.normal(0, 0.2, 8)),
    "conv2.weight": f32(rng.normal(0, 0.2, (8, 8, 3, 3))),
    "norm2.weight": f32(rng.normal(0.5, 0.2, 8)), "norm2.bias": f32(rng.normal(0, 0.2, 8)),
    "shortcut.conv.weight": f32(rng.normal(0, 0.4, (8, 4, 1, 1))),
    "shortcut.norm.weight": f32(rng.normal(1, 0.2, 8)), "shortcut.norm.bias": f32(rng.normal(0, 0.2, 8)),
}
x = f32(rng.normal(0, 1, (2, 4, 6, 6)))
h = silu(group_norm(conv(x, params["conv1.weight"], 2, 1), 4, params["norm1.weight"], params["norm1.bias"]))
h = group_norm(conv(h, params["conv2.weight"], 1, 1), 4, params["norm2.weight"], params["norm2.bias"])
s = group_norm(conv(x, params["shortcut.conv.weight"], 2, 0), 4, params["shortcut.norm.weight"], params["shortcut.norm.bias"])
y = silu(h + s)

tensors = {k: {"shape": list(v.shape), "data": [float(t) for t in v.ravel()]} for k, v in params.items()}
tensors["x"] = {"shape": list(x.shape), "data": [float(t) for t in x.ravel()]}
tensors["y"] = {"shape": list(y.shape), "data": [float(t) for t in y.ravel()]}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "golden_resnet.json")
with open(out, "w") as f:
    json.dump({"seed": SEED, "tensors": tensors}, f)
print("wrote", os.path.normpath(out), "y[0,0,0,:] =", y[0, 0, 0, :])
