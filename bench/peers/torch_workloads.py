"""The reference workloads in PyTorch eager mode, as bench/workloads_bench.cpp runs them in nabla:
same data (Fashion-MNIST in memory, normalised with mean 0.2860 and std 0.3530), models,
optimizers, batch sizes and per-step work (loss value and correct count read back each step).
Prints one JSON line. Run with Debian's interpreter: /usr/bin/python3 torch_workloads.py w1

Parity with nabla, step by step: --save-init FILE writes the initial weights as safetensors and
--steps N prints the loss of each of the first N steps over the training set in its stored order
(no shuffle), one JSON line per step; workloads_bench w1 --steps N --init FILE does the same in
nabla from those weights.
"""
import argparse
import gzip
import json
import resource
import struct
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def load(prefix):
    with gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.2860) / 0.3530
    return x, torch.from_numpy(labels.astype(np.int64))


def save_safetensors(path, tensors):
    """The safetensors layout: header length (u64 LE), JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().cpu().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def step_losses(name, model, opt, batch, x_train, y_train, steps):
    loss_fn = nn.CrossEntropyLoss()
    for step, i in enumerate(range(0, min(steps * batch, len(x_train)), batch)):
        opt.zero_grad()
        loss = loss_fn(model(x_train[i:i + batch]), y_train[i:i + batch])
        loss.backward()
        opt.step()
        print(json.dumps({"framework": "pytorch", "workload": name, "step": step,
                          "loss": round(loss.item(), 8)}))


def workload(name, device):
    if name == "w1":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
        return model.to(device), lambda p: torch.optim.SGD(p, lr=0.1), 64
    if name == "w2":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                              nn.ReLU(), nn.Linear(512, 10))
        return model.to(device), lambda p: torch.optim.Adam(p, lr=1e-3), 128
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(392, 10))
    return model.to(device), lambda p: torch.optim.SGD(p, lr=0.05), 128


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workload", choices=["w1", "w2", "w3"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=0, help="step losses instead of a timed run")
    p.add_argument("--save-init", default="", help="write the initial weights (safetensors)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    x_train, y_train = (t.to(device) for t in load("train"))
    x_test, y_test = (t.to(device) for t in load("t10k"))
    model, make_optimizer, batch = workload(args.workload, device)
    opt = make_optimizer(model.parameters())
    if args.save_init:
        save_safetensors(args.save_init, model.state_dict())
    if args.steps:
        step_losses(args.workload, model, opt, batch, x_train, y_train, args.steps)
        return
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train)).to(device)  # the CPU generator's order everywhere
        correct = 0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            x, y = x_train[idx], y_train[idx]
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.item()
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == y).sum())
        seconds.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        right = sum(int((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum())
                    for i in range(0, len(x_test), 1000))
    med = float(np.median(seconds))
    print(json.dumps({"framework": "pytorch", "device": args.device, "workload": args.workload,
                      "epochs": args.epochs,
                      "epoch_seconds": [round(s, 4) for s in seconds], "median_s": med,
                      "examples_per_s": len(x_train) / med, "accuracy": right / len(x_test),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
