"""Writes the fixtures of the module-tree tests: PyTorch's outputs for every module type and for three trees.

Files written beside this script:
- modules.json: one case per module type (constructor arguments, torch's repr, state dict, inputs, outputs of the
  module in float32 and of the same module in float64, which the tests treat as the exact value; for GELU a float64
  formula without cancellation, see gelu_float64), and points of erf/erfc computed in float64.
- trees.json: three Sequential trees (repr, inputs, float32 and float64 outputs), the order in which torch calls the
  hooks registered on every node of the third tree, and the message torch gives for a damaged state dict.
- tree_<n>.safetensors: each tree's state_dict(), written as safetensors.torch.save_file writes it (F32 tensors,
  I64 for num_batches_tracked); the format is written by hand because no safetensors package is installed.

Regenerate from this directory with a Python that has PyTorch and NumPy (for example Debian's python3-torch):

    python3 make_fixtures.py

The seed is fixed. Values are written with Python's shortest round-trip repr of each float (a float32 widened to
double is exact), so a reader that parses a double and narrows it to float gets back the very bits torch computed.
NaN and infinities are written as NaN, Infinity and -Infinity.
"""

import copy
import json
import math
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn

SEED = 20261129
HERE = os.path.dirname(os.path.abspath(__file__))
NAN = float("nan")
INF = float("inf")


def elementwise_inputs(cols):
    """Rows of one scale each (the tests bound errors row by row), then rows of special values."""
    rows = [torch.randn(cols) * scale for scale in (1.0, 3.0, 10.0, 100.0, 1e-3)]
    rows.append(torch.linspace(-12.0, 12.0, cols))
    special = [NAN, INF, -INF, -0.0, 0.0, 1e-45, -1e-45, 3e38, -3e38, 88.0, -88.0, 1e-20]
    rows.append(torch.tensor((special * cols)[:cols]))
    return torch.stack(rows).float()


def row_inputs(cols):
    """Rows that stress a per-row reduction (LayerNorm, Softmax): offsets, large and constant rows, specials."""
    rows = [
        torch.randn(cols),
        torch.randn(cols) * 30.0,
        torch.randn(cols) * 1e-3,
        1e4 + torch.randn(cols),           # a large mean with a small spread: cancellation in the variance
        -5e3 + torch.randn(cols) * 1e-2,
        torch.full((cols,), 7.25),         # a constant row: variance 0
        torch.randn(cols) * 1e6,
        torch.linspace(-100.0, 100.0, cols),
    ]
    with_nan = torch.randn(cols)
    with_nan[2] = NAN
    with_inf = torch.randn(cols)
    with_inf[3] = INF
    with_minus_inf = torch.randn(cols)
    with_minus_inf[1] = -INF
    all_minus_inf = torch.full((cols,), -INF)
    rows += [with_nan, with_inf, with_minus_inf, all_minus_inf]
    return torch.stack(rows).float()


def batch_norm_inputs(cols):
    rows = [torch.randn(cols) * scale + shift for scale, shift in ((1.0, 0.0), (5.0, 2.0), (1e-3, 0.0), (1.0, 1e4))]
    special = torch.randn(cols)
    special[0], special[1], special[2] = NAN, INF, -INF
    rows.append(special)
    return torch.stack(rows).float()


def tensor_json(t):
    if t.dtype == torch.int64:
        return {"dtype": "int64", "shape": list(t.shape), "values": t.reshape(-1).tolist()}
    return {"dtype": "float32", "shape": list(t.shape), "values": t.reshape(-1).tolist()}


def randomize(module):
    """Replaces the init values of norms with random ones, so a test that loads nothing would fail."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if not name.endswith("weight") or p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 2.0)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) * 3.0 + 0.05)
            elif name.endswith("num_batches_tracked"):
                b.fill_(1234)


def run(module, inputs):
    module.eval()
    with torch.no_grad():
        out32 = module(inputs)
        out64 = copy.deepcopy(module).double()(inputs.double())
    return out32, out64


def gelu_float64(approximate):
    """GELU in float64 without the cancellation of 1 + erf (or 1 + tanh) in the negative tail, where torch's own
    float64 GELU loses every digit: 0.5 x erfc(-x / sqrt 2), and x sigmoid(2u) for the tanh form (the same functions,
    since 1 + tanh(u) = 2 sigmoid(2u))."""
    def f(x):
        if approximate == "tanh":
            u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
            return x * torch.sigmoid(2.0 * u)
        return 0.5 * x * torch.erfc(-x / math.sqrt(2.0))
    return f


def module_case(name, type_name, args, module, inputs, float64=None):
    randomize(module)
    out32, out64 = run(module, inputs)
    if float64 is not None:
        out64 = float64(inputs.double())
    return {
        "name": name,
        "type": type_name,
        "args": args,
        "repr": repr(module),
        "state_dict": {k: tensor_json(v) for k, v in module.state_dict().items()},
        "inputs": inputs.tolist(),
        "out32": out32.tolist(),
        "out64": out64.tolist(),
    }


def module_cases():
    e = elementwise_inputs(24)
    r = row_inputs(16)
    b = batch_norm_inputs(8)
    return [
        module_case("relu", "ReLU", {}, nn.ReLU(), e),
        module_case("gelu", "GELU", {}, nn.GELU(), e, gelu_float64("none")),
        module_case("gelu_tanh", "GELU", {"approximate": "tanh"}, nn.GELU(approximate="tanh"), e,
                    gelu_float64("tanh")),
        module_case("silu", "SiLU", {}, nn.SiLU(), e),
        module_case("sigmoid", "Sigmoid", {}, nn.Sigmoid(), e),
        module_case("tanh", "Tanh", {}, nn.Tanh(), e),
        module_case("identity", "Identity", {}, nn.Identity(), e),
        module_case("dropout", "Dropout", {"p": 0.2}, nn.Dropout(0.2), e),
        module_case("softmax", "Softmax", {"dim": -1}, nn.Softmax(dim=-1), r),
        module_case("softmax_implicit_dim", "Softmax", {}, nn.Softmax(), r),
        module_case("layer_norm", "LayerNorm", {"normalized_shape": 16}, nn.LayerNorm(16), r),
        module_case("layer_norm_plain", "LayerNorm", {"normalized_shape": 16, "eps": 1e-6, "elementwise_affine": False},
                    nn.LayerNorm(16, eps=1e-6, elementwise_affine=False), r),
        module_case("batch_norm", "BatchNorm1d", {"num_features": 8}, nn.BatchNorm1d(8), b),
        module_case("batch_norm_plain", "BatchNorm1d", {"num_features": 8, "eps": 1e-3, "affine": False},
                    nn.BatchNorm1d(8, eps=1e-3, affine=False), b),
    ]


def erf_points():
    x = torch.cat([
        torch.linspace(-7.0, 7.0, 1401),
        torch.logspace(-30, 0.8, 300),
        -torch.logspace(-30, 0.8, 300),
        torch.tensor([0.0, -0.0, 0.84375, 1.25, 2.857, 6.0, 26.0, -26.0, INF, -INF, NAN]),
    ]).float().double()
    return {"x": x.tolist(), "erf": torch.erf(x).tolist(), "erfc": torch.erfc(x).tolist()}


def trees():
    one = nn.Sequential(nn.Linear(48, 32), nn.LayerNorm(32), nn.GELU(), nn.Linear(32, 8))
    two = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 4),
                        nn.Sigmoid())
    three = nn.Sequential(
        nn.Linear(8, 16),
        nn.Sequential(nn.LayerNorm(16), nn.GELU(approximate="tanh"), nn.Sequential(nn.Linear(16, 16), nn.SiLU())),
        nn.Dropout(0.1),
        nn.Linear(16, 4),
        nn.Tanh(),
        nn.Identity(),
        nn.Softmax(dim=-1),
    )
    # Real running statistics: a few batches in training mode, as after training, then eval mode.
    two.train()
    with torch.no_grad():
        for _ in range(5):
            two(torch.randn(64, 16) * 2.0 + 0.5)
    randomize(one)
    randomize(three)
    return [("tree_1", one, 48), ("tree_2", two, 16), ("tree_3", three, 8)]


def tree_inputs(cols):
    x = torch.randn(9, cols)
    x[1] *= 20.0
    x[2] *= 1e-3
    x[3] = 0.0
    x[4] += 50.0
    return x.float()


def write_safetensors(path, state_dict):
    header = OrderedDict()
    chunks = []
    offset = 0
    for key, value in state_dict.items():
        data = value.contiguous().numpy().tobytes()  # little-endian on the machines this runs on
        dtype = {torch.float32: "F32", torch.int64: "I64"}[value.dtype]
        header[key] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the header is padded with spaces to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def hook_order(tree, inputs):
    """The order in which torch calls module and global hooks registered on every node of `tree`."""
    names = {id(m): name for name, m in tree.named_modules()}
    log = []
    handles = []
    for name, m in tree.named_modules():
        handles.append(m.register_forward_pre_hook(lambda mod, inp, n=name: log.append("pre " + n)))
        handles.append(m.register_forward_hook(lambda mod, inp, out, n=name: log.append("forward " + n)))
    handles.append(nn.modules.module.register_module_forward_pre_hook(
        lambda mod, inp: log.append("global_pre " + names[id(mod)])))
    handles.append(nn.modules.module.register_module_forward_hook(
        lambda mod, inp, out: log.append("global_forward " + names[id(mod)])))
    with torch.no_grad():
        tree(inputs)
    for h in handles:
        h.remove()
    return log


def damaged_load(tree):
    """Loads a damaged copy of the state dict and keeps torch's message."""
    state = OrderedDict((k, v.clone()) for k, v in tree.state_dict().items())  # no _metadata, as from a file
    del state["0.bias"]
    del state["1.running_var"]
    state["1.extra"] = torch.zeros(3)
    state["7.weight"] = torch.zeros(2, 2)
    state["foo"] = torch.zeros(1)
    state["4.weight"] = torch.zeros(4, 31)
    try:
        copy.deepcopy(tree).load_state_dict(state, strict=True)
    except RuntimeError as e:
        return {"removed": ["0.bias", "1.running_var"], "added": {"1.extra": [3], "7.weight": [2, 2], "foo": [1]},
                "reshaped": {"4.weight": [4, 31]}, "message": str(e)}
    raise AssertionError("the damaged state dict loaded")


def dump(path, header, list_key, items):
    """One item per line: small, and a regenerated file diffs item by item."""
    lines = [json.dumps(item, separators=(",", ":")) for item in items]
    with open(path, "w") as f:
        f.write(json.dumps(header)[:-1] + ', "%s": [\n' % list_key + ",\n".join(lines) + "\n]}\n")


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    common = {"torch_version": torch.__version__, "seed": SEED}
    dump(os.path.join(HERE, "modules.json"), dict(common, erf=erf_points()), "cases", module_cases())

    tree_items = []
    hooks = None
    for name, tree, cols in trees():
        inputs = tree_inputs(cols)
        out32, out64 = run(tree, inputs)
        write_safetensors(os.path.join(HERE, name + ".safetensors"), tree.state_dict())
        tree_items.append({
            "name": name,
            "repr": repr(tree),
            "modules": [n for n, _ in tree.named_modules()],
            "state_dict_keys": list(tree.state_dict().keys()),
            "inputs": inputs.tolist(),
            "out32": out32.tolist(),
            "out64": out64.tolist(),
        })
        if name == "tree_3":
            hooks = hook_order(tree, inputs)
        if name == "tree_2":
            damaged = damaged_load(tree)
    dump(os.path.join(HERE, "trees.json"), dict(common, hook_order=hooks, damaged_load=damaged), "trees", tree_items)


if __name__ == "__main__":
    main()
