#!/usr/bin/env python3
"""Evaluates a nabla checkpoint (or weights file) in PyTorch, from what the file says alone.

    tools/eval_checkpoint.py CHECKPOINT DATA_DIR

The file's metadata names the model ("nabla.model", as print(model) shows it) and, for a
checkpoint, the training data and its input normalisation ("nabla.data"). This script builds
the same torch.nn.Sequential, loads the weights, checks that DATA_DIR holds the data the file
was trained on (the SHA-256 of its training images), normalises the test images as recorded
and prints the test accuracy and mean cross-entropy, as nabla's programs print them.

Needs PyTorch and NumPy (Debian: python3-torch, python3-numpy).
"""

import argparse
import ast
import gzip
import hashlib
import json
import os
import re
import struct
import sys

import numpy as np
import torch
from torch import nn

# The layers a nabla model can hold, by the names print(model) gives them.
LAYERS = {
    name: getattr(nn, name)
    for name in (
        "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh",
        "GELU", "Dropout", "Flatten", "BatchNorm1d", "BatchNorm2d", "InstanceNorm2d",
        "LayerNorm", "GroupNorm",
    )
}
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def fail(message):
    sys.exit(f"eval_checkpoint: {message}")


def read_safetensors(path):
    """(metadata, {name: tensor}) of a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        fail(f"'{path}' is too short to be a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if entry["dtype"] not in DTYPES:
            fail(f"tensor '{name}' has dtype {entry['dtype']}, which this script does not read")
        raw = np.frombuffer(blob, DTYPES[entry["dtype"]], offset=8 + n + begin,
                            count=(end - begin) // np.dtype(DTYPES[entry["dtype"]]).itemsize)
        tensors[name] = torch.from_numpy(raw.reshape(entry["shape"]).copy())
    return metadata, tensors


def build_layer(text):
    """A layer from its repr, e.g. "Linear(in_features=784, out_features=10, bias=True)"."""
    call = ast.parse(text, mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id in LAYERS):
        fail(f"unknown layer '{text}'")
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    return LAYERS[call.func.id](*args, **kwargs)


def build_model(text):
    """The torch.nn.Sequential that print() shows as `text` (one level of layers)."""
    lines = text.strip().splitlines()
    if not lines or lines[0] != "Sequential(" or lines[-1] != ")":
        fail(f"the model is not a Sequential of layers:\n{text}")
    layers = []
    for line in lines[1:-1]:
        m = re.fullmatch(r"\s*\((\d+)\): (.*)", line)
        if not m or int(m.group(1)) != len(layers):
            fail(f"cannot read the model's line '{line}' (nested modules are not supported)")
        layers.append(build_layer(m.group(2)))
    return nn.Sequential(*layers)


def idx_bytes(folder, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    fail(f"no file '{stem}' (or '{stem}.gz') in '{folder}'")


def idx_array(data):
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4 : 4 + 4 * ndims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndims).reshape(dims)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("data_dir")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    metadata, tensors = read_safetensors(args.checkpoint)
    if "nabla.model" not in metadata:
        fail(f"'{args.checkpoint}' does not say what its model is (no nabla.model entry)")
    model = build_model(metadata["nabla.model"])
    is_checkpoint = metadata.get("nabla.format") == "checkpoint"
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")} \
        if is_checkpoint else tensors
    model.load_state_dict(weights, strict=True)
    model.eval()

    data = json.loads(metadata.get("nabla.data", "null") or "null")
    name, mean, std = "MNIST-format data", None, None
    if data is not None:
        train_digest = hashlib.sha256(idx_bytes(args.data_dir, "train-images-idx3-ubyte"))
        if train_digest.hexdigest() != data["images_sha256"]:
            fail(f"'{args.data_dir}' is not the data '{args.checkpoint}' was trained on "
                 f"({data['dataset']}, training images sha256 {data['images_sha256'][:16]}...)")
        name = data["dataset"]
        if data.get("normalize"):
            mean, std = data["normalize"]["mean"], data["normalize"]["std"]

    images = idx_array(idx_bytes(args.data_dir, "t10k-images-idx3-ubyte"))
    labels = torch.from_numpy(idx_array(idx_bytes(args.data_dir, "t10k-labels-idx1-ubyte"))
                              .astype(np.int64))
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    if mean is not None:
        x = (x - mean) / std
    correct, loss = 0, 0.0
    with torch.no_grad():
        for begin in range(0, len(labels), args.batch_size):
            out = model(x[begin : begin + args.batch_size])
            y = labels[begin : begin + args.batch_size]
            loss += nn.functional.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
    n = len(labels)
    print(f"test accuracy {100.0 * correct / n:.2f}% (loss {loss / n:.4f}) on {name}, {n} images")


if __name__ == "__main__":
    main()
