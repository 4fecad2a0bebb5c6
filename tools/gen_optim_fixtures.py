#!/usr/bin/python3
"""Writes the PyTorch parity fixtures of the optimizers: tests/fixtures/optim/<case>.txt.

Run with Debian's torch 1.13: /usr/bin/python3 tools/gen_optim_fixtures.py

Every case optimizes the same three float32 tensors (shapes (4, 5), (13,), (3, 3, 3), seeded
normal initial values) for STEPS steps with gradients given by a formula the C++ test evaluates
too (`gradient` below; double-precision sin/cos of the C library, rounded to float32), and halves
the learning rate before step LR_HALVING_STEP. A fixture stores the initial values and the
parameters after the CHECKPOINTS steps.

File format (text, one record per line):
  # <the PyTorch constructor call>
  param <k> <numel> <values...>          initial values of tensor k
  step <t> <k> <numel> <values...>       tensor k after step t
"""
import math
import os

import torch

SHAPES = [(4, 5), (13,), (3, 3, 3)]
STEPS = 120
LR_HALVING_STEP = 60
CHECKPOINTS = [1, 10, 60, 120]

# name -> (torch class, keyword arguments); the C++ test lists the same cases.
CASES = {
    "sgd_plain": ("SGD", dict(lr=0.05)),
    "sgd_weight_decay": ("SGD", dict(lr=0.05, weight_decay=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    "rmsprop_plain": ("RMSprop", dict(lr=0.01)),
    "rmsprop_weight_decay": ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    "rmsprop_centered": ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.05)),
    "rmsprop_momentum": ("RMSprop", dict(lr=0.01, momentum=0.9)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True,
                                                  weight_decay=0.01, eps=1e-6)),
    "adam_plain": ("Adam", dict(lr=0.01)),
    "adam_weight_decay": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "adam_amsgrad": ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    "adamw": ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.01, betas=(0.85, 0.995), amsgrad=True)),
    "adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    "adagrad_weight_decay": ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    "adadelta": ("Adadelta", dict(lr=1.0)),
    "adadelta_weight_decay": ("Adadelta", dict(lr=0.5, rho=0.95, weight_decay=0.1)),
    "adamax": ("Adamax", dict(lr=0.01)),
    "adamax_weight_decay": ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "nadam": ("NAdam", dict(lr=0.01)),
    "nadam_weight_decay": ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    # Rprop uses lr only as the initial step size, so the halving changes nothing. Each gradient
    # flips sign every few steps. The default's step sizes shrink to its smallest, 1e-6; in the
    # other two they reach both clamps (mostly the lower in the first, the upper in the second).
    "rprop": ("Rprop", dict(lr=0.01)),
    "rprop_clamped": ("Rprop", dict(lr=0.01, etas=(0.5, 1.5), step_sizes=(0.004, 0.02))),
    "rprop_growing": ("Rprop", dict(lr=0.01, etas=(0.5, 2.0), step_sizes=(0.005, 0.05))),
}


def gradient(t, k, i):
    """Gradient of element i of tensor k at step t (1-based), before rounding to float32."""
    return (1.0 + 0.5 * k) * math.sin(0.37 * (i + 1) * (k + 1) + 0.91 * t) + 0.3 * math.cos(
        0.13 * t * (i + 2))


def fmt(values):
    return " ".join("%.9g" % v for v in values)


def run(name, cls, kwargs, out_dir):
    gen = torch.Generator().manual_seed(1234)
    params = [torch.randn(s, generator=gen, dtype=torch.float32).requires_grad_() for s in SHAPES]
    lines = ["# torch.optim.%s(%s)" % (cls, ", ".join("%s=%r" % kv for kv in kwargs.items()))]
    for k, p in enumerate(params):
        lines.append("param %d %d %s" % (k, p.numel(), fmt(p.detach().flatten().tolist())))
    opt = getattr(torch.optim, cls)(params, **kwargs)
    for t in range(1, STEPS + 1):
        if t == LR_HALVING_STEP:
            for group in opt.param_groups:
                group["lr"] *= 0.5
        for k, p in enumerate(params):
            g = [gradient(t, k, i) for i in range(p.numel())]
            p.grad = torch.tensor(g, dtype=torch.float32).reshape(p.shape)
        opt.step()
        if t in CHECKPOINTS:
            for k, p in enumerate(params):
                lines.append("step %d %d %d %s" % (t, k, p.numel(),
                                                   fmt(p.detach().flatten().tolist())))
    with open(os.path.join(out_dir, name + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                           "optim")
    os.makedirs(out_dir, exist_ok=True)
    for name, (cls, kwargs) in CASES.items():
        run(name, cls, kwargs, out_dir)


if __name__ == "__main__":
    main()
