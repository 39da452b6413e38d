#!/usr/bin/env python3
"""The Python side of the safetensors interop check (see scripts/check-safetensors-interop).

  safetensors_interop.py write PATH   writes a sample with F32, F16 and BF16 tensors and
                                      metadata, using the real `safetensors` package, plus
                                      the expected Float32 decodings (as F32 tensors
                                      "expected.<name>", decoded by NumPy)
  safetensors_interop.py check PATH   loads the sample written by `st-interop write` and
                                      compares tensors, dtypes, shapes, metadata and the
                                      data-section bytes with what NumPy/safetensors produce
Exits 1 on any mismatch, printing each one.
"""
import sys

import numpy as np
from safetensors import TensorSpec, deserialize, safe_open, serialize
from safetensors.numpy import save

# What `st-interop write` must produce (keep in sync with Sources/st-interop/Sample.swift).
SWIFT_F32_MATRIX = (np.arange(12, dtype=np.float32) * np.float32(0.25) - np.float32(1.5)).reshape(3, 4)
SWIFT_F32_SCALAR = np.array(3.14159, dtype=np.float32)
SWIFT_F16_VECTOR = np.array([0, 1, -2.5, 65504, 1e-7, 0.1, 70000], dtype=np.float32)
SWIFT_METADATA = {"writer": "st-interop", "format": "pt", "note": "\u00fcn\u00efcode \"quoted\""}


with np.errstate(over="ignore"):  # 70000 overflows to inf on purpose
    F16_EXPECTED = SWIFT_F16_VECTOR.astype(np.float16)


def write(path):
    f32 = (np.arange(6, dtype=np.float32) * np.float32(0.5) - np.float32(1)).reshape(2, 3)
    f16 = np.array([0.1, -3, 1000, 6e-5, 65504, -0.0], dtype=np.float16)
    bf16_f32 = np.array([1.5, -0.0078125, 3.0e38, 0.1, -7.25], dtype=np.float32)
    # bfloat16 = the high 16 bits, rounded to nearest even (NumPy has no bfloat16 dtype).
    bits = bf16_f32.view(np.uint32)
    bf16_bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    bf16_decoded = (bf16_bits.astype(np.uint32) << 16).view(np.float32)
    arrays = {
        "py.f32": f32,
        "py.f16": f16,
        "expected.py.f16": f16.astype(np.float32),
        "expected.py.bf16": bf16_decoded,
    }
    keep = [np.ascontiguousarray(a) for a in arrays.values()] + [bf16_bits]
    dtypes = {np.dtype(np.float32): "float32", np.dtype(np.float16): "float16"}
    specs = {name: TensorSpec(dtype=dtypes[a.dtype], shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
             for name, a in zip(arrays, keep)}
    specs["py.bf16"] = TensorSpec(dtype="bfloat16", shape=[len(bf16_bits)], data_ptr=bf16_bits.ctypes.data,
                                  data_len=bf16_bits.nbytes)
    data = serialize(specs, metadata={"writer": "python", "dtypes": "F32,F16,BF16"})
    del keep
    with open(path, "wb") as f:
        f.write(bytes(data))
    print(f"python: wrote {path}")


def check(path):
    errors = []

    def expect(cond, msg):
        if not cond:
            errors.append(msg)

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    raw = {name: info for name, info in deserialize(open(path, "rb").read())}
    expect(meta == SWIFT_METADATA, f"metadata {meta} != {SWIFT_METADATA}")
    expected = {
        "f32.matrix": (SWIFT_F32_MATRIX, "F32"),
        "f32.scalar": (SWIFT_F32_SCALAR, "F32"),
        "f16.vector": (F16_EXPECTED, "F16"),
        "f32.empty": (np.zeros((0, 3), dtype=np.float32), "F32"),
    }
    expect(set(tensors) == set(expected), f"keys {sorted(tensors)} != {sorted(expected)}")
    for name, (want, dtype) in expected.items():
        if name not in tensors:
            continue
        got = tensors[name]
        expect(raw[name]["dtype"] == dtype, f"{name}: dtype {raw[name]['dtype']} != {dtype}")
        expect(got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}")
        if got.shape == want.shape:
            same = got.astype(want.dtype).tobytes() == want.tobytes() and got.dtype == want.dtype
            expect(same, f"{name}: values differ: {got.ravel()[:8]} vs {want.ravel()[:8]}")
    # The data section must equal what the Python package writes for the same tensors.
    blob = open(path, "rb").read()
    n = int.from_bytes(blob[:8], "little")
    expect(n % 8 == 0, f"header length {n} is not a multiple of 8")
    ref = save({k: v for k, (v, _) in expected.items()})
    m = int.from_bytes(ref[:8], "little")
    expect(blob[8 + n:] == ref[8 + m:], "data section differs from safetensors.numpy.save of the same tensors")
    if errors:
        for e in errors:
            print(f"python check {path}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"python: {path} matches ({len(tensors)} tensors, {len(meta)} metadata keys)")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    (write if sys.argv[1] == "write" else check)(sys.argv[2])
