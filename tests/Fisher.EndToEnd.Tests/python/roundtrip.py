#!/usr/bin/python3
"""PyTorch round trip of the fisher CLI (run with Debian's /usr/bin/python3 and python3-torch).

    roundtrip.py make <dir>
        writes, for a seeded nn.Sequential MLP Linear(20,16) Tanh Linear(16,8) Sigmoid Linear(8,3):
        model.pt (torch.save(state_dict)), model.safetensors (written by hand: the `safetensors` package may be
        absent), model.json (architecture, categorical likelihood), inputs.npy (float32 (50, 20)),
        labels.npy (int64 (50,)) and logits.npy (the model's outputs on inputs.npy, computed in float64).
    roundtrip.py check <model.pt> <result dir> [<result dir> ...]
        reads <result dir>/fisher.safetensors with a hand-written reader into torch tensors and checks that every
        parameter of the state dict has <name>.i1, .i2, .exact, .empirical and their _var with the parameter's
        shape. Prints OK, or the problems and exits 1.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

SEED = 20241127
ESTIMATES = ["i1", "i2", "exact", "empirical"]


def model():
    torch.manual_seed(SEED)
    return nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 3))


def write_safetensors(file, tensors):
    """8-byte little-endian header length, JSON header (dtype, shape, data_offsets), raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(file):
    """Every tensor of a safetensors file (F32 or F64) as a float64 torch tensor."""
    with open(file, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length].decode("utf-8"))
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "F64": "<f8"}[entry["dtype"]]
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=dtype).astype(np.float64)
        tensors[name] = torch.from_numpy(array.copy()).reshape(entry["shape"])
    return tensors


def make(folder):
    os.makedirs(folder, exist_ok=True)
    net = model()
    state = net.state_dict()
    torch.save(state, os.path.join(folder, "model.pt"))
    write_safetensors(os.path.join(folder, "model.safetensors"), state)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({
            "widths": [20, 16, 8, 3],
            "activations": ["tanh", "sigmoid"],
            "likelihood": "categorical",
            "layerNames": ["0", "2", "4"],
        }, f, indent=2)
    generator = torch.Generator().manual_seed(SEED + 1)
    inputs = torch.randn(50, 20, generator=generator, dtype=torch.float32)
    labels = torch.randint(0, 3, (50,), generator=generator, dtype=torch.int64)
    np.save(os.path.join(folder, "inputs.npy"), inputs.numpy())
    np.save(os.path.join(folder, "labels.npy"), labels.numpy())
    with torch.no_grad():
        logits = net.double()(inputs.double())
    np.save(os.path.join(folder, "logits.npy"), logits.numpy().astype(np.float64))
    print("wrote", sorted(os.listdir(folder)))


def check(model_path, folders):
    state = torch.load(model_path)
    problems = []
    for folder in folders:
        result = read_safetensors(os.path.join(folder, "fisher.safetensors"))
        for name, parameter in state.items():
            for quantity in ESTIMATES:
                for key in (f"{name}.{quantity}", f"{name}.{quantity}_var"):
                    if key not in result:
                        problems.append(f"{folder}: no tensor {key}")
                    elif tuple(result[key].shape) != tuple(parameter.shape):
                        problems.append(f"{folder}: {key} has shape {tuple(result[key].shape)}, parameter {name} has {tuple(parameter.shape)}")
                    elif not torch.isfinite(result[key]).all():
                        problems.append(f"{folder}: {key} has non-finite values")
            # I1, the exact diagonal and the empirical Fisher are means of squares (I2 may be negative).
            for quantity in ["i1", "exact", "empirical"]:
                key = f"{name}.{quantity}"
                if key in result and (result[key] < 0).any():
                    problems.append(f"{folder}: {key} has negative entries")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("OK", len(state), "parameters,", len(folders), "result folders")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3:])
    else:
        print(__doc__)
        sys.exit(2)
