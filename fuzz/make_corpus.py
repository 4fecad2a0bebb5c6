#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (small, valid inputs
and a few near misses, for the fuzzer to mutate)."""
import json, os, struct, zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


# IDX: first byte 1 = gzip the rest, 0 = as is.
def idx(dims, payload, type_code=0x08):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

put("idx", "labels_raw", b"\0" + idx([5], bytes([3, 1, 4, 1, 5])))
put("idx", "images_raw", b"\0" + idx([2, 3, 2], bytes(range(12))))
put("idx", "images_gzip", b"\1" + idx([2, 2, 2], bytes(range(8))))
put("idx", "gzip_file_raw", b"\0" + zlib.compress(idx([4], b"abcd"), wbits=31))
put("idx", "truncated", b"\0" + idx([3, 3], bytes(5)))
put("idx", "float_type", b"\0" + idx([2], bytes(8), 0x0D))


# Safetensors and checkpoints.
def safetensors(tensors, metadata, crc=True):
    header, data, crcs = {}, b"", {}
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        crcs[name] = "%08x" % zlib.crc32(payload)
        data += payload
    meta = dict(metadata)
    if crc:
        meta["nabla.crc32"] = json.dumps(crcs, separators=(",", ":"))
        meta["nabla.header_crc32"] = "00000000"  # the header's own, computed with zeros here
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    length = struct.pack("<Q", len(text))
    if crc:
        own = "%08x" % zlib.crc32(length + text.encode())
        text = text.replace('"nabla.header_crc32":"00000000"', '"nabla.header_crc32":"%s"' % own)
    return length + text.encode() + data

f32 = lambda *v: struct.pack("<%df" % len(v), *v)
i64 = lambda *v: struct.pack("<%dq" % len(v), *v)
state = {
    "optimizer": {"scalars": {"step": 3, "lr": 0.1}, "strings": {"type": "sgd"}, "tensors": ["momentum_buffer"]},
    "trainer": {"scalars": {"epoch": 0, "best_val_loss": "inf"}, "strings": {"rng_seed": "7", "rng_offset": "12"}, "tensors": []},
}
ckpt_meta = {"nabla.format": "checkpoint", "nabla.version": "2", "nabla.state": json.dumps(state),
             "nabla.config": json.dumps({"optimizer": "sgd", "lr": 0.1})}
put("checkpoint", "checkpoint", safetensors(
    {"model.0.weight": ("F32", [2, 3], f32(*range(6))), "model.0.bias": ("F32", [2], f32(1, 2)),
     "optimizer.momentum_buffer": ("F32", [8], f32(*range(8))), "loader.order": ("I64", [3], i64(2, 0, 1))},
    ckpt_meta))
put("checkpoint", "weights", safetensors({"0.weight": ("F32", [1, 2], f32(0.5, -1)), "scalar": ("F32", [], f32(3))},
                                         {"nabla.format": "weights", "nabla.version": "2"}))
put("checkpoint", "plain", safetensors({"a": ("I64", [2, 0], b""), "b": ("F32", [1], f32(2))}, {}, crc=False))
put("checkpoint", "bad_crc", safetensors({"w": ("F32", [1], f32(1))}, {})[:-4] + f32(2))

# TOML run configurations.
put("config", "full.toml", """[data]
dir = "data/mnist"
[model]
hidden = [256, 128]
init = "xavier-uniform"
dropout = 0.1
[optimizer]
type = "adam"
lr = 1e-3
betas = [0.9, 0.999]
amsgrad = true
[scheduler]
type = "onecycle"
max_lr = 0.01
pct_start = 0.3
anneal_strategy = "cos"
[trainer]
epochs = 5
batch_size = 128
clip_grad_norm = 1.0
checkpoint_every = 100
progress = "lines"
[run]
device = "cpu"
threads = 2
""")
put("config", "sgd_step.toml", """[optimizer]
type = "sgd"
lr = 0.1
momentum = 0.9
nesterov = true
[scheduler]
type = "multistep"
milestones = [3, 6]
gamma = 0.5
""")
put("config", "plateau.toml", """[scheduler]
type = "plateau"
mode = "min"
factor = 0.5
patience = 2
threshold_mode = "rel"
min_lr = [1e-5]
[trainer]
seed = 42
early_stopping_patience = 3
""")
put("config", "cyclic.toml", """[optimizer]
type = "rmsprop"
alpha = 0.99
centered = true
[scheduler]
type = "cyclic"
base_lr = 0.001
max_lr = [0.1]
step_size_up = 20
mode = "exp_range"
""")
