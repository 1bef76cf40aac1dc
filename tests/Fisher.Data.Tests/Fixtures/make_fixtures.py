#!/usr/bin/python3
"""Makes the small, seeded fixture files of Fisher.Data.Tests with real PyTorch and NumPy.

Run with Debian's python3-torch (1.13) from this folder:  /usr/bin/python3 make_fixtures.py
The outputs are committed; rerun only to change them (the seed makes them reproducible).
"""
import gzip
import json
import os
import struct

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def write_safetensors(file, tensors, metadata=None):
    """A minimal writer of the safetensors format (the `safetensors` package may be absent)."""
    names = sorted(tensors)
    header = {}
    blobs = []
    offset = 0
    for name in names:
        t = tensors[name].detach().contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64"}[t.dtype]
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_idx(file, array, code, opener=open):
    """IDX (MNIST) file: 0x0000, type code, rank, big-endian int32 dims, big-endian data."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    with opener(file, "wb") as f:
        f.write(bytes([0, 0, code, array.ndim]))
        for d in array.shape:
            f.write(struct.pack(">i", d))
        f.write(np.ascontiguousarray(array).astype(big).tobytes())


def main():
    torch.manual_seed(20240611)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    torch.save(model.state_dict(), path("tiny.pt"))
    write_safetensors(path("tiny.safetensors"), model.state_dict(), {"source": "make_fixtures.py"})

    arch = {
        "widths": [6, 5, 4, 3],
        "activations": ["tanh", "relu"],
        "likelihood": "categorical",
        "layerNames": ["0", "2", "4"],
    }
    with open(path("tiny_arch.json"), "w") as f:
        json.dump(arch, f, indent=2)
        f.write("\n")

    gen = torch.Generator().manual_seed(7)
    x = torch.randn(8, 6, generator=gen, dtype=torch.float32)
    np.save(path("tiny_input.npy"), x.numpy())
    np.save(path("tiny_input64.npy"), x.double().numpy())
    labels = torch.randint(0, 3, (8,), generator=gen, dtype=torch.int64)
    np.save(path("tiny_labels.npy"), labels.numpy())
    np.save(path("tiny_labels_onehot.npy"), np.eye(3, dtype=np.float64)[labels.numpy()])
    np.save(path("tiny_labels_i4_2d.npy"), labels.numpy().astype(np.int32).reshape(8, 1))
    np.save(path("tiny_labels_f8.npy"), labels.numpy().astype(np.float64))
    with torch.no_grad():
        np.save(path("tiny_logits.npy"), model(x).double().numpy())

    model64 = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    torch.save(model64.state_dict(), path("tiny64.pt"))
    with torch.no_grad():
        np.save(path("tiny64_logits.npy"), model64(x.double()).numpy())

    # One layer with another shape (2.weight: 4 x 7 instead of 4 x 5) and one key renamed (4.bias -> 4.b).
    wrong = {k: v.clone() for k, v in model.state_dict().items()}
    wrong["2.weight"] = torch.zeros(4, 7)
    wrong["4.b"] = wrong.pop("4.bias")
    torch.save(wrong, path("tiny_wrong.pt"))

    # An integer tensor in a state dict (BatchNorm-style counter): not a float dtype.
    with_int = dict(model.state_dict())
    with_int["1.num_batches_tracked"] = torch.tensor(3, dtype=torch.int64)
    torch.save(with_int, path("tiny_int.pt"))

    # Views with strides and storage offsets (torch.save keeps them): the same values as tiny.pt.
    w0 = model[0].weight.detach().t().contiguous().t()          # shape (5, 6), stride (1, 5)
    big = torch.cat([torch.full((3,), 9.0), model[0].bias.detach()])
    strided = dict(model.state_dict())
    strided["0.weight"] = w0
    strided["0.bias"] = big[3:]                                  # storage offset 3
    torch.save(strided, path("tiny_strided.pt"))

    # float16 and bfloat16 tensors with their exact values as float64.
    half = torch.linspace(-2, 3, 7).half()
    bf16 = torch.linspace(-1, 5, 5).bfloat16()
    torch.save({"h": half, "b": bf16}, path("tiny_half.pt"))
    np.save(path("tiny_half_values.npy"), torch.cat([half.double(), bf16.double()]).numpy())

    # Fortran-ordered array: np.save writes fortran_order True.
    np.save(path("fortran.npy"), np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)))

    # IDX: 5 images of 3 x 4 unsigned bytes, plain and gzipped, and 5 labels.
    images = (np.arange(5 * 3 * 4, dtype=np.int64) * 37 % 256).astype(np.uint8).reshape(5, 3, 4)
    write_idx(path("images.idx3-ubyte"), images, 0x08)
    write_idx(path("images.idx3-ubyte.gz"), images, 0x08, opener=lambda f, m: gzip.GzipFile(f, m, mtime=0))
    write_idx(path("labels.idx1-ubyte"), np.array([3, 1, 4, 1, 5], dtype=np.uint8), 0x08)
    np.save(path("images.npy"), images.astype(np.float32))
    # Big-endian int16 and float64 IDX.
    write_idx(path("short.idx"), np.array([[-300, 2], [7, 32000]], dtype=np.int16), 0x0B)
    write_idx(path("double.idx"), np.array([[0.5, -1.25, 3e-300]], dtype=np.float64), 0x0E)


if __name__ == "__main__":
    main()
