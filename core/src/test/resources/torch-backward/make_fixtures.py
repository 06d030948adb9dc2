"""Writes the fixtures of the backward tests: PyTorch's gradients for every module type, three trees and hook order.

Files written beside this script:
- modules.json: one case per module type (constructor arguments, state dict, inputs, an upstream gradient), with
  torch's gradients with respect to the input and to each parameter, from the float32 module and from the same module
  in float64 on the same float32 values, which the tests treat as the exact values (for GELU a float64 formula
  without cancellation, see gelu_grad_float64). Modules run in eval mode, as the Java modules support.
- trees.json: the three trees of torch-trees/make_fixtures.py (same architectures, new random parameters), each with
  inputs, an upstream gradient and the float32 and float64 gradients of the input and of every parameter.
- hooks.json: the order in which torch runs forward pre-hooks, forward hooks, backward pre-hooks and backward hooks
  (global and per module) registered on every node of the third tree, once with an input that requires grad and once
  with one that does not (then a module whose input does not require grad gets grad_input (None,) and its backward
  hooks run right after its pre-hooks); and the parameters' gradients when one backward pre-hook doubles its
  module's grad_output and one backward hook negates and halves its module's grad_input, and a hook registered with
  prepend runs first.

The installed torch (Debian's python3-torch, 1.13) has register_full_backward_hook and the global
register_module_full_backward_hook, but not torch 2's backward pre-hooks nor prepend for backward hooks. This script
adds both exactly as torch 2.x does: BackwardPreHookEmulation.setup_output_hook is torch 2's
torch.utils.hooks.BackwardHook.setup_output_hook (pre-hooks, global then the module's, run on grad_output before it
flows into the module, and may replace it), and prepend moves the hook to the front of module._backward_hooks, as
torch 2's register_full_backward_hook(prepend=True) does.

Regenerate from this directory with a Python that has PyTorch (for example Debian's python3 with
python3-torch):

    python3 make_fixtures.py

The seed is fixed. Values are written with Python's shortest round-trip repr of each float (a float32 widened to
double is exact), so a reader that parses a double and narrows it to float gets back the very bits torch computed.
"""

import copy
import json
import math
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.utils.hooks

SEED = 20261201
HERE = os.path.dirname(os.path.abspath(__file__))


def tensor_json(t):
    if t.dtype == torch.int64:
        return {"dtype": "int64", "shape": list(t.shape), "values": t.reshape(-1).tolist()}
    return {"dtype": "float32", "shape": list(t.shape), "values": t.detach().float().reshape(-1).tolist()}


def values(t):
    return None if t is None else t.detach().reshape(-1).tolist()


def inputs(rows, cols):
    """Rows of one scale each (the tests bound errors row by row)."""
    scales = [1.0, 3.0, 10.0, 0.01, 1.0, 0.3]
    x = torch.stack([torch.randn(cols) * scales[r % len(scales)] for r in range(rows)])
    x[rows - 1] = torch.linspace(-6.0, 6.0, cols)
    return x.float()


def randomize(module):
    """Random parameters and running statistics, so that a test that loads nothing would fail."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("weight") and p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.5 + 1.0)
            elif p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.5)
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 2.0)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) * 3.0 + 0.05)


def gradients(module, x, g, dtype):
    """The gradient of (y * g).sum() with respect to x and every parameter, for the module in `dtype`."""
    m = module if dtype == torch.float32 else copy.deepcopy(module).double()
    m.eval()
    xin = x.to(dtype).clone().requires_grad_(True)
    y = m(xin)
    y.backward(g.to(dtype))
    return xin.grad, OrderedDict((n, p.grad) for n, p in m.named_parameters())


def gelu_grad_float64(approximate):
    """GELU's derivative in float64 without the cancellation of 1 + erf (or 1 + tanh) in the negative tail."""
    def f(x):
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            u = k * (x + 0.044715 * x ** 3)
            s = torch.sigmoid(2.0 * u)
            return s + 2.0 * x * s * torch.sigmoid(-2.0 * u) * k * (1.0 + 3.0 * 0.044715 * x * x)
        return 0.5 * torch.erfc(-x / math.sqrt(2.0)) + x * torch.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return f


def module_case(name, type_name, args, module, rows, cols, out_cols=None, grad64=None):
    randomize(module)
    module.eval()
    x = inputs(rows, cols)
    g = torch.randn(rows, out_cols or cols).float()
    dx32, p32 = gradients(module, x, g, torch.float32)
    dx64, p64 = gradients(module, x, g, torch.float64)
    if grad64 is not None:
        dx64 = g.double() * grad64(x.double())
    return {
        "name": name,
        "type": type_name,
        "args": args,
        "repr": repr(module),
        "state_dict": {k: tensor_json(v) for k, v in module.state_dict().items()},
        "inputs": x.tolist(),
        "grad_output": g.tolist(),
        "grad_input32": dx32.tolist(),
        "grad_input64": dx64.tolist(),
        "parameter_grads32": {k: values(v) for k, v in p32.items()},
        "parameter_grads64": {k: values(v) for k, v in p64.items()},
    }


def module_cases():
    return [
        module_case("linear", "Linear", {"in_features": 12, "out_features": 5}, nn.Linear(12, 5), 7, 12, 5),
        module_case("linear_no_bias", "Linear", {"in_features": 9, "out_features": 20, "bias": False},
                    nn.Linear(9, 20, bias=False), 6, 9, 20),
        module_case("relu", "ReLU", {}, nn.ReLU(), 6, 16),
        module_case("gelu", "GELU", {}, nn.GELU(), 6, 16, grad64=gelu_grad_float64("none")),
        module_case("gelu_tanh", "GELU", {"approximate": "tanh"}, nn.GELU(approximate="tanh"), 6, 16,
                    grad64=gelu_grad_float64("tanh")),
        module_case("silu", "SiLU", {}, nn.SiLU(), 6, 16),
        module_case("sigmoid", "Sigmoid", {}, nn.Sigmoid(), 6, 16),
        module_case("tanh", "Tanh", {}, nn.Tanh(), 6, 16),
        module_case("softmax", "Softmax", {"dim": -1}, nn.Softmax(dim=-1), 6, 16),
        module_case("layer_norm", "LayerNorm", {"normalized_shape": 16}, nn.LayerNorm(16), 6, 16),
        module_case("layer_norm_plain", "LayerNorm", {"normalized_shape": 16, "eps": 1e-6, "elementwise_affine": False},
                    nn.LayerNorm(16, eps=1e-6, elementwise_affine=False), 6, 16),
        module_case("batch_norm", "BatchNorm1d", {"num_features": 8}, nn.BatchNorm1d(8), 6, 8),
        module_case("batch_norm_plain", "BatchNorm1d", {"num_features": 8, "eps": 1e-3, "affine": False},
                    nn.BatchNorm1d(8, eps=1e-3, affine=False), 6, 8),
        module_case("dropout", "Dropout", {"p": 0.2}, nn.Dropout(0.2), 6, 16),
        module_case("identity", "Identity", {}, nn.Identity(), 6, 16),
    ]


def trees():
    one = nn.Sequential(nn.Linear(48, 32), nn.LayerNorm(32), nn.GELU(), nn.Linear(32, 8))
    two = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 4),
                        nn.Sigmoid())
    three = tree_three()
    for tree in (one, two, three):
        randomize(tree)
        tree.eval()
    return [("tree_1", one, 48, 8), ("tree_2", two, 16, 4), ("tree_3", three, 8, 4)]


def tree_three():
    return nn.Sequential(
        nn.Linear(8, 16),
        nn.Sequential(nn.LayerNorm(16), nn.GELU(approximate="tanh"), nn.Sequential(nn.Linear(16, 16), nn.SiLU())),
        nn.Dropout(0.1),
        nn.Linear(16, 4),
        nn.Tanh(),
        nn.Identity(),
        nn.Softmax(dim=-1),
    )


def tree_case(name, tree, cols, out_cols):
    x = inputs(9, cols)
    g = torch.randn(9, out_cols).float()
    dx32, p32 = gradients(tree, x, g, torch.float32)
    dx64, p64 = gradients(tree, x, g, torch.float64)
    return {
        "name": name,
        "state_dict": {k: tensor_json(v) for k, v in tree.state_dict().items()},
        "inputs": x.tolist(),
        "grad_output": g.tolist(),
        "grad_input32": dx32.tolist(),
        "grad_input64": dx64.tolist(),
        "parameter_grads32": {k: values(v) for k, v in p32.items()},
        "parameter_grads64": {k: values(v) for k, v in p64.items()},
    }


# ------------------------------------------------------------------------------------------ torch 2's pre-hooks

GLOBAL_BACKWARD_PRE_HOOKS = []


class BackwardPreHookEmulation(torch.utils.hooks.BackwardHook):
    """torch 2's BackwardHook: its user_pre_hooks are the global backward pre-hooks, then the module's."""

    def __init__(self, module, user_hooks):
        super().__init__(module, user_hooks)
        self.user_pre_hooks = list(GLOBAL_BACKWARD_PRE_HOOKS) + list(getattr(module, "emulated_backward_pre_hooks", []))

    def setup_output_hook(self, args):  # torch 2.x's, unchanged but for the warning
        def fn(grad_fn):
            def hook(_, grad_output):
                self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output, self.n_outputs)
                if self.user_pre_hooks:
                    expected_len = len(self.grad_outputs)
                    for user_pre_hook in self.user_pre_hooks:
                        hook_grad_outputs = user_pre_hook(self.module, self.grad_outputs)
                        if hook_grad_outputs is None:
                            continue
                        if len(hook_grad_outputs) != expected_len:
                            raise RuntimeError("Backward pre hook returned an invalid number of grad_output")
                        self.grad_outputs = hook_grad_outputs
                local_grad_outputs = self.grad_outputs
                if self.input_tensors_index is None:
                    grad_inputs = self._pack_with_none([], [], self.n_inputs)
                    for user_hook in self.user_hooks:
                        res = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if res is not None and not (isinstance(res, tuple) and all(el is None for el in res)):
                            raise RuntimeError("Backward hook for Modules where no input requires "
                                               "gradient should always return None or None for all gradients.")
                    self.grad_outputs = None
                if local_grad_outputs is not None:
                    return tuple(local_grad_outputs[i] for i in self.output_tensors_index)
            grad_fn.register_hook(hook)

        is_tuple = True
        if not isinstance(args, tuple):
            args = (args,)
            is_tuple = False
        res, output_idx = self._apply_on_tensors(fn, args)
        self.n_outputs = len(args)
        self.output_tensors_index = output_idx
        if not is_tuple:
            res = res[0]
        return res


torch.utils.hooks.BackwardHook = BackwardPreHookEmulation


def register_backward_pre_hook(module, hook):
    module.__dict__.setdefault("emulated_backward_pre_hooks", []).append(hook)


def register_backward_hook_prepended(module, hook):
    handle = module.register_full_backward_hook(hook)
    module._backward_hooks.move_to_end(handle.id, last=False)  # torch 2's prepend=True
    return handle


def hook_run(tree, x, g, replace):
    """Runs forward and backward with hooks on every node; returns the log and the parameters' float32 gradients."""
    names = {id(m): name for name, m in tree.named_modules()}
    log = []
    GLOBAL_BACKWARD_PRE_HOOKS.clear()
    handles = []
    for name, m in tree.named_modules():
        m.__dict__["emulated_backward_pre_hooks"] = []
        handles.append(m.register_forward_pre_hook(lambda mod, inp, n=name: log.append("pre " + n)))
        handles.append(m.register_forward_hook(lambda mod, inp, out, n=name: log.append("forward " + n)))
        register_backward_pre_hook(m, lambda mod, gout, n=name: log.append("backward_pre " + n))
        handles.append(m.register_full_backward_hook(
            lambda mod, gin, gout, n=name: log.append("backward " + n + (" None" if gin[0] is None else ""))))
    GLOBAL_BACKWARD_PRE_HOOKS.append(lambda mod, gout: log.append("global_backward_pre " + names[id(mod)]))
    handles.append(nn.modules.module.register_module_full_backward_hook(
        lambda mod, gin, gout: log.append("global_backward " + names[id(mod)] + (" None" if gin[0] is None else ""))))
    handles.append(nn.modules.module.register_module_forward_pre_hook(
        lambda mod, inp: log.append("global_pre " + names[id(mod)])))
    handles.append(nn.modules.module.register_module_forward_hook(
        lambda mod, inp, out: log.append("global_forward " + names[id(mod)])))
    if replace:
        linear = tree[1][2][0]
        register_backward_pre_hook(linear, lambda mod, gout: (gout[0] * 2.0,))
        gelu = tree[1][1]
        handles.append(gelu.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * -0.5,)))
        last = tree[3]
        handles.append(last.register_full_backward_hook(lambda mod, gin, gout: log.append("backward 3 second")))
        handles.append(register_backward_hook_prepended(
            last, lambda mod, gin, gout: log.append("backward 3 prepended")))
    tree.zero_grad(set_to_none=True)
    y = tree(x)
    y.backward(g)
    for h in handles:
        h.remove()
    GLOBAL_BACKWARD_PRE_HOOKS.clear()
    for m in tree.modules():
        m.__dict__["emulated_backward_pre_hooks"] = []
    grads = {n: values(p.grad) for n, p in tree.named_parameters()}
    return log, grads, (x.grad.tolist() if x.grad is not None else None)


def hooks_fixture():
    tree = tree_three()
    randomize(tree)
    tree.eval()
    x = inputs(5, 8)
    g = torch.randn(5, 4).float()
    with_grad, _, _ = hook_run(tree, x.clone().requires_grad_(True), g, False)
    without_grad, _, _ = hook_run(tree, x.clone(), g, False)
    replaced_log, replaced, replaced_dx = hook_run(tree, x.clone().requires_grad_(True), g, True)
    _, plain, plain_dx = hook_run(tree, x.clone().requires_grad_(True), g, False)
    return {
        "state_dict": {k: tensor_json(v) for k, v in tree.state_dict().items()},
        "inputs": x.tolist(),
        "grad_output": g.tolist(),
        "order_input_requires_grad": with_grad,
        "order_input_without_grad": without_grad,
        "order_with_replacements": replaced_log,
        "parameter_grads": plain,
        "grad_input": plain_dx,
        "parameter_grads_with_replacements": replaced,
        "grad_input_with_replacements": replaced_dx,
    }


def dump(path, header, list_key, items):
    """One item per line: small, and a regenerated file diffs item by item."""
    lines = [json.dumps(item, separators=(",", ":")) for item in items]
    with open(path, "w") as f:
        f.write(json.dumps(header)[:-1] + ', "%s": [\n' % list_key + ",\n".join(lines) + "\n]}\n")


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    common = {"torch_version": torch.__version__, "seed": SEED}
    dump(os.path.join(HERE, "modules.json"), common, "cases", module_cases())
    dump(os.path.join(HERE, "trees.json"), common, "trees",
         [tree_case(name, tree, cols, out) for name, tree, cols, out in trees()])
    with open(os.path.join(HERE, "hooks.json"), "w") as f:
        json.dump(dict(common, **hooks_fixture()), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
