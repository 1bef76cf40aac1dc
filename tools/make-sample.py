#!/usr/bin/python3
"""Build the small real sample in samples/fashion-mnist (deterministic, CPU only).

Run with the Debian Python that has torch (python3-torch, python3-numpy, dataset-fashion-mnist):

    /usr/bin/python3 tools/make-sample.py [--source /usr/share/datasets/fashion-mnist] [--out samples/fashion-mnist]

Trains nn.Sequential(Linear(784,128), Tanh(), Linear(128,64), Tanh(), Linear(64,10)) with Adam (lr 1e-3),
batch 128, 3 epochs on the 60,000 training images (pixels * 1/255, cross-entropy), then writes
model.pt (state_dict, float32), model.json, the first 2,000 test images/labels as gzipped IDX files and
reference.json (hashes, accuracies and reference logits for a C# forward check).
"""
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn

from fashion_mnist import IMAGES_MAGIC, LABELS_MAGIC, deterministic, load, options, read_idx, sha256

SAMPLE_COUNT = 2000
SCALE = 1.0 / 255.0  # 0.00392156862745098
SHIFT = 0.0

MODEL_JSON = """{
  "widths": [784, 128, 64, 10],
  "activations": ["tanh", "tanh"],
  "likelihood": "categorical",
  "variance": 1.0,
  "layerNames": ["0", "2", "4"],
  "input": { "scale": 0.00392156862745098, "shift": 0.0 }
}
"""


def write_idx_gz(path, array, magic):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape)
    # mtime=0 and no file name in the gzip header, so the bytes depend only on the content.
    with open(path, "wb") as f:
        f.write(gzip.compress(header + array.tobytes(), compresslevel=9, mtime=0))


def to_input(images_u8, dtype=torch.float32):
    """Pixels -> network input exactly as model.json says: x * scale + shift (computed in float64)."""
    x = torch.from_numpy(images_u8.reshape(len(images_u8), -1).astype(np.float64))
    return (x * SCALE + SHIFT).to(dtype)


def build_model():
    return nn.Sequential(nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 64), nn.Tanh(), nn.Linear(64, 10))


def evaluate(model, x, y):
    with torch.no_grad():
        logits = model(x)
        ce = nn.functional.cross_entropy(logits.double(), y, reduction="mean").item()
        acc = (logits.argmax(dim=1) == y).double().mean().item()
    return logits, ce, acc


def main():
    args = options(__doc__, "samples/fashion-mnist", 3)

    t0 = time.time()
    deterministic()
    train_x, train_y, test_x, test_y = load(args.source)

    xtr, ytr = to_input(train_x), torch.from_numpy(train_y.astype(np.int64))
    xte, yte = to_input(test_x), torch.from_numpy(test_y.astype(np.int64))

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    batch = 128
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        _, _, acc = evaluate(model, xte, yte)
        print(f"epoch {epoch + 1}: train loss {total / len(xtr):.4f}, test accuracy {acc:.4f}", flush=True)

    model.eval()
    _, test_ce, test_acc = evaluate(model, xte, yte)
    print(f"test accuracy (10,000 images): {test_acc:.4f}, mean cross-entropy {test_ce:.4f}")

    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)
    files = {
        "model.pt": out("model.pt"),
        "model.json": out("model.json"),
        "t10k-2000-images-idx3-ubyte.gz": out("t10k-2000-images-idx3-ubyte.gz"),
        "t10k-2000-labels-idx1-ubyte.gz": out("t10k-2000-labels-idx1-ubyte.gz"),
    }
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], list(state)
    torch.save(state, files["model.pt"])
    with open(files["model.json"], "w", newline="\n") as f:
        f.write(MODEL_JSON)
    sx, sy = test_x[:SAMPLE_COUNT], test_y[:SAMPLE_COUNT]
    write_idx_gz(files["t10k-2000-images-idx3-ubyte.gz"], sx, IMAGES_MAGIC)
    write_idx_gz(files["t10k-2000-labels-idx1-ubyte.gz"], sy, LABELS_MAGIC)

    # Reference forward on the sample, from the files just written (round trip through disk).
    reloaded = build_model()
    reloaded.load_state_dict(torch.load(files["model.pt"]))
    reloaded.eval()
    rx = read_idx(files["t10k-2000-images-idx3-ubyte.gz"], IMAGES_MAGIC)
    ry = torch.from_numpy(read_idx(files["t10k-2000-labels-idx1-ubyte.gz"], LABELS_MAGIC).astype(np.int64))
    assert np.array_equal(rx, sx)
    logits32, ce32, acc32 = evaluate(reloaded, to_input(rx, torch.float32), ry)
    reloaded64 = build_model().double()
    reloaded64.load_state_dict({k: v.double() for k, v in reloaded.state_dict().items()})
    reloaded64.eval()
    logits64, ce64, acc64 = evaluate(reloaded64, to_input(rx, torch.float64), ry)

    reference = {
        "description": "Fashion-MNIST MLP sample made by tools/make-sample.py; see README.md",
        "torchVersion": torch.__version__,
        "numpyVersion": np.__version__,
        "training": {"epochs": args.epochs, "batchSize": batch, "optimizer": "Adam", "learningRate": 1e-3,
                     "seed": 0, "trainImages": int(len(xtr))},
        "test": {"images": int(len(xte)), "accuracy": test_acc, "meanCrossEntropy": test_ce},
        "sample": {
            "images": SAMPLE_COUNT,
            "firstOfTestSet": True,
            "input": "pixel * scale + shift (computed in float64, then cast to the compute dtype)",
            "float32": {
                "meanCrossEntropy": ce32,
                "accuracy": acc32,
                "logitsFirst3": logits32[:3].double().tolist(),
            },
            "float64": {
                "meanCrossEntropy": ce64,
                "accuracy": acc64,
                "logitsFirst3": logits64[:3].tolist(),
            },
            "labelsFirst3": ry[:3].tolist(),
        },
        "sha256": {name: sha256(path) for name, path in files.items()},
    }
    with open(out("reference.json"), "w", newline="\n") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")

    print(f"sample (first {SAMPLE_COUNT} test images): accuracy {acc32:.4f}, mean cross-entropy {ce32:.6f} (float32)")
    for name, path in list(files.items()) + [("reference.json", out("reference.json"))]:
        print(f"  {path}: {os.path.getsize(path):,} bytes")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
