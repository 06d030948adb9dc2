"""Loads a module saved by the Java transformer into PyTorch and checks it gives the outputs Java gave.

A saved transformer directory holds architecture.json (the module tree as torch class names and constructor
arguments) and module.safetensors (its state dict under torch's keys). This script:

1. builds the same torch module from architecture.json (nn.Sequential, with named children where the JSON names
   them, and each module's training mode);
2. loads module.safetensors with safetensors.torch.load_file when the safetensors package is installed, else with
   the small reader below, and calls load_state_dict(strict=True): every key, shape and dtype must fit;
3. runs the module on the rows of samples.json (written by the Java side beside the saved files) and compares
   torch's float32 outputs with the Java outputs stored there.

Usage, with a Python that has PyTorch (for example Debian's python3-torch):

    python3 check_saved_transformer.py SAVED_DIR [--samples SAMPLES_JSON] [--write-expected OUT_JSON]

SAVED_DIR/samples.json is used when --samples is not given. --write-expected writes torch's repr, state dict keys,
the inputs and torch's outputs to OUT_JSON (torch_outputs.json beside this script is such a file, which a Java test
compares with). The Java side that saves such a directory is SavedTransformerSample in spark-job's tests:

    mvn -o -q -pl spark-job -am test-compile
    java -cp ... dev.sparklinear.spark.SavedTransformerSample saved-sample

Exit status 0 when every check passes.
"""

import argparse
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

FORMAT_VERSION = 1
DTYPES = {"F32": np.float32, "I64": np.int64}


def build(node, is_root=True):
    """The torch module an architecture node describes (training modes are set afterwards)."""
    node = dict(node)
    kind = node.pop("type")
    node.pop("training", None)
    node.pop("name", None)
    if is_root:
        version = node.pop("format_version")
        if version != FORMAT_VERSION:
            raise ValueError("unknown format_version %r" % version)
    if kind == "Sequential":
        children = OrderedDict()
        for index, child in enumerate(node.pop("children", [])):
            children[child.get("name", str(index))] = build(child, is_root=False)
        if node:
            raise ValueError("Sequential takes no arguments, got %s" % sorted(node))
        return nn.Sequential(children)
    if kind == "LayerNorm" and node.get("bias", True):
        # PyTorch added LayerNorm's bias argument in 2.1; True is its default, so older versions take the rest.
        node.pop("bias", None)
    cls = getattr(nn, kind)
    return cls(**node)


def set_modes(module, node, parent_training=True):
    training = node.get("training", parent_training)
    module.training = training
    for child_node, child in zip(node.get("children", []), module.children()):
        set_modes(child, child_node, training)


def read_safetensors(path):
    """A reader of the safetensors format for the two dtypes the Java side writes, checking the layout rules."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length].decode("utf-8"))
    buffer = data[8 + length:]
    header.pop("__metadata__", None)
    tensors = OrderedDict()
    covered = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        if begin != covered:
            raise ValueError("%s: tensor %s starts at %d, expected %d" % (path, name, begin, covered))
        dtype = DTYPES[info["dtype"]]
        values = np.frombuffer(buffer[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        tensors[name] = torch.from_numpy(values.astype(dtype).reshape(info["shape"]).copy())
        covered = end
    if covered != len(buffer):
        raise ValueError("%s: %d bytes of data, the header covers %d" % (path, len(buffer), covered))
    return tensors


def load_weights(path):
    try:
        from safetensors.torch import load_file
    except ImportError:
        return read_safetensors(path), "the reader in this script (no safetensors package installed)"
    return load_file(path), "safetensors.torch.load_file"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("saved_dir")
    parser.add_argument("--samples")
    parser.add_argument("--write-expected")
    args = parser.parse_args()

    with open(os.path.join(args.saved_dir, "architecture.json")) as f:
        architecture = json.load(f)
    model = build(architecture)
    set_modes(model, architecture)
    state, reader = load_weights(os.path.join(args.saved_dir, "module.safetensors"))
    expected_keys = list(model.state_dict().keys())
    result = model.load_state_dict(state, strict=True)
    print("torch %s; loaded module.safetensors with %s" % (torch.__version__, reader))
    print(model)
    print("load_state_dict(strict=True): %s" % (result,))
    for key, value in model.state_dict().items():
        print("  %-24s %-14s %s" % (key, str(value.dtype).replace("torch.", ""), list(value.shape)))
    if list(state.keys()) and sorted(state.keys()) != sorted(expected_keys):
        raise AssertionError("keys differ: file %s, model %s" % (sorted(state), sorted(expected_keys)))
    for key, value in state.items():
        if value.dtype != model.state_dict()[key].dtype:
            raise AssertionError("%s: file dtype %s, model dtype %s" % (key, value.dtype, model.state_dict()[key].dtype))

    samples_path = args.samples or os.path.join(args.saved_dir, "samples.json")
    with open(samples_path) as f:
        samples = json.load(f)
    inputs = torch.tensor(samples["inputs"], dtype=torch.float32)
    java = torch.tensor(samples["outputs"], dtype=torch.float32)
    with torch.no_grad():
        torch_out = model(inputs)
    difference = (torch_out - java).abs()
    bound = 1e-6 + 1e-5 * torch_out.abs()
    worst = float(difference.max())
    print("rows %d, outputs per row %d; largest |torch - java| = %.3g" % (inputs.shape[0], java.shape[1], worst))
    if not bool((difference <= bound).all()):
        raise AssertionError("Java outputs differ from torch's by more than 1e-6 + 1e-5 |torch|")
    print("OK: torch's outputs match the Java outputs within 1e-6 + 1e-5 |torch|")

    if args.write_expected:
        out = {
            "torch_version": torch.__version__,
            "made_by": "data/heads/check_saved_transformer.py from a directory saved by SavedTransformerSample",
            "repr": repr(model),
            "state_dict": {k: dict({"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)},
                                   **({"values": v.reshape(-1).tolist()} if v.dtype == torch.int64 else {}))
                           for k, v in model.state_dict().items()},
            "inputs": inputs.tolist(),
            "outputs": torch_out.tolist(),
        }
        with open(args.write_expected, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print("wrote %s" % args.write_expected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
