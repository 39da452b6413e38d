#!/usr/bin/env python3
"""Every bench model against the original on the same subjects: the tuning table of docs/BENCH.md.

usage: scripts/bench_paired.py results.json [more results.json ...] [--setting one-reference|all-references]
                               [--resamples N] [--seed S]

Reads the bench's `artifacts/bench/results.json` (one or several runs that benched the same subjects with the same
seeds, e.g. dpo-train trained for different steps in copies of one run; models are prefixed by the file's parent run
directory when several are given; the first file's original is the base and the others' originals are rows, which
compares two samplers or settings benched in copies of one run). For every model it prints the mean per subject of identity, detail (shares of the
subject's judged images), DINO, CLIP-I and CLIP-T, and the paired difference model - original with its 95% interval from a
bootstrap that resamples subjects. Python's standard library only.
"""
import json
import os
import random
import sys

METRICS = ["identity", "detail", "dino", "clipI", "clipT"]


def per_subject(model):
    out = {}
    for s in model["perSubject"]:
        out[s["subject"]] = {"identity": s["identity"], "detail": s["detail"],
                             "dino": s["dino"], "clipI": s["clipI"], "clipT": s["clipT"]}
    return out


def interval(diffs, resamples, rng):
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def main(argv):
    opts, files, i = {"--setting": "one-reference", "--resamples": "2000", "--seed": "1"}, [], 0
    while i < len(argv):
        if argv[i].startswith("--"):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            files.append(argv[i])
            i += 1
    if not files:
        sys.exit(__doc__)
    rng = random.Random(int(opts["--seed"]))
    resamples = int(opts["--resamples"])
    rows, base = [], None
    for path in files:
        try:
            results = json.load(open(path))
        except (OSError, ValueError) as e:
            sys.exit(f"{path}: {e} (want a bench results.json)")
        label = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(path))))) if len(files) > 1 else ""
        models = [m for m in results["models"] if m.get("setting") == opts["--setting"]]
        if not models:
            sys.exit(f"{path}: no model in setting {opts['--setting']}")
        for m in models:
            if m["name"] == "original" and base is None:
                base = per_subject(m)   # the first file's original; later files' originals are rows (e.g. another sampler)
                continue
            rows.append(((label + ":" if label else "") + m["name"], per_subject(m)))
    if base is None:
        sys.exit("no `original` row to pair with")
    subjects = sorted(base)
    print(f"setting {opts['--setting']}, {len(subjects)} subjects; model - original, 95% subject bootstrap")
    print("model".ljust(40) + "".join(m.rjust(30) for m in METRICS))
    print("original".ljust(40) + "".join(f"{sum(base[s][m] for s in subjects) / len(subjects):30.3f}" for m in METRICS))
    for name, scores in rows:
        common = [s for s in subjects if s in scores]
        cells = []
        for m in METRICS:
            d = [scores[s][m] - base[s][m] for s in common]
            lo, hi = interval(d, resamples, rng)
            mean = sum(scores[s][m] for s in common) / len(common)
            cells.append(f"{mean:.3f} {sum(d) / len(d):+.3f} [{lo:+.3f}, {hi:+.3f}]".rjust(30))
        print(name.ljust(40) + "".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:])
