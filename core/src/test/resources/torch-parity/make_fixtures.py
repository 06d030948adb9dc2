"""Writes the nn.Linear fixtures of TorchParityTest, computed by PyTorch.

- linear_cases.json: small nn.Linear layers, their inputs and outputs in float32. TorchParityTest loads each layer's
  weight and bias into a spark-linear Linear and compares its outputs with these.
- exactness.json and exact_<in>x<out>.f32: the layers of the error comparison (64 -> 16, 300 -> 1, 256 -> 256 on
  inputs of scale 100, 1 -> 1, 1024 -> 1024). Their weights, biases and inputs are not stored: they come from a
  SplitMix64 stream (splitmix64 below), which the test repeats bit for bit in Java. Stored are torch's float32
  outputs (raw little-endian float32, row-major), the largest |float32 - float64| of torch on each case, and sums of
  the float64 outputs with which the test checks that it regenerated the same layer and inputs. Torch's float32
  error depends on the BLAS behind it: the committed files come from Debian's python3-torch on the reference BLAS
  (libblas.so.3, a plain sequential sum). With OpenBLAS installed as libblas.so.3 the outputs, and torch's error, differ.

Regenerate from this directory with a Python that has PyTorch and NumPy (for example Debian's python3-torch):

    python3 make_fixtures.py

The seed is fixed, so the same PyTorch version on the same kind of CPU writes the same file. Values are written with
Python's shortest round-trip repr of each float32 (exact as a double), so a reader that parses a double and narrows it
to float gets back the very bits PyTorch computed.
"""

import json
import math
import os

import numpy as np
import torch

SEED = 20240607
HERE = os.path.dirname(os.path.abspath(__file__))

# (in_features, out_features, bias): the shapes the kernel tests use, odd sizes included, with and without bias.
SHAPES = [
    (1, 1, True),
    (4, 3, True),
    (4, 3, False),
    (7, 5, True),
    (7, 5, False),
    (33, 17, True),
    (33, 17, False),
    (64, 16, True),
]


def make_inputs(in_features):
    """Five rows: three standard normal, one of large magnitude (x1000) and one of zeros (output is the bias)."""
    rows = torch.randn(5, in_features, dtype=torch.float32)
    rows[3] *= 1000.0
    rows[4] = 0.0
    return rows


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    cases = []
    for in_features, out_features, bias in SHAPES:
        layer = torch.nn.Linear(in_features, out_features, bias=bias)
        inputs = make_inputs(in_features)
        with torch.no_grad():
            outputs = layer(inputs)
        cases.append({
            "name": "linear_%dx%d_%s" % (in_features, out_features, "bias" if bias else "nobias"),
            "in_features": in_features,
            "out_features": out_features,
            "has_bias": bias,
            "weight": layer.weight.detach().tolist(),
            "bias": layer.bias.detach().tolist() if bias else None,
            "inputs": inputs.tolist(),
            "outputs": outputs.tolist(),
        })
    fixture = {
        "torch_version": torch.__version__,
        "seed": SEED,
        "dtype": "float32",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linear_cases.json")
    # One case per line: small, and a regenerated file diffs case by case.
    header = {k: v for k, v in fixture.items() if k != "cases"}
    lines = [json.dumps(case, separators=(",", ":")) for case in cases]
    with open(path, "w") as f:
        f.write(json.dumps(header)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n")


MASK64 = (1 << 64) - 1

# (name, in_features, out_features, rows, scale of the inputs, stream seed). Rows are enough for thousands of outputs
# per case, so that the largest error is a stable statistic, while the fixture stays small.
EXACTNESS_CASES = [
    ("exact_64x16", 64, 16, 256, 1.0, 1601),
    ("exact_300x1", 300, 1, 2048, 1.0, 3001),
    ("exact_256x256_scale100", 256, 256, 32, 100.0, 25601),
    ("exact_1x1", 1, 1, 2048, 1.0, 101),
    ("exact_1024x1024", 1024, 1024, 16, 1.0, 102401),
]


def splitmix64(seed, count):
    """count values of SplitMix64 (Steele, Lea, Flood 2014) from seed, as Java's SplittableRandom mixes them."""
    state = seed & MASK64
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def uniform_float32(seed, count, scale):
    """Values uniform in [-scale, scale): (top 24 bits - 2^23) / 2^23 is exact in float32, then times scale in
    float64, rounded once to float32. Java computes (float) (u * scale) with the same u and scale: the same bits."""
    u = np.array([(z >> 40) - (1 << 23) for z in splitmix64(seed, count)], dtype=np.float64) / float(1 << 23)
    return (u * scale).astype(np.float32)


def exactness_case(name, in_features, out_features, rows, x_scale, seed):
    # Weight and bias uniform in +-1/sqrt(in), torch's default initialisation range; one stream: weight, bias, inputs.
    bound = 1.0 / math.sqrt(in_features)
    values = uniform_float32(seed, out_features * in_features + out_features, bound)
    weight = torch.from_numpy(values[:out_features * in_features].reshape(out_features, in_features).copy())
    bias = torch.from_numpy(values[out_features * in_features:].copy())
    inputs = torch.from_numpy(uniform_float32(seed + 1, rows * in_features, x_scale).reshape(rows, in_features))
    layer = torch.nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
        outputs = layer(inputs)
        reference = layer.double()(inputs.double())
    with open(os.path.join(HERE, name + ".f32"), "wb") as f:
        f.write(outputs.numpy().astype("<f4").tobytes())
    error = (outputs.double() - reference).abs()
    return {
        "name": name,
        "in_features": in_features,
        "out_features": out_features,
        "rows": rows,
        "input_scale": x_scale,
        "weight_seed": seed,
        "input_seed": seed + 1,
        "outputs_file": name + ".f32",
        "torch_max_error": error.max().item(),
        "torch_mean_error": error.mean().item(),
        "reference_sum": math.fsum(reference.reshape(-1).tolist()),
        "reference_abs_sum": math.fsum(reference.abs().reshape(-1).tolist()),
    }


def write_exactness():
    torch.set_num_threads(1)
    cases = [exactness_case(*c) for c in EXACTNESS_CASES]
    fixture = {
        "torch_version": torch.__version__,
        "dtype": "float32",
        "generator": "splitmix64; weight then bias from weight_seed, inputs from input_seed; see make_fixtures.py",
        "cases": cases,
    }
    lines = [json.dumps(case, separators=(",", ":")) for case in cases]
    header = {k: v for k, v in fixture.items() if k != "cases"}
    with open(os.path.join(HERE, "exactness.json"), "w") as f:
        f.write(json.dumps(header)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n")


if __name__ == "__main__":
    main()
    write_exactness()
