#!/usr/bin/env bash
# Mutation check for the autograd gradient checks: proves every backward rule is actually tested.
# For each recorded op and each of its inputs, scales that input's gradient by 1.1 (via a temporary
# patch of Backward.swift, selected at run time by AUTOGRAD_MUTATE=op:input) and requires that
# `swift test --filter AutogradTests` then FAILS. Restores the file on exit. One build, many runs.
set -euo pipefail
cd "$(dirname "$0")/.."
file=Sources/Autograd/Backward.swift
backup=$(mktemp)
cp "$file" "$backup"
trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
python3 - "$file" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
anchor = "            let inGrads = node.backward(g)\n"
patch = anchor.replace("let inGrads", "var inGrads") + """            if let m = ProcessInfo.processInfo.environment["AUTOGRAD_MUTATE"] {
                for j in inGrads.indices where m == "\\(node.op):\\(j)" { inGrads[j] = inGrads[j].map { Kernels.scale($0, 1.1) } }
            }
"""
assert anchor in s
open(p, "w").write("import Foundation\n" + s.replace(anchor, patch))
PY
swift build --build-tests >/dev/null
ops="add:0 add:1 addScalar:0 sub:0 sub:1 mul:0 mul:1 div:0 div:1 scale:0 exp:0 log:0 sqrt:0 pow:0 silu:0 gelu:0
sigmoid:0 tanh:0 relu:0 sum:0 mean:0 max:0 reshape:0 permute:0 slice:0 concat:0 concat:1 matmul:0 matmul:1 conv2d:0
conv2d:1 conv2d:2 upsampleNearest:0 avgPool:0 resizeBilinear:0 groupNorm:0 groupNorm:1 groupNorm:2 layerNorm:0
layerNorm:1 layerNorm:2 softmax:0 logSoftmax:0 attention:0 attention:1 attention:2 embedding:0 mse:0 mse:1 crossEntropy:0
groupNormSiLU:0 groupNormSiLU:1 groupNormSiLU:2 linear:0 linear:1 linear:2 geglu:0 multiHeadAttention:0 multiHeadAttention:1
multiHeadAttention:2"
missed=0
for m in $ops; do
  if AUTOGRAD_MUTATE=$m swift test --skip-build --filter AutogradTests >/dev/null 2>&1; then
    echo "NOT DETECTED: $m"; missed=$((missed + 1))
  else
    echo "detected: $m"
  fi
done
# Control: without a mutation the suite must pass.
swift test --skip-build --filter AutogradTests >/dev/null 2>&1 || { echo "control run failed"; exit 1; }
echo "missed: $missed"
[ "$missed" -eq 0 ]
