"""The MNIST speedrun's last rung in PyTorch eager mode, as examples/mnist_speedrun.h runs it in
nabla: the same network (conv 8, pool, batch norm, ReLU, conv 16, pool, batch norm, ReLU,
linear 128, ReLU, linear 10), batch 128, Nesterov SGD (momentum 0.9, weight decay 5e-4) under
OneCycleLR to lr 0.2 over 1.5 epochs, cross-entropy with label smoothing 0.1, the test set checked
every 1/8 epoch in the last quarter, and the same timing: from the first step to the check that
first reaches 99 % (not the loading or the model's building). Prints one JSON line per seed.
Run with Debian's interpreter:

    /usr/bin/python3 bench/peers/torch_speedrun.py --seeds 10 --threads 2
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def load(folder, prefix):
    def read(name, offset):
        with open(os.path.join(folder, name), "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    images = read(f"{prefix}-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28)
    labels = read(f"{prefix}-labels-idx1-ubyte", 8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.1307) / 0.3081
    return x, torch.from_numpy(labels.astype(np.int64))


def make_net():
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.MaxPool2d(2), nn.BatchNorm2d(c_out),
                nn.ReLU()]
    return nn.Sequential(*block(1, 8), *block(8, 16), nn.Flatten(), nn.Linear(784, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def accuracy(net, x_test, y_test):
    net.eval()
    with torch.no_grad():
        right = sum(int((net(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                    for i in range(0, len(x_test), 1000))
    net.train()
    return right / len(x_test)


def run(seed, data, target):
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)
    net = make_net()
    batch = 128
    per_epoch = (len(x_train) + batch - 1) // batch
    total = round(1.5 * per_epoch)
    first_check, every = round(1.125 * per_epoch), round(0.125 * per_epoch)
    opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=total)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    net.eval()  # warm-up, as nabla's run does: eval mode moves no batch-norm statistics
    with torch.no_grad():
        net(x_test[:1])
    net.train()
    start = time.perf_counter()
    step, checks = 0, []
    while step < total:
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            loss_fn(net(x_train[idx]), y_train[idx]).backward()
            opt.step()
            sched.step()
            step += 1
            if step == total or (step >= first_check and (step - first_check) % every == 0):
                checks.append((step / per_epoch, time.perf_counter() - start,
                               accuracy(net, x_test, y_test)))
                if checks[-1][2] >= target:
                    return checks
            if step == total:
                return checks
    return checks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--target", type=float, default=0.99)
    p.add_argument("--data", default=os.path.expanduser("~/.cache/nabla/mnist"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = (*load(args.data, "train"), *load(args.data, "t10k"))
    for seed in range(args.seeds):
        epoch, seconds, acc = run(seed, data, args.target)[-1]
        print(json.dumps({"framework": "pytorch", "seed": seed, "seconds": round(seconds, 3),
                          "accuracy": acc, "epochs": round(epoch, 3),
                          "reached": acc >= args.target}), flush=True)


if __name__ == "__main__":
    main()
