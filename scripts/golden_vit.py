#!/usr/bin/env python3
"""Golden reference for the encoders (Tests/ModelsTests/GoldenEncoderTests.swift).

An independent NumPy (float64) implementation of the timm ViT and of our CLIP-style text encoder,
run on weights it draws itself. The Swift test loads the weights BY NAME (loadStrict), so the keys
here are the contract as much as the numbers.

ViT (timm VisionTransformer, pre-norm, class token, learned positions, no dropout):
    depth 2, width 16, heads 2, image 8, patch 4 (4 patch tokens + cls), MLP 64, 3 classes, eps 1e-6
    t   = conv(x; patch_embed.proj, kernel = stride = 4) flattened row-major -> [B, 4, 16]
    x   = concat(cls_token, t) + pos_embed                                   [B, 5, 16]
    blk: x = x + proj(attn(norm1(x)));  x = x + fc2(gelu_erf(fc1(norm2(x))))
         qkv = x Wqkv^T + b, reshape [B, N, 3, H, d] -> q, k, v per head (timm order)
    tap.L = x after block L (L = 1, 2);  final = LayerNorm(x; norm);  logits = head(final[:, 0])
Text encoder (ours, CLIP layout with diffusers attention keys):
    vocab 11, 6 positions, width 16, heads 2, depth 2, MLP 32, eps 1e-5, causal mask
    x = token_embedding[ids] + position_embedding[0..L)
    blk: x = x + to_out.0(attn(norm1(x), causal));  x = x + fc2(gelu_erf(fc1(norm2(x))))
    states = final_layer_norm(x);  pooled[b] = states[b, first index of <eos> (id 3)]

Weights are drawn with std ~0.3 (larger than the training init) so attention is far from uniform
and every weight matters. All values are rounded to float32 before use, so Swift starts from the
identical numbers; the reference then computes in float64.

Output (Tests/Fixtures/): golden_vit.weights.safetensors, golden_vit.io.safetensors (x, tap.1,
tap.2, final, logits), golden_text.weights.safetensors, golden_text.io.safetensors (ids as F32,
states, pooled). Written by a pure-Python safetensors writer (F32, little-endian, keys sorted).
Run:  python3 scripts/golden_vit.py   (numpy only; deterministic: seed 20240612)
"""
import json
import math
import os
import struct

import numpy as np

rng = np.random.default_rng(20240612)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")


def draw(shape, std=0.3):
    return rng.normal(0.0, std, size=shape).astype(np.float32).astype(np.float64)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def mha(q, k, v, heads, mask=None):
    """q, k, v [B, N, D] already projected -> [B, N, D] (heads merged)."""
    b, n, d = q.shape
    hd = d // heads
    split = lambda z: z.reshape(b, n, heads, hd).transpose(0, 2, 1, 3)
    q, k, v = split(q), split(k), split(v)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
    if mask is not None:
        s = s + mask
    return (softmax(s) @ v).transpose(0, 2, 1, 3).reshape(b, n, d)


def linear(x, p, name):
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if name + ".bias" in p else y


# ---------------------------------------------------------------- ViT
def vit_weights(depth=2, d=16, mlp=64, patch=4, tokens=5, classes=3):
    p = {"cls_token": draw((1, 1, d)), "pos_embed": draw((1, tokens, d)),
         "patch_embed.proj.weight": draw((d, 3, patch, patch)), "patch_embed.proj.bias": draw((d,))}
    for i in range(depth):
        k = f"blocks.{i}."
        p[k + "norm1.weight"] = 1 + draw((d,), 0.1); p[k + "norm1.bias"] = draw((d,), 0.1)
        p[k + "attn.qkv.weight"] = draw((3 * d, d)); p[k + "attn.qkv.bias"] = draw((3 * d,))
        p[k + "attn.proj.weight"] = draw((d, d)); p[k + "attn.proj.bias"] = draw((d,))
        p[k + "norm2.weight"] = 1 + draw((d,), 0.1); p[k + "norm2.bias"] = draw((d,), 0.1)
        p[k + "mlp.fc1.weight"] = draw((mlp, d)); p[k + "mlp.fc1.bias"] = draw((mlp,))
        p[k + "mlp.fc2.weight"] = draw((d, mlp), 0.15); p[k + "mlp.fc2.bias"] = draw((d,))
    p["norm.weight"] = 1 + draw((d,), 0.1); p["norm.bias"] = draw((d,), 0.1)
    p["head.weight"] = draw((classes, d)); p["head.bias"] = draw((classes,))
    return p


def vit_forward(p, x, depth=2, heads=2, patch=4, eps=1e-6):
    b, c, h, w = x.shape
    gh, gw = h // patch, w // patch
    # Patch conv as a matmul over flattened [c, kh, kw] patches, row-major over the grid.
    patches = x.reshape(b, c, gh, patch, gw, patch).transpose(0, 2, 4, 1, 3, 5).reshape(b, gh * gw, c * patch * patch)
    wconv = p["patch_embed.proj.weight"].reshape(p["patch_embed.proj.weight"].shape[0], -1)
    t = patches @ wconv.T + p["patch_embed.proj.bias"]
    d = t.shape[-1]
    z = np.concatenate([np.broadcast_to(p["cls_token"], (b, 1, d)), t], axis=1) + p["pos_embed"]
    taps = {}
    for i in range(depth):
        k = f"blocks.{i}."
        y = layer_norm(z, p[k + "norm1.weight"], p[k + "norm1.bias"], eps)
        qkv = linear(y, p, k + "attn.qkv").reshape(b, z.shape[1], 3, d)   # q | k | v blocks of D
        z = z + linear(mha(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], heads), p, k + "attn.proj")
        y = layer_norm(z, p[k + "norm2.weight"], p[k + "norm2.bias"], eps)
        z = z + linear(gelu(linear(y, p, k + "mlp.fc1")), p, k + "mlp.fc2")
        taps[i + 1] = z
    final = layer_norm(z, p["norm.weight"], p["norm.bias"], eps)
    return taps, final, linear(final[:, 0], p, "head")


# ---------------------------------------------------------------- text encoder
def text_weights(vocab=11, length=6, d=16, mlp=32, depth=2):
    p = {"token_embedding.weight": draw((vocab, d), 1.0), "position_embedding.weight": draw((length, d), 0.5)}
    for i in range(depth):
        k = f"blocks.{i}."
        p[k + "norm1.weight"] = 1 + draw((d,), 0.1); p[k + "norm1.bias"] = draw((d,), 0.1)
        for n in ("to_q", "to_k", "to_v"):
            p[k + f"attn.{n}.weight"] = draw((d, d)); p[k + f"attn.{n}.bias"] = draw((d,))
        p[k + "attn.to_out.0.weight"] = draw((d, d)); p[k + "attn.to_out.0.bias"] = draw((d,))
        p[k + "norm2.weight"] = 1 + draw((d,), 0.1); p[k + "norm2.bias"] = draw((d,), 0.1)
        p[k + "mlp.fc1.weight"] = draw((mlp, d)); p[k + "mlp.fc1.bias"] = draw((mlp,))
        p[k + "mlp.fc2.weight"] = draw((d, mlp), 0.2); p[k + "mlp.fc2.bias"] = draw((d,))
    p["final_layer_norm.weight"] = 1 + draw((d,), 0.1); p["final_layer_norm.bias"] = draw((d,), 0.1)
    return p


def text_forward(p, ids, depth=2, heads=2, eps=1e-5, eos=3):
    b, n = ids.shape
    z = p["token_embedding.weight"][ids] + p["position_embedding.weight"][:n][None]
    mask = np.triu(np.full((n, n), -np.inf), k=1)
    for i in range(depth):
        k = f"blocks.{i}."
        y = layer_norm(z, p[k + "norm1.weight"], p[k + "norm1.bias"], eps)
        a = mha(linear(y, p, k + "attn.to_q"), linear(y, p, k + "attn.to_k"), linear(y, p, k + "attn.to_v"), heads, mask)
        z = z + linear(a, p, k + "attn.to_out.0")
        y = layer_norm(z, p[k + "norm2.weight"], p[k + "norm2.bias"], eps)
        z = z + linear(gelu(linear(y, p, k + "mlp.fc1")), p, k + "mlp.fc2")
    states = layer_norm(z, p["final_layer_norm.weight"], p["final_layer_norm.bias"], eps)
    pooled = np.stack([states[r, list(ids[r]).index(eos)] for r in range(b)])
    return states, pooled


def main():
    meta = {"generator": "scripts/golden_vit.py", "seed": "20240612"}
    pv = vit_weights()
    x = rng.uniform(-1, 1, size=(2, 3, 8, 8)).astype(np.float32).astype(np.float64)
    taps, final, logits = vit_forward(pv, x)
    write_safetensors(os.path.join(OUT, "golden_vit.weights.safetensors"), pv,
                      {**meta, "config": "depth 2, width 16, heads 2, image 8, patch 4, mlp 64, classes 3, eps 1e-6"})
    write_safetensors(os.path.join(OUT, "golden_vit.io.safetensors"),
                      {"x": x, "tap.1": taps[1], "tap.2": taps[2], "final": final, "logits": logits}, meta)

    pt = text_weights()
    # <bos>=2 words <eos>=3 <pad>=0; the rows end at different positions, one uses the last slot.
    ids = np.array([[2, 5, 7, 3, 0, 0], [2, 9, 4, 10, 6, 3]], dtype=np.int64)
    states, pooled = text_forward(pt, ids)
    write_safetensors(os.path.join(OUT, "golden_text.weights.safetensors"), pt,
                      {**meta, "config": "vocab 11, maxLength 6, width 16, heads 2, depth 2, mlp 32, eps 1e-5"})
    write_safetensors(os.path.join(OUT, "golden_text.io.safetensors"),
                      {"ids": ids.astype(np.float64), "states": states, "pooled": pooled}, meta)
    print("wrote golden_vit.* and golden_text.* to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
