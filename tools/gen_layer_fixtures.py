#!/usr/bin/python3
"""Reference values for the nn layer tests, from PyTorch (Debian's python3-torch).

Writes tests/fixtures/layers/:
  layers.txt   one tensor per line: "name ndim d0 d1 ... v0 v1 ..." (float32 values, %.9g)
  *.repr       print(model) of reference models, for Module::str()

Run from the repository root:  /usr/bin/python3 tools/gen_layer_fixtures.py
"""
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "layers")


def fixed(*shape, scale=1.0, shift=0.0):
    """Deterministic values without any RNG: a smooth pattern the C++ side need not reproduce."""
    n = 1
    for d in shape:
        n *= d
    return (torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + shift) * scale).float().reshape(shape)


class Writer:
    def __init__(self):
        self.lines = []

    def add(self, name, t):
        t = t.detach().float().contiguous()
        dims = " ".join(str(d) for d in t.shape)
        vals = " ".join("%.9g" % v for v in t.reshape(-1).tolist())
        self.lines.append(f"{name} {t.dim()} {dims} {vals}".replace("  ", " "))

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


def grads_of(out, r, *tensors):
    (out * r).sum().backward()
    return [t.grad for t in tensors]


def linear_case(w):
    x = fixed(4, 5, scale=1.5).requires_grad_()
    lin = nn.Linear(5, 3)
    with torch.no_grad():
        lin.weight.copy_(fixed(3, 5, scale=0.4, shift=1.0))
        lin.bias.copy_(fixed(3, scale=0.3, shift=2.0))
    y = lin(x)
    r = fixed(4, 3, shift=3.0)
    dx, dw, db = grads_of(y, r, x, lin.weight, lin.bias)
    for name, t in [("x", x), ("weight", lin.weight), ("bias", lin.bias), ("r", r), ("y", y),
                    ("dx", dx), ("dweight", dw), ("dbias", db)]:
        w.add("linear." + name, t)


def activation_cases(w):
    x0 = fixed(2, 6, scale=3.0, shift=0.3)
    r = fixed(2, 6, shift=1.7)
    w.add("act.x", x0)
    w.add("act.r", r)
    for name, mod in [("relu", nn.ReLU()), ("leaky_relu", nn.LeakyReLU(0.2)),
                      ("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()), ("gelu", nn.GELU())]:
        x = x0.clone().requires_grad_()
        y = mod(x)
        (dx,) = grads_of(y, r, x)
        w.add(f"act.{name}.y", y)
        w.add(f"act.{name}.dx", dx)


def mlp_case(w):
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 4))
    with torch.no_grad():
        for i, (k, p) in enumerate(model.state_dict().items()):
            p.copy_(fixed(*p.shape, scale=0.5, shift=float(i)))
    x = fixed(3, 3, 2, 2, shift=0.5)
    y = model(x)
    y.sum().backward()
    for k, v in model.state_dict().items():
        w.add("mlp." + k, v)
    w.add("mlp.x", x)
    w.add("mlp.y", y)
    w.add("mlp.grad.1.weight", model[1].weight.grad)
    w.add("mlp.grad.3.bias", model[3].bias.grad)


def conv_norm_cases(w):
    """Through the module API: conv, pools and norms (their ops are tested in nn/functional)."""
    x = fixed(2, 3, 5, 5, scale=2.0, shift=0.1)
    w.add("cnn.x", x)
    conv = nn.Conv2d(3, 4, 3, stride=1, padding=1)
    with torch.no_grad():
        conv.weight.copy_(fixed(4, 3, 3, 3, scale=0.3, shift=0.2))
        conv.bias.copy_(fixed(4, scale=0.1, shift=0.4))
    w.add("cnn.conv.weight", conv.weight)
    w.add("cnn.conv.bias", conv.bias)
    w.add("cnn.conv.y", conv(x))
    w.add("cnn.maxpool.y", nn.MaxPool2d(2)(x))
    w.add("cnn.avgpool.y", nn.AvgPool2d(3, stride=2, padding=1)(x))
    bn = nn.BatchNorm2d(3, momentum=0.2)
    with torch.no_grad():
        bn.weight.copy_(fixed(3, shift=0.5) + 1.0)
        bn.bias.copy_(fixed(3, scale=0.5, shift=0.9))
    w.add("cnn.bn.weight", bn.weight)
    w.add("cnn.bn.bias", bn.bias)
    w.add("cnn.bn.train_y", bn(x))
    bn(x * 0.5 + 1.0)  # a second batch moves the running estimates again
    w.add("cnn.bn.running_mean", bn.running_mean)
    w.add("cnn.bn.running_var", bn.running_var)
    bn.eval()
    w.add("cnn.bn.eval_y", bn(x))
    ln = nn.LayerNorm([5, 5])
    w.add("cnn.ln.y", ln(x))
    gn = nn.GroupNorm(1, 3)
    w.add("cnn.gn.y", gn(x))
    inorm = nn.InstanceNorm2d(3)
    w.add("cnn.in.y", inorm(x))


REPRS = {
    "mlp.repr": nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)),
    "cnn.repr": nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, (3, 5), stride=2, dilation=2, groups=2, bias=False),
        nn.GroupNorm(4, 16), nn.GELU(), nn.AvgPool2d(2), nn.Dropout(0.25),
        nn.Sequential(nn.Flatten(), nn.LayerNorm([64]), nn.Linear(64, 10, bias=False),
                      nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh()),
        nn.InstanceNorm2d(3), nn.BatchNorm1d(4, eps=1e-3, affine=False)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    w = Writer()
    linear_case(w)
    activation_cases(w)
    mlp_case(w)
    conv_norm_cases(w)
    w.save(os.path.join(OUT, "layers.txt"))
    for name, model in REPRS.items():
        with open(os.path.join(OUT, name), "w") as f:
            f.write(str(model))


if __name__ == "__main__":
    main()
