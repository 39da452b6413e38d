#!/usr/bin/env python3
"""Paired comparison of two adapter-gate runs on the same samples.

usage: scripts/paired_gate.py A.csv B.csv [--resamples N] [--seed S]

A.csv and B.csv are `pretrain gates --adapter-only --per-sample FILE` outputs of the same gate (same
subjects, backgrounds and seeds; e.g. two sampling settings or two checkpoints). For every column it
prints A's and B's means, the paired difference B - A and its 95% interval from a bootstrap that resamples
SUBJECTS (a subject's four scenes share its reference and are correlated), and for the 0/1 columns the
discordant pairs (samples only A gets right, only B gets right). Python's standard library only.
"""
import csv
import random
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no samples (want the CSV of `pretrain gates --per-sample`)")
    return {(r["subject"], r["background"]): r for r in rows}


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    opts = dict(zip(argv[::1], argv[1::1]))
    if len(args) < 2:
        sys.exit(__doc__)
    resamples = int(opts.get("--resamples", 10000))
    rng = random.Random(int(opts.get("--seed", 1)))
    a, b = read(args[0]), read(args[1])
    if a.keys() != b.keys():
        sys.exit(f"{args[0]} and {args[1]} hold different samples ({len(a.keys() ^ b.keys())} unmatched): compare runs of the same gate")
    keys = sorted(a)
    subjects = sorted({k[0] for k in keys})
    by_subject = {s: [k for k in keys if k[0] == s] for s in subjects}
    columns = [c for c in next(iter(a.values())) if c not in ("subject", "background")]
    print(f"{len(keys)} paired samples, {len(subjects)} subjects; B - A with a 95% subject-bootstrap interval ({resamples} resamples)")
    print(f"{'column':<16} {'A':>7} {'B':>7} {'B - A':>8}  {'95% interval':<18} discordant (A only / B only)")
    for c in columns:
        d = {k: float(b[k][c]) - float(a[k][c]) for k in keys}
        mean = lambda ks: sum(d[k] for k in ks) / len(ks)
        boot = []
        for _ in range(resamples):
            ks = [k for s in (rng.choice(subjects) for _ in subjects) for k in by_subject[s]]
            boot.append(mean(ks))
        boot.sort()
        lo, hi = boot[int(0.025 * resamples)], boot[int(0.975 * resamples) - 1]
        ma = sum(float(a[k][c]) for k in keys) / len(keys)
        mb = sum(float(b[k][c]) for k in keys) / len(keys)
        binary = all(a[k][c] in ("0", "1") and b[k][c] in ("0", "1") for k in keys)
        disc = ""
        if binary:
            only_a = sum(1 for k in keys if a[k][c] == "1" and b[k][c] == "0")
            only_b = sum(1 for k in keys if a[k][c] == "0" and b[k][c] == "1")
            disc = f"{only_a} / {only_b}"
        flag = "  (interval excludes 0)" if lo > 0 or hi < 0 else ""
        print(f"{c:<16} {ma:7.3f} {mb:7.3f} {mb - ma:+8.3f}  [{lo:+.3f}, {hi:+.3f}]   {disc}{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
