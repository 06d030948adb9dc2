"""Writes the sample PyTorch head that conf/pytorch-head.yaml runs, and torch's outputs for the job tests to compare.

The head is a small nn.Sequential over the 4 features of data/seed (and of the rows below):

    Linear(4, 8) -> LayerNorm(8) -> GELU() -> Linear(8, 8) -> BatchNorm1d(8) -> ReLU() -> Dropout(0.1) -> Linear(8, 3)

with LayerNorm's affine parameters randomised and BatchNorm's running statistics gathered in training mode, as after
training. It is saved under the prefix "head." (keys head.0.weight, head.4.running_mean, head.4.num_batches_tracked,
...) as safetensors.torch.save_file would write model.state_dict(): F32 tensors and I64 for num_batches_tracked. The
format is written by hand (make_fixtures.py's writer), since no safetensors package is installed here.

Regenerate from the repository root with a Python that has PyTorch (for example Debian's python3-torch):

    python3 data/heads/make_head.py

Files written beside this script:
- head.safetensors: the state dict, prefixed with "head.".
- head.json: torch's repr of the head; rows (id, features) that start with the three rows of
  data/seed/features.parquet (ids 1 to 3) and go on with random ones; for each row the head's output in float32 and of
  the same head in float64 (the exact value the tests compare with); the float64 output with two hooks attached to
  children, as `hooks.layers` attaches them: a forward hook clamp(max=0.25) on child 2 (GELU) and a forward pre-hook
  clamp(max=0.2) on child 7 (the last Linear); and torch's repr of a wrong list of layers (a ReLU where the
  BatchNorm1d is, a last Linear of 4 outputs instead of 3, and one more Linear) and the message torch gives when the
  head's state dict is loaded into it strictly: every missing, unexpected and mismatched key at once.

Values are written with Python's shortest round-trip repr, so a float32 read back as a double and narrowed to float is
the very float torch had.
"""

import copy
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "core", "src", "test", "resources", "torch-trees"))
from make_fixtures import write_safetensors  # noqa: E402

SEED = 20261130
PREFIX = "head."
SEED_ROWS = [[1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
RANDOM_ROWS = 61
GELU_MAX = 0.25
LAST_INPUT_MAX = 0.2


def head():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Dropout(0.1), nn.Linear(8, 3))
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(8) * 0.5 + 1.0)
        model[1].bias.copy_(torch.randn(8) * 0.5)
    # Running statistics as after training: a few batches in training mode, of the inputs' scale.
    model.train()
    with torch.no_grad():
        for _ in range(6):
            model(torch.randn(64, 4) * 2.0)
    return model.eval()


def hooked(model):
    """A copy with the two hooks the tests configure under hooks.layers."""
    model = copy.deepcopy(model)
    model[2].register_forward_hook(lambda module, inputs, output: output.clamp(max=GELU_MAX))
    model[7].register_forward_pre_hook(lambda module, inputs: (inputs[0].clamp(max=LAST_INPUT_MAX),))
    return model


def wrong_layers(model):
    """The head's state dict loaded into a list of layers that does not match it, and torch's message."""
    wrong = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 8), nn.ReLU(), nn.ReLU(),
                          nn.Dropout(0.1), nn.Linear(8, 4), nn.Linear(4, 2))
    try:
        wrong.load_state_dict(model.state_dict(), strict=True)
    except RuntimeError as e:
        return {"repr": repr(wrong), "message": str(e)}
    raise AssertionError("the wrong layers loaded the head")


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = head()
    inputs = torch.cat([torch.tensor(SEED_ROWS), torch.randn(RANDOM_ROWS, 4) * 2.0]).float()
    with torch.no_grad():
        out32 = model(inputs)
        out64 = copy.deepcopy(model).double()(inputs.double())
        hooked64 = hooked(model).double()(inputs.double())
    # Each hook on its own must change the outputs clearly, or the test of hooks.layers would prove nothing.
    for child in (2, 7):
        one = copy.deepcopy(model).double()
        if child == 2:
            one[2].register_forward_hook(lambda module, inputs, output: output.clamp(max=GELU_MAX))
        else:
            one[7].register_forward_pre_hook(lambda module, inputs: (inputs[0].clamp(max=LAST_INPUT_MAX),))
        with torch.no_grad():
            change = (one(inputs.double()) - out64).abs().max().item()
        assert change > 0.05, "the hook on child %d changes the outputs by only %g" % (child, change)

    write_safetensors(os.path.join(HERE, "head.safetensors"),
                      {PREFIX + k: v for k, v in model.state_dict().items()})
    rows = [{"id": i + 1, "features": inputs[i].tolist(), "out32": out32[i].tolist(), "out64": out64[i].tolist(),
             "hooked64": hooked64[i].tolist()} for i in range(inputs.shape[0])]
    header = {"torch_version": torch.__version__, "seed": SEED, "repr": repr(model),
              "hooks": {"2.forward": "clamp(max=%g)" % GELU_MAX, "7.pre": "clamp(max=%g)" % LAST_INPUT_MAX},
              "wrong_layers": wrong_layers(model)}
    lines = [json.dumps(row, separators=(",", ":")) for row in rows]
    with open(os.path.join(HERE, "head.json"), "w") as f:
        f.write(json.dumps(header)[:-1] + ', "rows": [\n' + ",\n".join(lines) + "\n]}\n")


if __name__ == "__main__":
    main()
