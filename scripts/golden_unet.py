#!/usr/bin/env python3
"""Golden reference for the U-Net and the resampler (Tests/ModelsTests/UNetGoldenTests.swift).

An independent NumPy (float64) forward of
  * the perceiver Resampler of IP-Adapter-Plus (ip_adapter/resampler.py: PerceiverAttention with
    to_q / to_kv / to_out, FeedForward = Sequential(LayerNorm, Linear, GELU, Linear), proj_in,
    latents, proj_out, norm_out), and
  * the diffusers-layout UNet2DConditionModel of MODELS.md (the same network as
    shared/peers/unet_step_jax.py: GroupNorm groups min(32, c // 2), eps 1e-5; GEGLU with exact
    GELU; decoupled cross-attention out = attn(q, k_txt, v_txt) + s * attn(q, k_ip, v_ip)),
built from the parameter table below (diffusers/IP-Adapter keys, written out here independently of
the Swift code).

Tiny config: channels [8, 16, 16], 1 layer per block (the key lists cover 2), 4 heads, context 8, input 3x16x16, batch 2;
resampler tokens [2, 5, 12] -> dim 16, depth 2, 2 heads of 8, 4 queries -> 8 (the U-Net context).
The resampler's output is the U-Net's image tokens (ip_scale 0.7), so one file checks both.

Outputs (Tests/Fixtures/):
  golden_unet_weights.safetensors  every parameter by key: `unet.<key>` and `resampler.<key>` (F32)
  golden_unet_io.safetensors       inputs x, text, tokens, timesteps (as F32), and outputs
                                   `resampler_out`, `unet_out`, `unet_out_noip` (image branch off)
  unet_keys_standard.txt, unet_keys_xs.txt, resampler_keys_standard.txt
                                   "key shape" per line, PyTorch registration order, for the
                                   default and xs configs (the literal lists the key tests compare)
Inputs and weights are rounded to float32 before the float64 forward.
Run: python3 scripts/golden_unet.py   (numpy only; deterministic, seed 20240612)
"""
import json
import math
import os
import struct
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures")


def groups_for(c):
    return min(32, c // 2) if c >= 4 else 1


# ---------------------------------------------------------------- parameter tables (diffusers order)
def lin(p, key, cin, cout, bias=True):
    p.append((key + ".weight", (cout, cin)))
    if bias:
        p.append((key + ".bias", (cout,)))


def norm(p, key, c):
    p.append((key + ".weight", (c,)))
    p.append((key + ".bias", (c,)))


def conv(p, key, cin, cout, k):
    p.append((key + ".weight", (cout, cin, k, k)))
    p.append((key + ".bias", (cout,)))


def resnet_keys(p, key, cin, cout, temb):
    norm(p, key + ".norm1", cin)
    conv(p, key + ".conv1", cin, cout, 3)
    lin(p, key + ".time_emb_proj", temb, cout)
    norm(p, key + ".norm2", cout)
    conv(p, key + ".conv2", cout, cout, 3)
    if cin != cout:
        conv(p, key + ".conv_shortcut", cin, cout, 1)


def transformer_keys(p, key, c, ctx):
    norm(p, key + ".norm", c)
    lin(p, key + ".proj_in", c, c)
    b = key + ".transformer_blocks.0"
    norm(p, b + ".norm1", c)
    for n in ("to_q", "to_k", "to_v"):
        lin(p, b + ".attn1." + n, c, c, bias=False)
    lin(p, b + ".attn1.to_out.0", c, c)
    norm(p, b + ".norm2", c)
    lin(p, b + ".attn2.to_q", c, c, bias=False)
    lin(p, b + ".attn2.to_k", ctx, c, bias=False)
    lin(p, b + ".attn2.to_v", ctx, c, bias=False)
    lin(p, b + ".attn2.to_out.0", c, c)
    lin(p, b + ".attn2.to_k_ip", ctx, c, bias=False)
    lin(p, b + ".attn2.to_v_ip", ctx, c, bias=False)
    norm(p, b + ".norm3", c)
    lin(p, b + ".ff.net.0.proj", c, 8 * c)
    lin(p, b + ".ff.net.2", 4 * c, c)
    lin(p, key + ".proj_out", c, c)


def unet_keys(chans, layers, ctx, cin_img=3, cout_img=3):
    p = []
    c0 = chans[0]
    temb = 4 * c0
    conv(p, "conv_in", cin_img, c0, 3)
    lin(p, "time_embedding.linear_1", c0, temb)
    lin(p, "time_embedding.linear_2", temb, temb)
    skips, cin = [c0], c0
    for i, c in enumerate(chans):
        key = f"down_blocks.{i}"
        if i > 0:
            for j in range(layers):
                transformer_keys(p, f"{key}.attentions.{j}", c, ctx)
        for j in range(layers):
            resnet_keys(p, f"{key}.resnets.{j}", cin if j == 0 else c, c, temb)
            skips.append(c)
        cin = c
        if i < len(chans) - 1:
            conv(p, f"{key}.downsamplers.0.conv", c, c, 3)
            skips.append(c)
    for u, lvl in enumerate(reversed(range(len(chans)))):
        c = chans[lvl]
        key = f"up_blocks.{u}"
        ins = []
        for j in range(layers + 1):
            ins.append(cin + skips.pop())
            cin = c
        if lvl > 0:
            for j in range(layers + 1):
                transformer_keys(p, f"{key}.attentions.{j}", c, ctx)
        for j, ci in enumerate(ins):
            resnet_keys(p, f"{key}.resnets.{j}", ci, c, temb)
        if lvl > 0:
            conv(p, f"{key}.upsamplers.0.conv", c, c, 3)
    cm = chans[-1]
    transformer_keys(p, "mid_block.attentions.0", cm, ctx)
    resnet_keys(p, "mid_block.resnets.0", cm, cm, temb)
    resnet_keys(p, "mid_block.resnets.1", cm, cm, temb)
    norm(p, "conv_norm_out", c0)
    conv(p, "conv_out", c0, cout_img, 3)
    return p


def resampler_keys(emb, dim, depth, heads, dim_head, queries, out, mult=4):
    p = [("latents", (1, queries, dim))]
    lin(p, "proj_in", emb, dim)
    inner = heads * dim_head
    for i in range(depth):
        a = f"layers.{i}.0"
        norm(p, a + ".norm1", dim)
        norm(p, a + ".norm2", dim)
        lin(p, a + ".to_q", dim, inner, bias=False)
        lin(p, a + ".to_kv", dim, 2 * inner, bias=False)
        lin(p, a + ".to_out", inner, dim, bias=False)
        f = f"layers.{i}.1"
        norm(p, f + ".0", dim)
        lin(p, f + ".1", dim, mult * dim, bias=False)
        lin(p, f + ".3", mult * dim, dim, bias=False)
    lin(p, "proj_out", dim, out)
    norm(p, "norm_out", out)
    return p


# ---------------------------------------------------------------- float64 forward
_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def linear(P, key, x):
    y = x @ P[key + ".weight"].T
    return y + P[key + ".bias"] if key + ".bias" in P else y


def layer_norm(P, key, x, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * P[key + ".weight"] + P[key + ".bias"]


def group_norm(P, key, x, eps=1e-5):
    n, c, h, w = x.shape
    g = groups_for(c)
    xg = x.reshape(n, g, -1)
    m = xg.mean(2, keepdims=True)
    v = ((xg - m) ** 2).mean(2, keepdims=True)
    y = ((xg - m) / np.sqrt(v + eps)).reshape(n, c, h, w)
    return y * P[key + ".weight"][None, :, None, None] + P[key + ".bias"][None, :, None, None]


def conv2d(P, key, x, stride=1):
    w, b = P[key + ".weight"], P[key + ".bias"]
    k = w.shape[-1]
    pad = k // 2
    n, c, h, wd = x.shape
    xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad))
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, w.shape[0], oh, ow))
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out + b[None, :, None, None]


def mha(q, k, v, heads):
    b, l, c = q.shape
    s = k.shape[1]
    d = c // heads
    q = q.reshape(b, l, heads, d).transpose(0, 2, 1, 3)
    k = k.reshape(b, s, heads, d).transpose(0, 2, 1, 3)
    v = v.reshape(b, s, heads, d).transpose(0, 2, 1, 3)
    a = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    a = np.exp(a - a.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    return (a @ v).transpose(0, 2, 1, 3).reshape(b, l, heads * d)


def resnet(P, key, x, temb):
    h = conv2d(P, key + ".conv1", silu(group_norm(P, key + ".norm1", x)))
    h = h + linear(P, key + ".time_emb_proj", silu(temb))[:, :, None, None]
    h = conv2d(P, key + ".conv2", silu(group_norm(P, key + ".norm2", h)))
    sc = conv2d(P, key + ".conv_shortcut", x) if key + ".conv_shortcut.weight" in P else x
    return sc + h


def transformer(P, key, x, text, ip, ip_scale, heads):
    n, c, hh, ww = x.shape
    h = group_norm(P, key + ".norm", x).reshape(n, c, hh * ww).transpose(0, 2, 1)
    h = linear(P, key + ".proj_in", h)
    b = key + ".transformer_blocks.0"
    t = layer_norm(P, b + ".norm1", h)
    a = b + ".attn1"
    h = h + linear(P, a + ".to_out.0", mha(linear(P, a + ".to_q", t), linear(P, a + ".to_k", t), linear(P, a + ".to_v", t), heads))
    t = layer_norm(P, b + ".norm2", h)
    a = b + ".attn2"
    q = linear(P, a + ".to_q", t)
    o = mha(q, linear(P, a + ".to_k", text), linear(P, a + ".to_v", text), heads)
    if ip is not None:
        o = o + ip_scale * mha(q, linear(P, a + ".to_k_ip", ip), linear(P, a + ".to_v_ip", ip), heads)
    h = h + linear(P, a + ".to_out.0", o)
    gg = linear(P, b + ".ff.net.0.proj", layer_norm(P, b + ".norm3", h))
    half = gg.shape[-1] // 2
    h = h + linear(P, b + ".ff.net.2", gg[..., :half] * gelu(gg[..., half:]))
    h = linear(P, key + ".proj_out", h)
    return x + h.transpose(0, 2, 1).reshape(n, c, hh, ww)


def timestep_embedding(t, dim):
    """diffusers get_timestep_embedding, flip_sin_to_cos=True, downscale_freq_shift=0 (float32 args)."""
    half = dim // 2
    f = np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float64) / half).astype(np.float32)
    a = (t.astype(np.float32)[:, None] * f[None]).astype(np.float64)
    return np.concatenate([np.cos(a), np.sin(a)], -1)


def unet(P, x, t, text, ip, ip_scale, chans, layers, heads):
    te = linear(P, "time_embedding.linear_2", silu(linear(P, "time_embedding.linear_1", timestep_embedding(t, chans[0]))))
    h = conv2d(P, "conv_in", x)
    hs = [h]
    for i in range(len(chans)):
        for j in range(layers):
            h = resnet(P, f"down_blocks.{i}.resnets.{j}", h, te)
            if i > 0:
                h = transformer(P, f"down_blocks.{i}.attentions.{j}", h, text, ip, ip_scale, heads)
            hs.append(h)
        if i < len(chans) - 1:
            h = conv2d(P, f"down_blocks.{i}.downsamplers.0.conv", h, stride=2)
            hs.append(h)
    h = resnet(P, "mid_block.resnets.0", h, te)
    h = transformer(P, "mid_block.attentions.0", h, text, ip, ip_scale, heads)
    h = resnet(P, "mid_block.resnets.1", h, te)
    for u, lvl in enumerate(reversed(range(len(chans)))):
        for j in range(layers + 1):
            h = resnet(P, f"up_blocks.{u}.resnets.{j}", np.concatenate([h, hs.pop()], axis=1), te)
            if lvl > 0:
                h = transformer(P, f"up_blocks.{u}.attentions.{j}", h, text, ip, ip_scale, heads)
        if lvl > 0:
            h = conv2d(P, f"up_blocks.{u}.upsamplers.0.conv", h.repeat(2, axis=2).repeat(2, axis=3))
    assert not hs
    return conv2d(P, "conv_out", silu(group_norm(P, "conv_norm_out", h)))


def resampler(P, x, depth, heads):
    lat = np.repeat(P["latents"], x.shape[0], axis=0)
    x = linear(P, "proj_in", x)
    for i in range(depth):
        a = f"layers.{i}.0"
        xn, ln = layer_norm(P, a + ".norm1", x), layer_norm(P, a + ".norm2", lat)
        kv = linear(P, a + ".to_kv", np.concatenate([xn, ln], axis=1))
        inner = kv.shape[-1] // 2
        lat = linear(P, a + ".to_out", mha(linear(P, a + ".to_q", ln), kv[..., :inner], kv[..., inner:], heads)) + lat
        f = f"layers.{i}.1"
        lat = linear(P, f + ".3", gelu(linear(P, f + ".1", layer_norm(P, f + ".0", lat)))) + lat
    return layer_norm(P, "norm_out", linear(P, "proj_out", lat))


# ---------------------------------------------------------------- files
def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_keys(path, table):
    with open(path, "w") as f:
        for k, s in table:
            f.write(f"{k} {'x'.join(str(d) for d in s)}\n")


def draw(rng, table, scale_of):
    P = {}
    for k, s in table:
        if k.endswith("norm1.weight") or k.endswith("norm2.weight") or k.endswith("norm3.weight") or \
                k.endswith("norm.weight") or k.endswith("norm_out.weight") or k.endswith(".0.weight") and len(s) == 1:
            a = 1.0 + 0.2 * rng.standard_normal(s)          # norm gains near 1
        elif len(s) == 1:
            a = 0.1 * rng.standard_normal(s)                # biases (and norm shifts)
        else:
            a = rng.standard_normal(s) * scale_of(s)
        P[k] = a.astype(np.float32).astype(np.float64)
    return P


def main():
    rng = np.random.default_rng(20240612)
    chans, layers, heads, ctx = [8, 16, 16], 1, 4, 8
    r_emb, r_dim, r_depth, r_heads, r_dh, r_q = 12, 16, 2, 2, 8, 4
    fan_in = lambda s: 1.0 / math.sqrt(int(np.prod(s[1:])))
    UT = unet_keys(chans, layers, ctx)
    RT = resampler_keys(r_emb, r_dim, r_depth, r_heads, r_dh, r_q, ctx)
    PU = draw(rng, UT, fan_in)
    PR = draw(rng, RT, lambda s: 1.0 / math.sqrt(s[-1]) if len(s) == 3 else fan_in(s))
    f32 = lambda a: a.astype(np.float32).astype(np.float64)
    x = f32(rng.standard_normal((2, 3, 16, 16)))
    text = f32(rng.standard_normal((2, 6, ctx)))
    tokens = f32(rng.standard_normal((2, 5, r_emb)))
    t = np.array([17, 803])
    r_out = resampler(PR, tokens, r_depth, r_heads)
    ip = f32(r_out)                                       # Swift feeds its own float32 resampler output
    u_out = unet(PU, x, t, text, ip, 0.7, chans, layers, heads)
    u_noip = unet(PU, x, t, text, None, 0.0, chans, layers, heads)
    os.makedirs(OUT, exist_ok=True)
    weights = {"unet." + k: v for k, v in PU.items()}
    weights.update({"resampler." + k: v for k, v in PR.items()})
    meta = {"script": "scripts/golden_unet.py", "seed": "20240612", "chans": "8,16,16", "layers": str(layers), "ctx": str(ctx)}
    write_safetensors(os.path.join(OUT, "golden_unet_weights.safetensors"), weights, meta)
    io = {"x": x, "text": text, "tokens": tokens, "timesteps": t.astype(np.float64),
          "resampler_out": r_out, "unet_out": u_out, "unet_out_noip": u_noip}
    write_safetensors(os.path.join(OUT, "golden_unet_io.safetensors"), io, dict(meta, ip_scale="0.7"))
    write_keys(os.path.join(OUT, "unet_keys_standard.txt"), unet_keys([64, 128, 128], 2, 128))
    write_keys(os.path.join(OUT, "unet_keys_xs.txt"), unet_keys([32, 64, 64], 2, 128))
    write_keys(os.path.join(OUT, "resampler_keys_standard.txt"), resampler_keys(192, 128, 2, 4, 32, 8, 128))
    print("unet params", sum(int(np.prod(s)) for _, s in UT), "resampler params", sum(int(np.prod(s)) for _, s in RT))
    print("unet_out |max|", float(np.abs(u_out).max()), "ip effect", float(np.abs(u_out - u_noip).max()))


if __name__ == "__main__":
    main()
