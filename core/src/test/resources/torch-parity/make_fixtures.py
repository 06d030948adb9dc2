"""Writes linear_cases.json: nn.Linear layers, inputs and outputs computed by PyTorch in float32.

TorchParityTest loads each layer's weight and bias into a spark-linear Linear and compares its outputs with these.

Regenerate from this directory with a Python that has PyTorch and NumPy (for example Debian's python3-torch):

    python3 make_fixtures.py

The seed is fixed, so the same PyTorch version on the same kind of CPU writes the same file. Values are written with
Python's shortest round-trip repr of each float32 (exact as a double), so a reader that parses a double and narrows it
to float gets back the very bits PyTorch computed.
"""

import json
import os

import torch

SEED = 20240607

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


if __name__ == "__main__":
    main()
