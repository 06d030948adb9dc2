"""Writes the fixtures of the loss and optimizer tests: PyTorch's values for every loss and optimizer in core.

Files written beside this script:
- losses.json: one case per loss, options and reduction: the outputs (logits) and targets, torch's loss value and its
  gradient with respect to the outputs in float32, and the same computed in float64 from the same float32 inputs,
  which the tests treat as the exact value. Inputs include large logits, where a naive log-sum-exp or log(1 + e^-x)
  overflows.
- optimizers.json: one case per optimizer and hyper-parameter set, run on nn.Sequential(nn.Linear(11, 3),
  nn.Linear(3, 2)) with 0.bias frozen (requires_grad=False, so it never has a gradient) and 1.bias without a gradient
  at step 3: the initial parameters, the gradient given at each step, the parameters after each step (float32), and
  the optimizer's state_dict() after step 2 and after the last step. The script checks that an optimizer loaded with
  the state dict of step 2 continues exactly as the uninterrupted run.

Regenerate from this directory with a Python that has PyTorch (for example Debian's python3-torch):

    python3 make_fixtures.py

The seed is fixed. Values are written with Python's shortest round-trip repr of each float (a float32 widened to
double is exact), so a reader that parses a double and narrows it to float gets back the very bits torch computed.
"""

import copy
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261130
HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5


def tensor_json(t):
    if t.dtype == torch.int64:
        return {"dtype": "int64", "shape": list(t.shape), "values": t.reshape(-1).tolist()}
    return {"dtype": "float32", "shape": list(t.shape), "values": t.detach().float().reshape(-1).tolist()}


# ------------------------------------------------------------------------------------------------------------ losses

def logits(rows, cols):
    """Random logits of several scales, then rows that overflow a naive exp in float32 and in float64."""
    x = torch.randn(rows, cols) * 2.0
    x[1] *= 10.0
    x[2] = torch.linspace(-1000.0, 1000.0, cols)
    x[3] = 1e4 + torch.randn(cols)           # a large offset with a small spread: cancellation in log-softmax
    x[4] = torch.tensor([100.0, -100.0, 30.0, -30.0, 88.0, -88.0][:cols] + [0.0] * max(0, cols - 6))
    return x.float()


def loss_case(name, loss_type, args, fn, output, target, target_is_float):
    def run(dtype):
        x = output.to(dtype).clone().requires_grad_(True)
        t = target.to(dtype) if target_is_float else target
        kwargs = {k: (v.to(dtype) if torch.is_tensor(v) else v) for k, v in fn_kwargs.items()}
        loss = fn(x, t, **kwargs)
        loss.backward()
        return loss.item(), x.grad

    fn_kwargs = {k: v for k, v in args.items() if k != "reduction"}
    fn_kwargs["reduction"] = args["reduction"]
    loss32, grad32 = run(torch.float32)
    loss64, grad64 = run(torch.float64)
    json_args = {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in args.items()}
    return {
        "name": name,
        "type": loss_type,
        "args": json_args,
        "output": output.tolist(),
        "target": target.tolist(),
        "loss32": loss32,
        "loss64": loss64,
        "grad32": grad32.tolist(),
        "grad64": grad64.tolist(),
    }


def loss_cases():
    cases = []
    rows, cols = 7, 4
    mse_out = torch.randn(rows, cols) * 3.0
    mse_out[1] *= 100.0
    mse_target = torch.randn(rows, cols)
    bce_out = logits(rows, cols)
    bce_target = torch.rand(rows, cols)
    bce_target[0:4] = (bce_target[0:4] > 0.5).float()  # hard labels on the large-logit rows, soft labels below
    pos_weight = torch.tensor([3.0, 0.5, 1.0, 10.0])
    bce_weight = torch.tensor([1.0, 2.0, 0.25, 0.5])
    classes = 6
    ce_out = logits(8, classes)
    ce_target = torch.randint(0, classes, (8,))
    ce_ignored = ce_target.clone()
    ce_ignored[1] = -100
    ce_ignored[5] = -100
    ce_custom_ignored = ce_target.clone()
    ce_custom_ignored[3] = 2
    ce_custom_ignored[6] = 2
    ce_weight = torch.tensor([0.5, 1.0, 2.0, 0.25, 1.5, 3.0])
    for reduction in ("mean", "sum"):
        r = {"reduction": reduction}
        cases.append(loss_case("mse_" + reduction, "MSELoss", r, F.mse_loss, mse_out, mse_target, True))
        cases.append(loss_case("bce_" + reduction, "BCEWithLogitsLoss", r, F.binary_cross_entropy_with_logits,
                               bce_out, bce_target, True))
        cases.append(loss_case("bce_pos_weight_" + reduction, "BCEWithLogitsLoss", dict(r, pos_weight=pos_weight),
                               F.binary_cross_entropy_with_logits, bce_out, bce_target, True))
        cases.append(loss_case("bce_weights_" + reduction, "BCEWithLogitsLoss",
                               dict(r, weight=bce_weight, pos_weight=pos_weight),
                               F.binary_cross_entropy_with_logits, bce_out, bce_target, True))
        cases.append(loss_case("ce_" + reduction, "CrossEntropyLoss", r, F.cross_entropy, ce_out, ce_target, False))
        cases.append(loss_case("ce_weight_" + reduction, "CrossEntropyLoss", dict(r, weight=ce_weight),
                               F.cross_entropy, ce_out, ce_target, False))
        cases.append(loss_case("ce_ignore_" + reduction, "CrossEntropyLoss", r, F.cross_entropy, ce_out, ce_ignored,
                               False))
        cases.append(loss_case("ce_ignore_index_2_" + reduction, "CrossEntropyLoss", dict(r, ignore_index=2),
                               F.cross_entropy, ce_out, ce_custom_ignored, False))
        cases.append(loss_case("ce_smoothing_" + reduction, "CrossEntropyLoss", dict(r, label_smoothing=0.1),
                               F.cross_entropy, ce_out, ce_target, False))
        cases.append(loss_case("ce_all_options_" + reduction, "CrossEntropyLoss",
                               dict(r, weight=ce_weight, label_smoothing=0.2),
                               F.cross_entropy, ce_out, ce_ignored, False))
    return cases


# -------------------------------------------------------------------------------------------------------- optimizers

OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("adam", "Adam", {}),
    ("adam_weight_decay", "Adam", {"lr": 1e-2, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}),
    ("adam_amsgrad", "Adam", {"lr": 1e-2, "amsgrad": True, "maximize": True}),
    ("adamw", "AdamW", {}),
    ("adamw_weight_decay", "AdamW", {"lr": 1e-2, "betas": [0.85, 0.995], "weight_decay": 0.1, "amsgrad": True}),
]


def make_model(initial):
    model = nn.Sequential(nn.Linear(11, 3), nn.Linear(3, 2))
    model.load_state_dict(initial)
    model[0].bias.requires_grad_(False)
    return model


def make_optimizer(type_name, args, model):
    kwargs = {k: (tuple(v) if k == "betas" else v) for k, v in args.items()}
    return getattr(torch.optim, type_name)(model.parameters(), **kwargs)  # foreach=None: the single-tensor step in 1.13


def gradients(model):
    """One gradient per parameter and step: several scales, none for the frozen bias, none for 1.bias at step 3."""
    steps = []
    for step in range(1, STEPS + 1):
        grads = {}
        for name, p in model.named_parameters():
            if not p.requires_grad or (name == "1.bias" and step == 3):
                grads[name] = None
                continue
            g = torch.randn_like(p) * [1.0, 1e-3, 100.0, 0.1, 1.0][step - 1]
            if name == "0.weight":
                g.view(-1)[0] = 0.0
                g.view(-1)[1] = -0.0
            grads[name] = g
        steps.append(grads)
    return steps


def run_steps(model, optimizer, steps):
    after = []
    for grads in steps:
        optimizer.zero_grad(set_to_none=True)
        for name, p in model.named_parameters():
            if grads[name] is not None:
                p.grad = grads[name].clone()
        optimizer.step()
        after.append({name: p.detach().clone() for name, p in model.named_parameters()})
    return after


def state_dict_json(optimizer):
    sd = optimizer.state_dict()
    state = {}
    for index, entries in sd["state"].items():
        state[str(index)] = {k: (tensor_json(v) if v is not None else None) for k, v in entries.items()}
    groups = []
    for group in sd["param_groups"]:
        groups.append({k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items()})
    return {"state": state, "param_groups": groups}


def optimizer_case(name, type_name, args, initial, steps):
    model = make_model(initial)
    optimizer = make_optimizer(type_name, args, model)
    after = run_steps(model, optimizer, steps[:2])
    at_two = state_dict_json(optimizer)
    saved = copy.deepcopy(optimizer.state_dict())  # state_dict() holds the live state tensors
    after += run_steps(model, optimizer, steps[2:])

    # Resume: a fresh model holding the parameters after step 2 and a fresh optimizer loaded from the state dict.
    resumed_model = make_model({k: v for k, v in after[1].items()})
    resumed = make_optimizer(type_name, args, resumed_model)
    resumed.load_state_dict(saved)
    resumed_after = run_steps(resumed_model, resumed, steps[2:])
    for expected, got in zip(after[2:], resumed_after):
        for key in expected:
            assert torch.equal(expected[key], got[key]), (name, key)

    return {
        "name": name,
        "type": type_name,
        "args": args,
        "initial": {k: tensor_json(v) for k, v in initial.items()},
        "requires_grad": {n: p.requires_grad for n, p in model.named_parameters()},
        "grads": [{k: (tensor_json(v) if v is not None else None) for k, v in g.items()} for g in steps],
        "after": [{k: tensor_json(v) for k, v in a.items()} for a in after],
        "state_dict_step_2": at_two,
        "state_dict": state_dict_json(optimizer),
    }


def optimizer_cases():
    template = nn.Sequential(nn.Linear(11, 3), nn.Linear(3, 2))
    initial = {k: v.detach().clone() for k, v in template.state_dict().items()}
    frozen = make_model(initial)
    steps = gradients(frozen)
    return [optimizer_case(n, t, a, initial, steps) for n, t, a in OPTIMIZERS]


def dump(path, header, list_key, items):
    """One item per line: small, and a regenerated file diffs item by item."""
    lines = [json.dumps(item, separators=(",", ":")) for item in items]
    with open(path, "w") as f:
        f.write(json.dumps(header)[:-1] + ', "%s": [\n' % list_key + ",\n".join(lines) + "\n]}\n")


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    common = {"torch_version": torch.__version__, "seed": SEED}
    dump(os.path.join(HERE, "losses.json"), common, "cases", loss_cases())
    dump(os.path.join(HERE, "optimizers.json"), common, "cases", optimizer_cases())


if __name__ == "__main__":
    main()
