"""Writes the fixtures of the fit tests (FitTorchParityTest): full-batch training runs made by torch.optim.

fixtures.json holds, beside this script:
- data: 240 rows of 5 float32 features, and for each row the labels of every case: "mse" (2 numbers), "mse1" (one
  number), "bce" (3 numbers, 0 or 1), "ce" (a class index in [0, 4)).
- cases: one per model, loss and optimizer: "linear" (nn.Linear(5, k)) and "mlp" (nn.Sequential(nn.Linear(5, 8),
  nn.ReLU(), nn.Linear(8, k))), with k the label width (4 classes for cross-entropy); losses MSELoss,
  BCEWithLogitsLoss, CrossEntropyLoss (reduction 'mean'); optimizers SGD with momentum, SGD with Nesterov momentum and
  weight decay, Adam, AdamW. Each case has the initial state dict, and the training done in float64 on the same
  float32 data: EPOCHS times opt.zero_grad(), loss = loss_fn(model(x), y), loss.backward(), opt.step(), recording
  loss.item() before each step, then the final state dict. The same run in float32 is recorded too, to show how far
  torch's own float32 training is from float64.

Regenerate from this directory with a Python that has PyTorch (for example Debian's python3-torch):

    python3 make_fixtures.py

The seed is fixed. Values are written with Python's shortest round-trip repr (a float32 widened to double is exact).
"""

import copy
import zlib
import json
import os

import torch
import torch.nn as nn

SEED = 20261215
HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 240
IN = 5
EPOCHS = 15

OPTIMIZERS = [
    ("sgd", {"type": "sgd", "lr": 0.05, "momentum": 0.9}),
    ("sgd-nesterov", {"type": "sgd", "lr": 0.03, "momentum": 0.8, "nesterov": True, "weight-decay": 0.01}),
    ("adam", {"type": "adam", "lr": 0.01, "betas": [0.9, 0.99]}),
    ("adamw", {"type": "adamw", "lr": 0.02, "weight-decay": 0.05}),
]


def optimizer(spec, params):
    if spec["type"] == "sgd":
        return torch.optim.SGD(params, lr=spec["lr"], momentum=spec.get("momentum", 0),
                               nesterov=spec.get("nesterov", False), weight_decay=spec.get("weight-decay", 0))
    if spec["type"] == "adam":
        return torch.optim.Adam(params, lr=spec["lr"], betas=tuple(spec.get("betas", (0.9, 0.999))))
    return torch.optim.AdamW(params, lr=spec["lr"], weight_decay=spec.get("weight-decay", 0.01))


def make_model(kind, k):
    if kind == "linear":
        return nn.Linear(IN, k)
    return nn.Sequential(nn.Linear(IN, 8), nn.ReLU(), nn.Linear(8, k))


def state_json(model):
    return {key: {"shape": list(t.shape), "values": t.detach().float().reshape(-1).tolist()}
            for key, t in model.state_dict().items()}


def train(model, loss_fn, x, y, spec, dtype):
    model = copy.deepcopy(model).to(dtype)
    x = x.to(dtype)
    y = y.to(dtype) if y.dtype.is_floating_point else y
    opt = optimizer(spec, model.parameters())
    losses = []
    for _ in range(EPOCHS):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {key: {"shape": list(t.shape), "values": t.detach().double().reshape(-1).tolist()}
                    for key, t in model.state_dict().items()}


def main():
    torch.manual_seed(SEED)
    x = torch.randn(ROWS, IN).float()
    x[:, 2] *= 3.0
    w_mse = torch.randn(2, IN)
    w_bce = torch.randn(3, IN)
    w_ce = torch.randn(4, IN)
    labels = {
        "mse": (x @ w_mse.T + 0.3 * torch.randn(ROWS, 2) + torch.tensor([0.5, -1.0])).float(),
        "bce": ((x @ w_bce.T + 0.5 * torch.randn(ROWS, 3)) > 0).float(),
        "ce": (x @ w_ce.T + 0.5 * torch.randn(ROWS, 4)).argmax(dim=1),
    }
    labels["mse1"] = labels["mse"][:, 0]
    losses = {"mse": (nn.MSELoss(), 2), "mse1": (nn.MSELoss(), 1), "bce": (nn.BCEWithLogitsLoss(), 3),
              "ce": (nn.CrossEntropyLoss(), 4)}
    loss_names = {"mse": "mse", "mse1": "mse", "bce": "bce-with-logits", "ce": "cross-entropy"}
    cases = []
    for kind in ("linear", "mlp"):
        for label in ("mse", "mse1", "bce", "ce"):
            for opt_name, spec in OPTIMIZERS:
                if label == "mse1" and opt_name not in ("sgd", "adam"):
                    continue
                loss_fn, k = losses[label]
                torch.manual_seed(SEED + zlib.crc32(f"{kind}-{label}-{opt_name}".encode()) % 1000)
                model = make_model(kind, k)
                y = labels[label]
                y_model = y.unsqueeze(1) if label == "mse1" else y
                losses64, final64 = train(model, loss_fn, x, y_model, spec, torch.float64)
                losses32, final32 = train(model, loss_fn, x, y_model, spec, torch.float32)
                cases.append({
                    "name": f"{kind}-{label}-{opt_name}",
                    "model": kind,
                    "label": label,
                    "out": k,
                    "loss": loss_names[label],
                    "optimizer": spec,
                    "epochs": EPOCHS,
                    "initial": state_json(model),
                    "losses64": losses64,
                    "final64": final64,
                    "losses32": losses32,
                    "final32": final32,
                })
    data = {"features": x.tolist(), "labels": {name: t.tolist() for name, t in labels.items()}}
    with open(os.path.join(HERE, "fixtures.json"), "w") as f:
        json.dump({"torch": torch.__version__, "seed": SEED, "data": data, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
