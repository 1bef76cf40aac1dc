#!/usr/bin/python3
"""Build the small CNN sample in samples/fashion-cnn (deterministic, CPU only, one thread).

Run with the Debian Python that has torch (python3-torch 1.13, python3-numpy, dataset-fashion-mnist):

    /usr/bin/python3 tools/make-cnn-sample.py [--source /usr/share/datasets/fashion-mnist] [--out samples/fashion-cnn]

Trains FashionCnn (below: conv-BN-tanh-maxpool stem, one residual basic block with tanh, average pooling, Flatten,
Linear) with Adam (lr 2e-3), batch 128, 2 epochs on the 60,000 training images (pixels * 1/255, shape (N, 1, 28, 28),
cross-entropy), then writes model.pt (state_dict), model.onnx (torch.onnx.export with BatchNormalization kept as its
own node and initializer names equal to the state_dict keys) and reference.json (test accuracy, the accuracy, mean
cross-entropy and first logits on the 2,000 test images that samples/fashion-mnist ships, sha256 of every file).
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

from fashion_mnist import IMAGES_MAGIC, LABELS_MAGIC, deterministic, load, options, read_idx, sha256

SCALE = 1.0 / 255.0
SAMPLE_IMAGES = "samples/fashion-mnist/t10k-2000-images-idx3-ubyte.gz"
SAMPLE_LABELS = "samples/fashion-mnist/t10k-2000-labels-idx1-ubyte.gz"
OPSET = 13
# tanh, not SiLU: opset 13 has no SiLU op (torch writes Sigmoid and Mul), and tanh is one node with curvature for Î2.
EXPECTED_OPS = ["Conv", "BatchNormalization", "Tanh", "MaxPool", "Conv", "BatchNormalization", "Tanh", "Conv",
                "BatchNormalization", "Add", "Tanh", "AveragePool", "Flatten", "Gemm"]


class FashionCnn(nn.Module):
    """1x28x28 -> conv1 3x3 (8) -> bn1 -> tanh -> maxpool 2 -> [conv2 3x3 -> bn2 -> tanh -> conv3 3x3 -> bn3] + skip
    -> tanh -> avgpool 2 -> flatten (8*7*7 = 392) -> fc (10). Convolutions have no bias (BatchNorm follows)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(8)
        self.pool2 = nn.AvgPool2d(2, count_include_pad=False)  # no padding: the same map; exports as one AveragePool node (True adds a Pad)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8 * 7 * 7, 10)
        self.act = nn.Tanh()

    def forward(self, x):
        s = self.pool1(self.act(self.bn1(self.conv1(x))))
        r = self.bn3(self.conv3(self.act(self.bn2(self.conv2(s)))))
        return self.fc(self.flatten(self.pool2(self.act(s + r))))


def to_input(images_u8, dtype=torch.float32):
    """Pixels -> network input (N, 1, 28, 28): x * 1/255, computed in float64, then cast."""
    x = torch.from_numpy(images_u8.reshape(len(images_u8), 1, 28, 28).astype(np.float64))
    return (x * SCALE).to(dtype)


def evaluate(model, x, y):
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
        ce = nn.functional.cross_entropy(logits.double(), y, reduction="mean").item()
        acc = (logits.argmax(dim=1) == y).double().mean().item()
    return logits, ce, acc


def train(model, xtr, ytr, xte, yte, epochs, batch):
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    for epoch in range(epochs):
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


def export_onnx(model, path):
    """BatchNorm stays a BatchNormalization node only with training=PRESERVE on a model in eval mode: torch 1.13's
    default (TrainingMode.EVAL) runs the ONNX eval peephole pass, which folds every BatchNorm that follows a Conv into
    the Conv's weight and a new bias (initializers then get fresh names such as 'onnx::Conv_23'). Constant folding
    off keeps every parameter an initializer under its state_dict key."""
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=OPSET,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def _fields(buf):
    """Protobuf wire fields (number, wire type, value) of one message: enough to list ONNX nodes and initializers."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, i = _varint(buf, i)
        elif kind == 2:
            length, i = _varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif kind in (1, 5):
            size = 8 if kind == 1 else 4
            value, i = buf[i:i + size], i + size
        else:
            sys.exit(f"ONNX check: unexpected wire type {kind}")
        yield number, kind, value


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def onnx_summary(path):
    """(op types of the nodes in order, initializer names) of an ONNX file, read without the onnx package."""
    with open(path, "rb") as f:
        model = f.read()
    graph = next(v for n, k, v in _fields(model) if n == 7 and k == 2)  # ModelProto.graph
    ops, inits = [], []
    for n, k, v in _fields(graph):
        if n == 1 and k == 2:  # GraphProto.node -> NodeProto.op_type (4)
            ops.append(next(bytes(x).decode() for m, t, x in _fields(v) if m == 4))
        elif n == 5 and k == 2:  # GraphProto.initializer -> TensorProto.name (8)
            inits.append(next(bytes(x).decode() for m, t, x in _fields(v) if m == 8))
    return ops, inits


def check_onnx(path, state):
    ops, inits = onnx_summary(path)
    float_keys = sorted(state)
    if sorted(inits) != float_keys:
        sys.exit(f"{path}: initializers {sorted(inits)} differ from the state_dict keys {float_keys}")
    if ops != EXPECTED_OPS:
        sys.exit(f"{path}: nodes {ops}, expected {EXPECTED_OPS}")
    return ops


def main():
    args = options(__doc__, "samples/fashion-cnn", 2)

    t0 = time.time()
    deterministic()
    train_x, train_y, test_x, test_y = load(args.source)
    xtr, ytr = to_input(train_x), torch.from_numpy(train_y.astype(np.int64))
    xte, yte = to_input(test_x), torch.from_numpy(test_y.astype(np.int64))

    model = FashionCnn()
    batch = 128
    train(model, xtr, ytr, xte, yte, args.epochs, batch)
    model.eval()
    _, test_ce, test_acc = evaluate(model, xte, yte)
    print(f"test accuracy (10,000 images): {test_acc:.4f}, mean cross-entropy {test_ce:.4f}")

    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)
    files = {"model.pt": out("model.pt"), "model.onnx": out("model.onnx")}
    # BatchNorm's integer counter num_batches_tracked is left out: unused in eval mode, not exported to ONNX, and the
    # project's state_dict reader takes floating-point tensors only.
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if not k.endswith(".num_batches_tracked")}
    torch.save(state, files["model.pt"])
    export_onnx(model, files["model.onnx"])
    ops = check_onnx(files["model.onnx"], state)

    # Reference forward on the 2,000 shipped test images, from the files just written.
    reloaded = FashionCnn()
    missing, unexpected = reloaded.load_state_dict(torch.load(files["model.pt"]), strict=False)
    assert not unexpected and all(k.endswith(".num_batches_tracked") for k in missing), (missing, unexpected)
    reloaded.eval()
    sx = read_idx(SAMPLE_IMAGES, IMAGES_MAGIC)
    sy = torch.from_numpy(read_idx(SAMPLE_LABELS, LABELS_MAGIC).astype(np.int64))
    if not np.array_equal(sx, test_x[:len(sx)]):
        sys.exit(f"{SAMPLE_IMAGES}: not the first {len(sx)} test images")
    logits32, ce32, acc32 = evaluate(reloaded, to_input(sx, torch.float32), sy)
    reloaded64 = FashionCnn().double()
    reloaded64.load_state_dict({k: v.double() for k, v in state.items()}, strict=False)
    reloaded64.eval()
    logits64, ce64, acc64 = evaluate(reloaded64, to_input(sx, torch.float64), sy)

    reference = {
        "description": "Fashion-MNIST CNN sample made by tools/make-cnn-sample.py; see README.md",
        "torchVersion": torch.__version__,
        "numpyVersion": np.__version__,
        "parameters": int(sum(v.numel() for v in model.parameters())),
        "onnx": {"opset": OPSET, "input": "input (batch, 1, 28, 28)", "output": "logits (batch, 10)", "nodes": ops},
        "training": {"epochs": args.epochs, "batchSize": batch, "optimizer": "Adam", "learningRate": 2e-3,
                     "seed": 0, "trainImages": int(len(xtr))},
        "test": {"images": int(len(xte)), "accuracy": test_acc, "meanCrossEntropy": test_ce},
        "sample": {
            "images": SAMPLE_IMAGES + " (first " + str(len(sx)) + " test images)",
            "input": "pixel * 1/255 (computed in float64, then cast to the compute dtype), shape (N, 1, 28, 28)",
            "float32": {"meanCrossEntropy": ce32, "accuracy": acc32, "logitsFirst3": logits32[:3].double().tolist()},
            "float64": {"meanCrossEntropy": ce64, "accuracy": acc64, "logitsFirst3": logits64[:3].tolist()},
            "labelsFirst3": sy[:3].tolist(),
        },
        "sha256": {name: sha256(path) for name, path in files.items()},
    }
    with open(out("reference.json"), "w", newline="\n") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")

    print(f"sample ({len(sx)} test images): accuracy {acc32:.4f}, mean cross-entropy {ce32:.6f} (float32)")
    print(f"ONNX nodes: {' '.join(ops)}")
    for name, path in list(files.items()) + [("reference.json", out("reference.json"))]:
        print(f"  {path}: {os.path.getsize(path):,} bytes")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
