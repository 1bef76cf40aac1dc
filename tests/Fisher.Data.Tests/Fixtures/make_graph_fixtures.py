#!/usr/bin/python3
"""Makes the small residual CNN fixture of Fisher.Data.Tests with real PyTorch (graph architectures, GraphLoaderTests).

Run with Debian's python3-torch (1.13) from this folder:  /usr/bin/python3 make_graph_fixtures.py
Outputs (committed; the seed makes them reproducible): small_cnn.json (the architecture's graph form), small_cnn.pt
(torch.save of the state_dict, float64, with BatchNorm's num_batches_tracked), small_cnn_input.npy (5, 1, 6, 6) and
small_cnn_logits.npy (PyTorch's outputs in eval mode), and small_cnn.safetensors: the same state_dict as safetensors,
num_batches_tracked included as I64 (what safetensors.torch.save_file writes).
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        a = torch.tanh(self.bn1(self.conv1(x)))
        b = nn.functional.silu(self.bn2(self.conv2(a)) + a)
        return self.fc(torch.flatten(self.pool(b), 1))


ARCHITECTURE = {
    "inputShape": [1, 6, 6],
    "layers": [
        {"name": "conv1", "op": "conv2d", "padding": 1},
        {"name": "bn1", "op": "batchnorm"},
        {"name": "act1", "op": "activation", "activation": "tanh"},
        {"name": "conv2", "op": "conv2d", "padding": [1, 1], "bias": False},
        {"name": "bn2", "op": "batchnorm"},
        {"name": "sum", "op": "add", "inputs": ["bn2", "act1"]},
        {"name": "act2", "op": "activation", "activation": "silu"},
        {"name": "pool", "op": "adaptiveavgpool2d", "outputSize": 1},
        {"name": "flat", "op": "flatten"},
        {"name": "fc", "op": "linear"},
    ],
    "likelihood": "categorical",
}


def write_safetensors(file, tensors):
    """A minimal safetensors writer (the `safetensors` package may be absent) for float64 and int64 tensors."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.numpy().tobytes()  # little-endian on this machine
        header[name] = {"dtype": {torch.float64: "F64", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    torch.manual_seed(14)
    net = Net().double()
    with torch.no_grad():
        for bn in (net.bn1, net.bn2):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
            bn.num_batches_tracked.fill_(7)
    net.eval()
    torch.save(net.state_dict(), os.path.join(HERE, "small_cnn.pt"))
    write_safetensors(os.path.join(HERE, "small_cnn.safetensors"), net.state_dict())
    x = torch.randn(5, 1, 6, 6, dtype=torch.float64)
    np.save(os.path.join(HERE, "small_cnn_input.npy"), x.numpy())
    np.save(os.path.join(HERE, "small_cnn_logits.npy"), net(x).detach().numpy())
    with open(os.path.join(HERE, "small_cnn.json"), "w") as f:
        json.dump(ARCHITECTURE, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
