#!/usr/bin/env python3
"""Golden reference for JeDi's coupled self-attention (Tests/ModelsTests/CoupledAttentionGoldenTests.swift).

Written from the JeDi paper (Zeng et al. 2024, sec. 3.2, Fig. 6: "a coupled self-attention layer has features
at each spatial location attending to every other location across all images in the set", implemented by a
reshape before and after a regular self-attention) and diffusers' `Attention` (to_q, to_k, to_v without bias,
to_out.0 with bias), in float64 NumPy, independently of the Swift code: the attention is computed with an
explicit loop over sets, heads and query tokens, never by reshaping the batch.

Dimensions: B = 2 sets of S = 3 images, L = 2 tokens per image, C = 4 channels, 2 heads of dim 2.
Inputs (flat row-major index j of each array):
    x[n, l, c]       = sin(0.37 j + 0.1)                n = b S + s, shape [6, 2, 4]
    to_q.weight[o,i] = 0.5 cos(0.7 j + 0.2)             [4, 4] (PyTorch Linear layout [out, in])
    to_k.weight      = 0.5 sin(0.9 j + 0.3)
    to_v.weight      = 0.5 cos(1.3 j + 0.5)
    to_out.0.weight  = 0.5 sin(0.45 j + 0.7)
    to_out.0.bias[o] = 0.1 (o + 1) - 0.25
Output y [6, 2, 4]: for set b, image s, token l, head h (channels 2h, 2h+1):
    q = x[bS+s, l] Wq^T, k_(s',l') = x[bS+s', l'] Wk^T, v_(s',l') = x[bS+s', l'] Wv^T
    a_(s',l') = softmax over all S L keys of the set of q_h . k_h(s',l') / sqrt(2)
    o_h = sum a_(s',l') v_h(s',l');  y = concat_h(o_h) Wout^T + bout
Also printed: the uncoupled (per-image) output, to show the two differ.
Run:  python3 scripts/golden_jedi_attention.py   (numpy only; deterministic)
"""
import numpy as np

B, S, L, C, H = 2, 3, 2, 4, 2
D = C // H


def formula(shape, f):
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    return f(j).reshape(shape)


x = formula((B * S, L, C), lambda j: np.sin(0.37 * j + 0.1))
wq = formula((C, C), lambda j: 0.5 * np.cos(0.7 * j + 0.2))
wk = formula((C, C), lambda j: 0.5 * np.sin(0.9 * j + 0.3))
wv = formula((C, C), lambda j: 0.5 * np.cos(1.3 * j + 0.5))
wo = formula((C, C), lambda j: 0.5 * np.sin(0.45 * j + 0.7))
bo = 0.1 * (np.arange(C) + 1) - 0.25


def attend(members):
    """Self-attention of token l of each image in `members` over all tokens of all `members`."""
    out = {}
    keys = [(m, l2) for m in members for l2 in range(L)]
    for m in members:
        for l in range(L):
            q = wq @ x[m, l]
            o = np.zeros(C)
            for h in range(H):
                sl = slice(h * D, (h + 1) * D)
                scores = np.array([q[sl] @ (wk @ x[m2, l2])[sl] for (m2, l2) in keys]) / np.sqrt(D)
                a = np.exp(scores - scores.max())
                a /= a.sum()
                o[sl] = sum(a_i * (wv @ x[m2, l2])[sl] for a_i, (m2, l2) in zip(a, keys))
            out[(m, l)] = wo @ o + bo
    return out


def run(set_size):
    y = np.zeros((B * S, L, C))
    for first in range(0, B * S, set_size):
        for (m, l), v in attend(list(range(first, first + set_size))).items():
            y[m, l] = v
    return y


coupled = run(S)
single = run(1)
print("coupled (S = 3), 48 values [6, 2, 4] row-major:")
print(", ".join(f"{v:.9f}" for v in coupled.ravel()))
print("uncoupled (S = 1):")
print(", ".join(f"{v:.9f}" for v in single.ravel()))
print("max |coupled - uncoupled| =", np.abs(coupled - single).max())
