"""Writes the weight files that the core module's weight-reader tests read, and the sample weights in data/weights.

Regenerate from the repository root with
    python3 data/weights/make_weights.py
using an interpreter that has torch, numpy and safetensors (the committed files were made with torch 1.13,
numpy 1.24 and safetensors 0.8.0). The seed is fixed, so the values only change if torch's generator does; the
order of the __metadata__ entries in a safetensors header may change from run to run (safetensors keeps them in a
hash map), which the tests allow for.

Outputs:
  core/src/test/resources/weights/   the fixtures, plus expected.json holding every value the tests compare with
  data/weights/                      model_f32.safetensors, fc_weight.npy and fc_bias.npy as sample weights
"""

import io
import json
from pathlib import Path

import numpy as np
import torch
from numpy.lib import format as npy_format
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "core" / "src" / "test" / "resources" / "weights"
SAMPLES = ROOT / "data" / "weights"


class Net(torch.nn.Module):
    """Two layers, so that a file holds more than the one Linear a test selects by prefix."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(8, 4)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.encoder(x)))


def values(t):
    """Shape and row-major float32 values, as the Java reader should produce them."""
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "values": t.reshape(-1).tolist()}


def array_values(a):
    a = np.array(a, dtype=np.float32, order="C")  # not ascontiguousarray, which makes a 0-d array 1-d
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def save_npy(name, array, version=None, allow_pickle=False):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, array, version=version, allow_pickle=allow_pickle)
    (FIXTURES / name).write_bytes(buffer.getvalue())


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(20241127)
    model = Net().eval()
    expected = {"versions": {"torch": torch.__version__, "numpy": np.__version__}, "safetensors": {}, "npy": {}}

    # Safetensors: the whole model in F32 with metadata, and the fc layer's state dict in the other float dtypes.
    metadata = {"format": "pt", "description": "Net(encoder=Linear(8, 4), fc=Linear(4, 3)), seed 20241127"}
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(FIXTURES / "model_f32.safetensors"), metadata=metadata)
    save_file(state, str(SAMPLES / "model_f32.safetensors"), metadata=metadata)
    expected["safetensors"]["model_f32.safetensors"] = {
        "metadata": metadata,
        "tensors": {k: values(v) for k, v in state.items()},
    }
    fc_state = {k: v.detach().contiguous() for k, v in model.fc.state_dict().items()}
    for name, dtype in [("f64", torch.float64), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
        converted = {k: v.to(dtype) for k, v in fc_state.items()}
        file_name = f"linear_{name}.safetensors"
        save_file(converted, str(FIXTURES / file_name))
        # The float32 values of the converted tensors: what reading them back must give.
        expected["safetensors"][file_name] = {
            "metadata": {},
            "tensors": {k: values(v) for k, v in converted.items()},
        }

    # Torch's own output of fc on a few inputs, for the end-to-end test.
    inputs = torch.randn(5, 4)
    with torch.no_grad():
        outputs = model.fc(inputs)
    expected["fc_forward"] = {"input": inputs.tolist(), "output": outputs.tolist()}

    # NumPy: the fc weight and bias in every layout and version the reader accepts.
    weight = model.fc.weight.detach().numpy().astype(np.float32)
    bias = model.fc.bias.detach().numpy().astype(np.float32)
    cube = (np.arange(24, dtype=np.float32) * 0.25 - 3).reshape(2, 3, 4)
    npy_files = {
        "fc_weight_f4.npy": (weight.astype("<f4"), None),
        "fc_bias_f4.npy": (bias.astype("<f4"), None),
        "fc_weight_f8.npy": (weight.astype("<f8"), None),
        "fc_weight_be_f4.npy": (weight.astype(">f4"), None),
        "fc_weight_be_f8.npy": (weight.astype(">f8"), None),
        "fc_weight_f2.npy": (weight.astype("<f2"), None),
        "fc_weight_fortran.npy": (np.asfortranarray(weight), None),
        "cube_fortran.npy": (np.asfortranarray(cube), None),
        "fc_weight_v2.npy": (weight, (2, 0)),
        "fc_weight_v3.npy": (weight, (3, 0)),
        "scalar_f4.npy": (np.array(1.5, dtype="<f4"), None),
        "empty_f4.npy": (np.zeros((0, 4), dtype="<f4"), None),
    }
    for file_name, (array, version) in npy_files.items():
        save_npy(file_name, array, version)
        expected["npy"][file_name] = array_values(array)
    np.save(SAMPLES / "fc_weight.npy", weight)
    np.save(SAMPLES / "fc_bias.npy", bias)

    # An object array: reading it would mean unpickling, which the reader must refuse.
    save_npy("object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)

    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
