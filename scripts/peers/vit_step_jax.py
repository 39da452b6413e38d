"""Peer benchmark (issue 22 item 3): one training step (forward, cross-entropy backward, AdamW) of the
patch-feature ViT that pretrain-vit trains (data/checkpoints/vit.json: timm ViT, 32x32, patch 4, width 64,
depth 12, 2 heads, MLP 256, class token, 13-class head), written in JAX and compiled by XLA for the CPU.
Same layer list as Sources/Models/ViT.swift: PatchEmbed (Conv 4x4 stride 4) -> [cls; patches] + pos_embed ->
12 x pre-norm block (LN -> qkv Linear -> softmax attention per head -> proj; LN -> fc1 -> exact GELU -> fc2)
-> LN -> head on the class token. LayerNorm eps 1e-6 as timm.
Prints one JSON line: params, median step seconds over --steps after one compiling warm-up step.
Usage: python vit_step_jax.py --width 64 --depth 12 --heads 2 --mlp 256 --batch 32 --res 32 --steps 10
(scripts/bench-peer runs it in its venv: PEER_SCRIPT=scripts/peers/vit_step_jax.py scripts/bench-peer ...)
"""
import argparse, json, math, time
import jax, jax.numpy as jnp
import numpy as np


def lin_init(key, cin, cout):
    return {"w": jax.random.normal(key, (cout, cin)) * (1.0 / math.sqrt(cin)), "b": jnp.zeros((cout,))}


def ln_init(c):
    return {"g": jnp.ones((c,)), "b": jnp.zeros((c,))}


def lin(p, x):
    return x @ p["w"].T + p["b"]


def ln(p, x):
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / jnp.sqrt(v + 1e-6) * p["g"] + p["b"]


def vit_init(key, a, classes=13):
    ks = jax.random.split(key, 4 + a.depth)
    tokens = (a.res // a.patch) ** 2 + 1
    p = {
        "patch": {"w": jax.random.normal(ks[0], (a.width, 3, a.patch, a.patch)) / math.sqrt(3 * a.patch * a.patch),
                  "b": jnp.zeros((a.width,))},
        "cls": jax.random.normal(ks[1], (1, 1, a.width)) * 0.02,
        "pos": jax.random.normal(ks[2], (1, tokens, a.width)) * 0.02,
        "norm": ln_init(a.width),
        "head": lin_init(ks[3], a.width, classes),
        "blocks": [],
    }
    for i in range(a.depth):
        b = jax.random.split(ks[4 + i], 4)
        p["blocks"].append({"n1": ln_init(a.width), "qkv": lin_init(b[0], a.width, 3 * a.width),
                            "proj": lin_init(b[1], a.width, a.width), "n2": ln_init(a.width),
                            "fc1": lin_init(b[2], a.width, a.mlp), "fc2": lin_init(b[3], a.mlp, a.width)})
    return p


def attention(p, x, heads):
    B, L, D = x.shape
    qkv = lin(p["qkv"], x).reshape(B, L, 3, heads, D // heads).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    s = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(D // heads)
    o = jax.nn.softmax(s, axis=-1) @ v
    return lin(p["proj"], o.transpose(0, 2, 1, 3).reshape(B, L, D))


def vit(p, x, a):
    y = jax.lax.conv_general_dilated(x, p["patch"]["w"], (a.patch, a.patch), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW")) + p["patch"]["b"][None, :, None, None]
    B, D = y.shape[0], y.shape[1]
    y = y.reshape(B, D, -1).transpose(0, 2, 1)
    y = jnp.concatenate([jnp.broadcast_to(p["cls"], (B, 1, D)), y], axis=1) + p["pos"]
    for b in p["blocks"]:
        y = y + attention(b, ln(b["n1"], y), a.heads)
        y = y + lin(b["fc2"], jax.nn.gelu(lin(b["fc1"], ln(b["n2"], y)), approximate=False))
    return lin(p["head"], ln(p["norm"], y)[:, 0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=64); ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--heads", type=int, default=2); ap.add_argument("--mlp", type=int, default=256)
    ap.add_argument("--patch", type=int, default=4); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--res", type=int, default=32); ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    params = vit_init(jax.random.PRNGKey(0), a)
    n = sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(params))
    x = jax.random.uniform(jax.random.PRNGKey(1), (a.batch, 3, a.res, a.res), minval=-1, maxval=1)
    labels = jnp.arange(a.batch) % 13
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss_fn(p):
        logits = vit(p, x, a)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))

    @jax.jit
    def step(p, m, v, i):
        l, g = jax.value_and_grad(loss_fn)(p)
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        p = jax.tree_util.tree_map(lambda p, m, v: p - 5e-4 * (m / (1 - 0.9 ** i) / (jnp.sqrt(v / (1 - 0.999 ** i)) + 1e-8) + 0.01 * p),
                                   p, m, v)
        return p, m, v, l

    params, m, v, l = step(params, m, v, 1.0)
    jax.block_until_ready(l)
    times = []
    for i in range(a.steps):
        t0 = time.perf_counter()
        params, m, v, l = step(params, m, v, float(i + 2))
        jax.block_until_ready(l)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"peer": "jax-xla-cpu", "jax": jax.__version__, "model": "vit", "params": n, "width": a.width,
                      "depth": a.depth, "heads": a.heads, "mlp": a.mlp, "batch": a.batch, "res": a.res,
                      "median_step_s": float(np.median(times)), "loss": float(l)}))


if __name__ == "__main__":
    main()
